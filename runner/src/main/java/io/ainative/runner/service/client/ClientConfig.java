package io.ainative.runner.service.client;

import io.ainative.harness.RequestObjectStore;
import io.ainative.runner.options.WireEncoding;
import io.ainative.runner.service.discovery.ServiceSpec;
import java.io.Serializable;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.flink.util.OutputTag;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * How one RunInference client operator works: its service, the coders that translate between
 * the runner's wire form of its PCollections (what flows on Flink edges) and the SDK's values, and
 * its outputs. Immutable; travels with the job graph.
 */
@Internal
public final class ClientConfig implements Serializable {
  private static final long serialVersionUID = 1L;

  final ServiceSpec service;
  final String stepName;
  final String metricsNamespace;
  final boolean keyed;
  /** Input: the runner's wire coder and the SDK's coder of the same PCollection. */
  final Coder<WindowedValue<Object>> inputWire;
  final Coder<WindowedValue<Object>> inputSdk;
  final Coder<WindowedValue<Object>> mainWire;
  final Coder<WindowedValue<Object>> mainSdk;
  final @Nullable Coder<WindowedValue<Object>> failureWire;
  final @Nullable Coder<WindowedValue<Object>> failureSdk;
  final @Nullable OutputTag<WindowedValue<Object>> failureTag;
  /**
   * Elements in flight (buffered, sent, or waiting to be emitted) per subtask before it blocks: at
   * least this many, and {@link #capacityPerInstance} per routable instance when that is more.
   */
  final int capacity;
  /**
   * How much capacity each routable instance adds, so that a service scaled up is kept busy; 0 when
   * the user fixed the capacity ({@code --inferenceClientCapacity}).
   */
  final int capacityPerInstance;
  /** How batches travel to the service ({@code --inferenceWireEncoding}). */
  final WireEncoding wireEncoding;
  /** Whether an instance in the client's JVM is reached in process ({@code --inferenceInProcess}). */
  final boolean inProcess;
  /** Where inputs above {@link #offloadThresholdBytes} go instead of into requests; null: none do. */
  final @Nullable RequestObjectStore objectStore;
  final long offloadThresholdBytes;

  public ClientConfig(
      ServiceSpec service,
      String stepName,
      String metricsNamespace,
      boolean keyed,
      Coder<WindowedValue<Object>> inputWire,
      Coder<WindowedValue<Object>> inputSdk,
      Coder<WindowedValue<Object>> mainWire,
      Coder<WindowedValue<Object>> mainSdk,
      @Nullable Coder<WindowedValue<Object>> failureWire,
      @Nullable Coder<WindowedValue<Object>> failureSdk,
      @Nullable OutputTag<WindowedValue<Object>> failureTag,
      int capacity,
      int capacityPerInstance,
      WireEncoding wireEncoding,
      boolean inProcess,
      @Nullable RequestObjectStore objectStore,
      long offloadThresholdBytes) {
    this.service = service;
    this.stepName = stepName;
    this.metricsNamespace = metricsNamespace;
    this.keyed = keyed;
    this.inputWire = inputWire;
    this.inputSdk = inputSdk;
    this.mainWire = mainWire;
    this.mainSdk = mainSdk;
    this.failureWire = failureWire;
    this.failureSdk = failureSdk;
    this.failureTag = failureTag;
    this.capacity = capacity;
    this.capacityPerInstance = capacityPerInstance;
    this.wireEncoding = wireEncoding;
    this.inProcess = inProcess;
    this.objectStore = objectStore;
    this.offloadThresholdBytes = offloadThresholdBytes;
  }
}
