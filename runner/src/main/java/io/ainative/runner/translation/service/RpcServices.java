package io.ainative.runner.translation.service;

import io.ainative.harness.InferenceServer;
import io.ainative.runner.service.discovery.AutoscaleSettings;
import io.ainative.harness.RequestObjectStore;
import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import io.ainative.runner.options.ServiceTls;
import io.ainative.runner.translation.types.Transcoder;
import io.ainative.runner.service.client.ClientConfig;
import io.ainative.runner.service.client.RpcClientOperatorFactory;
import io.ainative.runner.service.discovery.CallToken;
import io.ainative.runner.service.discovery.ServiceSpec;
import io.ainative.runner.service.discovery.TlsIdentity;
import io.ainative.runner.service.source.RpcServiceSource;
import io.ainative.runner.translation.types.Uncopied;
import io.ainative.transforms.InferenceFailureCoder;
import io.ainative.transforms.InferenceOptions;
import io.ainative.transforms.InferenceResultCoder;
import io.ainative.transforms.RunInferencePayload;
import java.io.IOException;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.runners.fnexecution.translation.PipelineTranslatorUtils;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.beam.sdk.util.construction.RehydratedComponents;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.DataStreamSource;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.DiscardingSink;
import org.apache.flink.streaming.api.transformations.SourceTransformation;
import org.apache.flink.util.OutputTag;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Plans and translates the inference services of a pipeline: one service per RunInference
 * transform, or one per shared-service name for the transforms that name it ({@link SharedService}),
 * with {@code maxInstances} RpcOperator tasks (of which {@code instances} start active) in their own slot-sharing group, and an async client
 * operator where each transform is.
 */
@Internal
public final class RpcServices {

  /** Elements per client subtask in flight at most, per full batch the service can hold. */
  private static final int CAPACITY_BATCHES_PER_INSTANCE = 4;

  private RpcServices() {}

  /**
   * The task slots the services of {@code pipeline} need beyond the data DAG's: every reserved
   * task of every service, parked or not ({@link #maxInstances}).
   */
  public static int slotsNeeded(RunnerApi.Pipeline pipeline, PipelineOptions pipelineOptions) {
    int slots = 0;
    Set<String> shared = new HashSet<>();
    for (RunnerApi.PTransform t : pipeline.getComponents().getTransformsMap().values()) {
      if (RunInferencePayload.URN.equals(t.getSpec().getUrn())) {
        RunInferencePayload payload = RunInferencePayload.fromFunctionSpec(t.getSpec());
        if (payload.getSharedService() == null || shared.add(payload.getSharedService())) {
          slots += maxInstances(t.getUniqueName(), payload.getOptions(), pipelineOptions);
        }
      }
    }
    return slots;
  }

  /**
   * The names a job's client can scale services by: each RunInference step's unique name, and each
   * shared service's name, mapped to the uid of a client operator of that service (the step's name;
   * for a shared service, its first step's).
   */
  public static Map<String, String> serviceClients(RunnerApi.Pipeline pipeline) {
    Map<String, String> byName = new java.util.TreeMap<>();
    Map<String, String> shared = new java.util.TreeMap<>();
    for (RunnerApi.PTransform t : pipeline.getComponents().getTransformsMap().values()) {
      if (RunInferencePayload.URN.equals(t.getSpec().getUrn())) {
        byName.put(t.getUniqueName(), t.getUniqueName());
        String group = RunInferencePayload.fromFunctionSpec(t.getSpec()).getSharedService();
        if (group != null) {
          shared.merge(group, t.getUniqueName(), (a, b) -> a.compareTo(b) <= 0 ? a : b);
        }
      }
    }
    shared.forEach(byName::putIfAbsent);
    return byName;
  }

  /**
   * The tasks a service reserves: {@code --maxInferenceInstances}, or the service's instances when
   * that is 0.
   *
   * @throws IllegalArgumentException when {@code --maxInferenceInstances} is below the instances of
   *     {@code step}, naming both
   */
  static int intraOpThreads(PipelineOptions pipelineOptions) {
    int threads = pipelineOptions.as(AiNativeFlinkPipelineOptions.class).getInferenceIntraOpThreads();
    if (threads < 0) {
      throw new IllegalArgumentException("Invalid --inferenceIntraOpThreads=" + threads + ": use a positive number of threads, or 0 for the default");
    }
    return threads;
  }

  /**
   * Where the job's clients put inputs that travel by reference ({@code --inferenceObjectStore}):
   * the given root; by default a directory under the temporary directory when the job runs on an
   * embedded cluster (every task shares this machine's files), and none elsewhere. One namespace
   * prefix per job submission, from the job name and the options' id.
   */
  /** One call token per job being translated (keyed by its environment), shared by all its services. */
  private static final Map<StreamExecutionEnvironment, String> JOB_TOKENS = new java.util.WeakHashMap<>();
  /** One TLS identity per job being translated, when its service calls use TLS. */
  private static final Map<StreamExecutionEnvironment, TlsIdentity> JOB_TLS = new java.util.WeakHashMap<>();

  /**
   * The TLS identity of the job {@code env} builds, per {@code --inferenceTls}; null for plaintext.
   *
   * @throws IllegalArgumentException naming the option when only one of the certificate and key
   *     files is given, or one cannot be read
   */
  static @Nullable TlsIdentity jobTls(PipelineOptions pipelineOptions, StreamExecutionEnvironment env) {
    AiNativeFlinkPipelineOptions o = pipelineOptions.as(AiNativeFlinkPipelineOptions.class);
    ServiceTls mode = o.getInferenceTls() == null ? ServiceTls.AUTO : o.getInferenceTls();
    boolean on = mode == ServiceTls.ON || (mode == ServiceTls.AUTO && !(env instanceof org.apache.flink.streaming.api.environment.LocalStreamEnvironment));
    if (!on) {
      return null;
    }
    String cert = o.getInferenceTlsCertFile() == null ? "" : o.getInferenceTlsCertFile().trim();
    String key = o.getInferenceTlsKeyFile() == null ? "" : o.getInferenceTlsKeyFile().trim();
    if (cert.isEmpty() != key.isEmpty()) {
      throw new IllegalArgumentException(
          "--inferenceTlsCertFile and --inferenceTlsKeyFile go together: "
              + (cert.isEmpty() ? "--inferenceTlsCertFile" : "--inferenceTlsKeyFile") + " is missing");
    }
    synchronized (JOB_TLS) {
      return JOB_TLS.computeIfAbsent(env, e -> cert.isEmpty() ? TlsIdentity.selfSigned() : TlsIdentity.fromFiles(cert, key));
    }
  }

  /** The call token of the job {@code env} builds: drawn at its first service, then the same for all. */
  static String jobToken(StreamExecutionEnvironment env) {
    synchronized (JOB_TOKENS) {
      return JOB_TOKENS.computeIfAbsent(env, e -> CallToken.generate());
    }
  }

  /**
   * {@code --inferenceMaxMessageBytes}.
   *
   * @throws IllegalArgumentException naming the option unless it is positive
   */
  static int maxMessageBytes(PipelineOptions pipelineOptions) {
    int bytes = pipelineOptions.as(AiNativeFlinkPipelineOptions.class).getInferenceMaxMessageBytes();
    if (bytes < 1) {
      throw new IllegalArgumentException("Invalid --inferenceMaxMessageBytes=" + bytes + ": use a positive number of bytes");
    }
    return bytes;
  }

  static @Nullable RequestObjectStore objectStore(PipelineOptions pipelineOptions, StreamExecutionEnvironment env) {
    AiNativeFlinkPipelineOptions o = pipelineOptions.as(AiNativeFlinkPipelineOptions.class);
    if (o.getInferenceOffloadThresholdBytes() < 0) {
      throw new IllegalArgumentException(
          "Invalid --inferenceOffloadThresholdBytes=" + o.getInferenceOffloadThresholdBytes() + ": use a number of bytes >= 0");
    }
    String root = o.getInferenceObjectStore() == null ? "" : o.getInferenceObjectStore().trim();
    if (root.equalsIgnoreCase("none")) {
      return null;
    }
    if (root.isEmpty()) {
      if (!(env instanceof org.apache.flink.streaming.api.environment.LocalStreamEnvironment)) {
        return null;
      }
      root = java.nio.file.Path.of(System.getProperty("java.io.tmpdir"), "ainative-objects").toString();
    }
    String job = (o.getJobName() == null ? "job" : o.getJobName()).replaceAll("[^A-Za-z0-9._-]", "_");
    return new RequestObjectStore(root, job + "-" + o.getOptionsId());
  }

  /**
   * How the service of RunInference {@code step} scales by load, or null when it does not.
   *
   * @throws IllegalArgumentException naming the step and the option out of range
   */
  static @Nullable AutoscaleSettings autoscale(String step, int maxInstances, PipelineOptions pipelineOptions) {
    AiNativeFlinkPipelineOptions o = pipelineOptions.as(AiNativeFlinkPipelineOptions.class);
    double target = o.getInferenceAutoscaleTargetOngoing();
    if (target == 0) {
      return null;
    }
    try {
      return new AutoscaleSettings(
          o.getInferenceAutoscaleMinInstances(),
          maxInstances,
          target,
          o.getInferenceAutoscaleUpscaleDelayMillis(),
          o.getInferenceAutoscaleDownscaleDelayMillis());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("RunInference '" + step + "': " + e.getMessage(), e);
    }
  }

  static int maxInstances(String step, InferenceOptions options, PipelineOptions pipelineOptions) {
    int max = pipelineOptions.as(AiNativeFlinkPipelineOptions.class).getMaxInferenceInstances();
    if (max == 0) {
      return options.instances();
    }
    if (max < options.instances()) {
      throw new IllegalArgumentException(
          "Invalid --maxInferenceInstances=" + max + ": RunInference '" + step + "' asks for "
              + options.instances() + " instances, and a service cannot reserve fewer tasks than it starts;"
              + " use at least " + options.instances() + ", or 0 for each service's own instance count");
    }
    return max;
  }

  /**
   * Adds the client operator after {@code input} and the service's sub-graph to {@code env}.
   * Returns the transform's output streams by PCollection id.
   *
   * @throws UnsupportedOperationException when the transform comes from an SDK whose model the
   *     runner cannot load (no Java model spec)
   */
  @SuppressWarnings({"unchecked", "rawtypes"})
  public static Map<String, DataStream<WindowedValue<Object>>> translate(
      RunnerApi.PTransform transform,
      RunnerApi.Components components,
      DataStream<WindowedValue<Object>> input,
      StreamExecutionEnvironment env,
      PipelineOptions pipelineOptions) {
    String name = transform.getUniqueName();
    RunInferencePayload payload = RunInferencePayload.fromFunctionSpec(transform.getSpec());
    if (!payload.hasJavaModelSpec()) {
      throw new UnsupportedOperationException(
          "RunInference '" + name + "' (model " + payload.getModelUri() + ") carries no Java model spec: "
              + "ainative serves RunInference only from Java pipelines so far");
    }
    InferenceOptions options = payload.getOptions();
    String inputId = transform.getInputsMap().values().iterator().next();
    ModelIo io = modelIo(transform, payload, components);
    String mainId = io.mainId;
    String failureId = io.failureId;

    // A service of its own, or one shared with the other transforms that name it.
    String shared = payload.getSharedService();
    List<String> clients = List.of(name);
    String serviceName = name;
    String serviceId = serviceId(name);
    boolean hostsService = true;
    if (shared != null) {
      SharedService group = SharedService.named(shared, components);
      String first = group.firstStep();
      RunnerApi.PTransform firstTransform = group.transform(first);
      ModelIo firstIo = first.equals(name) ? io : modelIo(firstTransform, RunInferencePayload.fromFunctionSpec(firstTransform.getSpec()), components);
      group.checkAgrees(name, firstIo.modelInputCoder, firstIo.modelOutputCoder, io.modelInputCoder, io.modelOutputCoder);
      clients = group.steps();
      serviceName = shared;
      serviceId = serviceId("shared:" + shared);
      hostsService = group.isHostedBy(name);
    }
    RequestObjectStore objectStore = objectStore(pipelineOptions, env);
    ServiceSpec service =
        new ServiceSpec(
                serviceId,
                payload.getJavaModelSpec(),
                io.modelInputCoder,
                io.modelOutputCoder,
                options,
                InferenceServer.Execution.valueOf(
                    pipelineOptions.as(AiNativeFlinkPipelineOptions.class).getInferenceExecution().name()),
                clients,
                maxInstances(name, options, pipelineOptions),
                drainTimeoutMillis(pipelineOptions),
                intraOpThreads(pipelineOptions))
            .withObjectStore(objectStore)
            .withMaxMessageBytes(maxMessageBytes(pipelineOptions))
            .withToken(jobToken(env))
            .withTls(jobTls(pipelineOptions, env));
    service = service.withAutoscale(autoscale(name, service.maxInstances(), pipelineOptions));

    Coder<WindowedValue<Object>> mainWire = PipelineTranslatorUtils.instantiateCoder(mainId, components);
    OutputTag<WindowedValue<Object>> failureTag = null;
    Coder<WindowedValue<Object>> failureWire = null;
    Coder<WindowedValue<Object>> failureSdk = null;
    if (failureId != null) {
      failureWire = PipelineTranslatorUtils.instantiateCoder(failureId, components);
      failureSdk = Transcoder.sdkCoder(failureId, components);
      failureTag = new OutputTag<>("failures", Uncopied.typeInfo(failureWire, pipelineOptions));
    }
    int asked = pipelineOptions.as(io.ainative.runner.options.AiNativeFlinkPipelineOptions.class).getInferenceClientCapacity();
    if (asked < 0) {
      throw new IllegalArgumentException("Invalid --inferenceClientCapacity=" + asked + ": use a positive number of elements, or 0 for the default");
    }
    int capacity =
        asked > 0
            ? asked
            : Math.max(2 * options.maxBatchSize(), CAPACITY_BATCHES_PER_INSTANCE * options.maxBatchSize() * options.instances());
    ClientConfig config =
        new ClientConfig(
            service,
            name,
            payload.getMetricsNamespace(),
            payload.isKeyed(),
            PipelineTranslatorUtils.instantiateCoder(inputId, components),
            Transcoder.sdkCoder(inputId, components),
            mainWire,
            Transcoder.sdkCoder(mainId, components),
            failureWire,
            failureSdk,
            failureTag,
            capacity,
            asked > 0 ? 0 : CAPACITY_BATCHES_PER_INSTANCE * options.maxBatchSize(),
            pipelineOptions.as(io.ainative.runner.options.AiNativeFlinkPipelineOptions.class).getInferenceWireEncoding(),
            pipelineOptions.as(io.ainative.runner.options.AiNativeFlinkPipelineOptions.class).getInferenceInProcess(),
            objectStore,
            pipelineOptions.as(AiNativeFlinkPipelineOptions.class).getInferenceOffloadThresholdBytes());

    SingleOutputStreamOperator<WindowedValue<Object>> client =
        input.transform(
            name + " (inference client)",
            Uncopied.typeInfo(mainWire, pipelineOptions),
            new RpcClientOperatorFactory(config, name));
    client.uid(name);

    if (hostsService) {
      addService(env, service, serviceName, shared == null ? name : "shared:" + shared);
    }

    Map<String, DataStream<WindowedValue<Object>>> outputs = new LinkedHashMap<>();
    outputs.put(mainId, client);
    if (failureId != null) {
      outputs.put(failureId, client.getSideOutput(failureTag));
    }
    return outputs;
  }

  /**
   * The service's sub-graph: a source that hosts the instances and a sink that discards its
   * (absent) records, chained into one task per instance, in their own slot-sharing group and with
   * no edge to the pipeline, so they form their own pipelined region.
   */
  static void addService(StreamExecutionEnvironment env, ServiceSpec service, String displayName, String uidPrefix) {
    // Flink 1.19 cannot change a vertex's parallelism while the job runs: reserve a task for every
    // instance the service may scale to; those beyond its instances start parked.
    int instances = service.maxInstances();
    String group = "ainative-service-" + service.serviceId();
    RpcServiceSource source = new RpcServiceSource(service);
    DataStreamSource<Void> instancesStream =
        env.fromSource(source, WatermarkStrategy.noWatermarks(), displayName + " (inference service)", Types.VOID);
    instancesStream.setParallelism(instances).setMaxParallelism(instances).slotSharingGroup(group).uid(uidPrefix + "/service");
    ((SourceTransformation<?, ?, ?>) instancesStream.getTransformation())
        .setCoordinatorListeningID(source.coordinatorListeningId());
    instancesStream
        .addSink(new DiscardingSink<>())
        .name(displayName + " (inference service end)")
        .setParallelism(instances)
        .slotSharingGroup(group)
        .uid(uidPrefix + "/service-end");
  }

  private static long drainTimeoutMillis(PipelineOptions pipelineOptions) {
    long millis = pipelineOptions.as(AiNativeFlinkPipelineOptions.class).getInferenceDrainTimeoutMillis();
    if (millis < 1) {
      throw new IllegalArgumentException("Invalid --inferenceDrainTimeoutMillis=" + millis + ": use a positive number of milliseconds");
    }
    return millis;
  }

  /** Which output is which, and the coders of the model's input and output. */
  private static final class ModelIo {
    final String mainId;
    final @Nullable String failureId;
    final Coder<?> modelInputCoder;
    final Coder<?> modelOutputCoder;

    ModelIo(String mainId, @Nullable String failureId, Coder<?> modelInputCoder, Coder<?> modelOutputCoder) {
      this.mainId = mainId;
      this.failureId = failureId;
      this.modelInputCoder = modelInputCoder;
      this.modelOutputCoder = modelOutputCoder;
    }
  }

  private static ModelIo modelIo(RunnerApi.PTransform transform, RunInferencePayload payload, RunnerApi.Components components) {
    String name = transform.getUniqueName();
    RehydratedComponents rehydrated = RehydratedComponents.forComponents(components);
    String inputId = transform.getInputsMap().values().iterator().next();
    // Which output is which: the failure output has InferenceFailureCoder.
    String mainId = null;
    String failureId = null;
    Coder<?> mainElementCoder = null;
    for (String output : transform.getOutputsMap().values()) {
      Coder<?> coder = elementCoder(rehydrated, components, output);
      if (coder instanceof InferenceFailureCoder) {
        failureId = output;
      } else {
        mainId = output;
        mainElementCoder = coder;
      }
    }
    if (mainId == null) {
      throw new IllegalArgumentException("RunInference '" + name + "' has no main output: " + transform.getOutputsMap());
    }
    if (payload.hasFailureOutput() != (failureId != null)) {
      throw new IllegalArgumentException(
          "RunInference '" + name + "': the payload says with_failures=" + payload.hasFailureOutput()
              + " but the outputs are " + transform.getOutputsMap());
    }
    Coder<?> inputElementCoder = elementCoder(rehydrated, components, inputId);
    Coder<?> modelInputCoder = inputElementCoder;
    Coder<?> resultCoder = mainElementCoder;
    if (payload.isKeyed()) {
      modelInputCoder = requireKv(name, "input", inputElementCoder).getValueCoder();
      resultCoder = requireKv(name, "output", mainElementCoder).getValueCoder();
    }
    if (!(resultCoder instanceof InferenceResultCoder)) {
      throw new IllegalArgumentException(
          "RunInference '" + name + "': its output coder must be InferenceResultCoder, is " + resultCoder);
    }
    return new ModelIo(mainId, failureId, modelInputCoder, ((InferenceResultCoder<?, ?>) resultCoder).getOutputCoder());
  }

  private static String serviceId(String stepName) {
    StringBuilder id = new StringBuilder();
    for (char c : stepName.toCharArray()) {
      id.append(Character.isLetterOrDigit(c) || c == '-' || c == '_' ? c : '_');
    }
    return id.toString() + "-" + Integer.toHexString(stepName.hashCode()).toLowerCase(Locale.ROOT);
  }

  private static Coder<?> elementCoder(RehydratedComponents rehydrated, RunnerApi.Components components, String pcollection) {
    try {
      return rehydrated.getCoder(components.getPcollectionsOrThrow(pcollection).getCoderId());
    } catch (IOException e) {
      throw new IllegalArgumentException("The coder of PCollection " + pcollection + " cannot be read", e);
    }
  }

  private static KvCoder<?, ?> requireKv(String name, String what, Coder<?> coder) {
    if (!(coder instanceof KvCoder)) {
      throw new IllegalArgumentException(
          "Keyed RunInference '" + name + "' needs KV elements with a KvCoder on its " + what + ", got " + coder);
    }
    return (KvCoder<?, ?>) coder;
  }
}
