package io.ainative.runner.service.discovery;

import io.ainative.harness.InferenceServer;
import io.ainative.harness.RequestObjectStore;
import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import io.ainative.transforms.InferenceOptions;
import io.ainative.transforms.ModelSpec;
import java.io.Serializable;
import java.util.List;
import java.util.Objects;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.beam.sdk.coders.Coder;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * What one inference service serves: the model, the coders of its requests and responses, and the
 * batching options. Immutable; travels with the job graph to the service's tasks.
 */
@Internal
public final class ServiceSpec implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String serviceId;
  private final ModelSpec<?, ?> model;
  private final Coder<?> inputCoder;
  private final Coder<?> outputCoder;
  private final InferenceOptions options;
  private final InferenceServer.Execution execution;
  private final List<String> clients;
  private final int maxInstances;
  private final long drainTimeoutMillis;
  private final int intraOpThreads;
  /** Where elements that travel by reference lie; null when none do. */
  private @Nullable RequestObjectStore objectStore;
  /** What clients show on every call to an instance ({@link CallToken}); never printed. */
  private String token = CallToken.generate();
  /** What instances present over TLS and clients trust; null: plaintext. */
  private @Nullable TlsIdentity tls;
  /** How the service scales itself by load; null: only when asked. */
  private @Nullable AutoscaleSettings autoscale;
  /** The largest request an instance accepts. */
  private int maxMessageBytes = AiNativeFlinkPipelineOptions.DEFAULT_INFERENCE_MAX_MESSAGE_BYTES;

  /** A service that cannot scale beyond its instances, with the default drain bound (30 s). */
  public ServiceSpec(
      String serviceId,
      ModelSpec<?, ?> model,
      Coder<?> inputCoder,
      Coder<?> outputCoder,
      InferenceOptions options,
      InferenceServer.Execution execution,
      List<String> clients) {
    this(serviceId, model, inputCoder, outputCoder, options, execution, clients, options.instances(), 30_000L, 0);
  }

  /**
   * @param clients the step names of the RunInference transforms this service serves: one, or
   *     several sharing it; the service finishes once every one of them has finished
   * @param maxInstances the tasks the service reserves, at least {@code options.instances()}: the
   *     most instances it can be scaled to while the job runs
   * @param drainTimeoutMillis how long a parked or finishing instance may take to answer the
   *     requests it accepted, at least 1
   * @param intraOpThreads PyTorch intra-op threads of each model copy, or 0 for the host's default
   *     (cores / model copies)
   */
  public ServiceSpec(
      String serviceId,
      ModelSpec<?, ?> model,
      Coder<?> inputCoder,
      Coder<?> outputCoder,
      InferenceOptions options,
      InferenceServer.Execution execution,
      List<String> clients,
      int maxInstances,
      long drainTimeoutMillis,
      int intraOpThreads) {
    this.serviceId = Objects.requireNonNull(serviceId, "serviceId");
    this.model = Objects.requireNonNull(model, "model");
    this.inputCoder = Objects.requireNonNull(inputCoder, "inputCoder");
    this.outputCoder = Objects.requireNonNull(outputCoder, "outputCoder");
    this.options = Objects.requireNonNull(options, "options");
    this.execution = Objects.requireNonNull(execution, "execution");
    if (intraOpThreads < 0) {
      throw new IllegalArgumentException(serviceId + ": intraOpThreads must be 0 (the default) or positive, was " + intraOpThreads);
    }
    this.intraOpThreads = intraOpThreads;
    this.clients = List.copyOf(clients);
    if (this.clients.isEmpty()) {
      throw new IllegalArgumentException(serviceId + ": a service needs at least one client");
    }
    if (maxInstances < options.instances()) {
      throw new IllegalArgumentException(
          serviceId + ": maxInstances (" + maxInstances + ") must not be below its instances (" + options.instances() + ")");
    }
    if (drainTimeoutMillis < 1) {
      throw new IllegalArgumentException(serviceId + ": the drain timeout must be at least 1 ms, was " + drainTimeoutMillis);
    }
    this.maxInstances = maxInstances;
    this.drainTimeoutMillis = drainTimeoutMillis;
  }

  /** This service, reading the elements its clients send by reference from {@code store}. */
  public ServiceSpec withObjectStore(@Nullable RequestObjectStore store) {
    ServiceSpec copy = copy();
    copy.objectStore = store;
    return copy;
  }

  /**
   * This service, whose instances refuse a request larger than {@code bytes} ({@code
   * RESOURCE_EXHAUSTED}, naming the limit) without reading it.
   *
   * @throws IllegalArgumentException unless {@code bytes} is positive
   */
  public ServiceSpec withMaxMessageBytes(int bytes) {
    if (bytes < 1) {
      throw new IllegalArgumentException(serviceId + ": the largest request must be at least 1 byte, was " + bytes);
    }
    ServiceSpec copy = copy();
    copy.maxMessageBytes = bytes;
    return copy;
  }

  private ServiceSpec copy() {
    ServiceSpec copy =
        new ServiceSpec(serviceId, model, inputCoder, outputCoder, options, execution, clients, maxInstances, drainTimeoutMillis, intraOpThreads);
    copy.objectStore = objectStore;
    copy.maxMessageBytes = maxMessageBytes;
    copy.token = token;
    copy.tls = tls;
    copy.autoscale = autoscale;
    return copy;
  }

  /** This service, scaling itself by load with {@code settings}; null: only when asked. */
  public ServiceSpec withAutoscale(@Nullable AutoscaleSettings settings) {
    ServiceSpec copy = copy();
    copy.autoscale = settings;
    return copy;
  }

  /** How the service scales itself by load, or null when it scales only when asked. */
  public @Nullable AutoscaleSettings autoscale() {
    return autoscale;
  }

  /** This service, whose calls between JVMs use TLS with {@code identity}; null: plaintext. */
  public ServiceSpec withTls(@Nullable TlsIdentity identity) {
    ServiceSpec copy = copy();
    copy.tls = identity;
    return copy;
  }

  /** What instances present over TLS, or null for plaintext. */
  public @Nullable TlsIdentity tls() {
    return tls;
  }

  /** This service, whose clients and instances use {@code token} ({@link CallToken}) in place of its own. */
  public ServiceSpec withToken(String token) {
    if (token == null || token.isEmpty()) {
      throw new IllegalArgumentException(serviceId + ": a call token must not be empty");
    }
    ServiceSpec copy = copy();
    copy.token = token;
    return copy;
  }

  /** The secret clients show on every call to the service's instances. */
  public String token() {
    return token;
  }

  /** The largest request (bytes) an instance accepts. */
  public int maxMessageBytes() {
    return maxMessageBytes;
  }

  /** Where elements that travel by reference lie, or null when none do. */
  public @Nullable RequestObjectStore objectStore() {
    return objectStore;
  }

  /** Unique within the job; names the service's vertices and its coordinator link. */
  public String serviceId() {
    return serviceId;
  }

  public ModelSpec<?, ?> model() {
    return model;
  }

  /** The coder of one model input, as the client encodes it into a request. */
  public Coder<?> inputCoder() {
    return inputCoder;
  }

  /** The coder of one model output, as the service encodes it into a response. */
  public Coder<?> outputCoder() {
    return outputCoder;
  }

  public InferenceOptions options() {
    return options;
  }

  /** PyTorch intra-op threads per model copy ({@code --inferenceIntraOpThreads}); 0: the default. */
  public int intraOpThreads() {
    return intraOpThreads;
  }

  /** Where the instances run their model copies ({@code --inferenceExecution}). */
  public InferenceServer.Execution execution() {
    return execution;
  }

  /** The step names of the transforms this service serves. */
  public List<String> clients() {
    return clients;
  }

  /** The instances the service loads at the start: {@code options().instances()}. */
  public int instances() {
    return options.instances();
  }

  /** The tasks the service reserves: the most instances it can run at once. */
  public int maxInstances() {
    return maxInstances;
  }

  /** How long a parked or finishing instance may take to answer the requests it accepted. */
  public long drainTimeoutMillis() {
    return drainTimeoutMillis;
  }

  /** The key of this service's {@link ServiceLink} in Flink's {@code CoordinatorStore}. */
  public String linkKey() {
    return "ainative.rpc.link/" + serviceId;
  }

  /** The coordinator-listening id of the service source: clients attach to it by this id. */
  public String listeningId() {
    return "ainative.rpc.service/" + serviceId;
  }

  @Override
  public String toString() {
    return "service " + serviceId + " (" + model.modelUri() + ", " + options.instances() + " instance(s), at most " + maxInstances + ")";
  }
}
