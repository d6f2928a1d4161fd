package io.ainative.runner.service.discovery;

import io.ainative.harness.InferenceServer;
import io.ainative.harness.stage.StageServer;
import io.ainative.transforms.InferenceOptions;
import io.ainative.transforms.ModelSpec;
import java.io.Serializable;
import java.util.List;
import java.util.Objects;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.runners.fnexecution.provisioning.JobInfo;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.beam.vendor.grpc.v1p60p1.com.google.protobuf.InvalidProtocolBufferException;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.joda.time.Duration;

/**
 * What a served stage's client and instances share: the stage (an {@code ExecutableStagePayload}),
 * the job it belongs to (its SDK environments are started for it), the runner-side wire coders of
 * its input and output, and its settings. Immutable; travels with the job graph.
 *
 * <p>Discovery is the inference services' (the source's enumerator and the client's
 * coordinator), keyed by a {@link ServiceSpec}; a served stage has no Java model, so its
 * ServiceSpec names the stage in place of one ({@code beam-stage:<step>}, never loaded).
 */
@Internal
public final class StageSpec implements StageServer.Stage, Serializable {
  private static final long serialVersionUID = 1L;

  /** How long an instance that is stopped drains the requests it accepted. */
  public static final long DRAIN_MILLIS = 30_000;

  private final ServiceSpec service;
  private final String stepName;
  private final ServedStageSettings settings;
  private final byte[] stagePayload;
  private final JobInfo jobInfo;
  private final Coder<WindowedValue<Object>> inputWire;
  private final Coder<WindowedValue<Object>> outputWire;

  public StageSpec(
      String serviceId,
      String stepName,
      ServedStageSettings settings,
      RunnerApi.ExecutableStagePayload stage,
      JobInfo jobInfo,
      Coder<WindowedValue<Object>> inputWire,
      Coder<WindowedValue<Object>> outputWire,
      int maxMessageBytes,
      String token,
      @Nullable TlsIdentity tls) {
    this.stepName = Objects.requireNonNull(stepName, "stepName");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.stagePayload = stage.toByteArray();
    this.jobInfo = Objects.requireNonNull(jobInfo, "jobInfo");
    this.inputWire = Objects.requireNonNull(inputWire, "inputWire");
    this.outputWire = Objects.requireNonNull(outputWire, "outputWire");
    InferenceOptions options =
        InferenceOptions.defaults()
            .withInstances(settings.instances())
            .withBatchSize(1, settings.maxBatchSize())
            .withMaxBatchingDelay(Duration.millis(settings.maxBatchingDelayMillis()))
            .withRequestTimeout(Duration.millis(settings.timeoutMillis()));
    this.service =
        new ServiceSpec(
            serviceId,
            stageAsModel(stepName),
            inputWire,
            outputWire,
            options,
            InferenceServer.Execution.DIRECT,
            List.of(stepName),
            // Served stages do not scale yet: they reserve exactly their instances.
            settings.instances(),
            DRAIN_MILLIS,
            0)
        .withMaxMessageBytes(maxMessageBytes)
        .withToken(token)
        .withTls(tls);
  }

  private static ModelSpec<Object, Object> stageAsModel(String stepName) {
    return ModelSpec.<Object, Object>builder()
        .setModelUri("beam-stage:" + stepName)
        .setProcessing(StageSpec::neverPreProcessed, StageSpec::neverPostProcessed)
        .optValidateModelPath(false)
        .build();
  }

  private static ai.djl.ndarray.NDList neverPreProcessed(ai.djl.ndarray.NDManager manager, Object input) {
    throw new UnsupportedOperationException("a served stage has no Java model");
  }

  private static Object neverPostProcessed(ai.djl.ndarray.NDList output) {
    throw new UnsupportedOperationException("a served stage has no Java model");
  }

  /** The service, for discovery (its id, link, listening id and client list). */
  public ServiceSpec service() {
    return service;
  }

  /** The served composite's unique name. */
  @Override
  public String stepName() {
    return stepName;
  }

  public ServedStageSettings settings() {
    return settings;
  }

  @Override
  public RunnerApi.ExecutableStagePayload stage() {
    try {
      return RunnerApi.ExecutableStagePayload.parseFrom(stagePayload);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(stepName + ": unreadable stage payload", e);
    }
  }

  @Override
  public JobInfo jobInfo() {
    return jobInfo;
  }

  /** The runner-side wire coder of the stage's input PCollection: how requests carry elements. */
  @Override
  public Coder<WindowedValue<Object>> inputWire() {
    return inputWire;
  }

  /** The runner-side wire coder of the stage's output PCollection: how responses carry outputs. */
  @Override
  public Coder<WindowedValue<Object>> outputWire() {
    return outputWire;
  }

  @Override
  public String toString() {
    return "served stage '" + stepName + "' (" + settings.instances() + " instance(s))";
  }
}
