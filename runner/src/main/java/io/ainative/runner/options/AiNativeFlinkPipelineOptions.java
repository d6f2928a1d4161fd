package io.ainative.runner.options;

import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PortablePipelineOptions;

/**
 * Options of {@link AiNativeFlinkRunner}.
 *
 * <p>They extend Beam's {@link FlinkPipelineOptions} (so {@code --flinkMaster}, {@code
 * --parallelism}, {@code --checkpointingInterval}, {@code --flinkConfDir}, {@code --filesToStage}
 * and the other Flink runner options mean what they mean there). The SDK environment comes from
 * {@link PortablePipelineOptions#getDefaultEnvironmentType()}, which the runner defaults to {@code
 * EMBEDDED}: the Java SDK harness in-process. (This interface does not extend {@link
 * PortablePipelineOptions}, whose required {@code --jobEndpoint} means nothing here.) Only what
 * ainative adds is declared here.
 *
 * <p>{@code --flinkMaster} accepts {@code [local]} (an embedded MiniCluster), {@code [auto]} (the
 * cluster of the {@code flink run} context if there is one, otherwise {@code [local]}), and {@code
 * host:port} or {@code http(s)://host:port} (the REST endpoint of a Flink cluster).
 */
public interface AiNativeFlinkPipelineOptions extends FlinkPipelineOptions {
  /** The default of {@code --inferenceMaxMessageBytes}: 256 MiB. */
  int DEFAULT_INFERENCE_MAX_MESSAGE_BYTES = 256 << 20;

  @Description(
      "Whether the runner executes the fused stages of a Java pipeline itself, in its task threads,"
          + " where it can (Java ParDos without state, timers, side inputs or bundle finalization,"
          + " bounded reads, window assignment, flatten, lifted combines): their elements then skip"
          + " the Fn API's encoding and data plane. Other stages, and every stage with it off, run"
          + " in the SDK harness. Results are the same either way.")
  @Default.Boolean(true)
  boolean getInProcessJavaStages();

  void setInProcessJavaStages(boolean inProcess);

  @Description(
      "Task slots of the embedded MiniCluster (--flinkMaster=[local]). 0 sizes it for the"
          + " pipeline: its parallelism plus the slots of every inference service. Ignored on a"
          + " remote cluster, whose slots are its own.")
  @Default.Integer(0)
  int getLocalTaskSlots();

  void setLocalTaskSlots(int slots);

  @Description(
      "Elements each subtask of a RunInference client takes in (buffered, in flight, or waiting to"
          + " be emitted) before it pushes back on its input, like the capacity of Flink's async"
          + " I/O. 0 chooses max(2, 4 x instances) x the maximum batch size, and 4 x the maximum"
          + " batch size per routable instance while a scaled-up service has more. Every one of"
          + " them is in the checkpoint and sent again after a restore.")
  @Default.Integer(0)
  int getInferenceClientCapacity();

  void setInferenceClientCapacity(int capacity);

  @Description(
      "PyTorch intra-op threads of each model copy in an inference service; 0 (default): the"
          + " machine's cores divided by the copies per instance. In a pipeline the copies' threads"
          + " share the cores with everything else, and idle intra-op threads then spin and waste"
          + " CPU: on CPU prefer several copies of 1 thread each over one copy with many threads"
          + " .")
  @Default.Integer(0)
  int getInferenceIntraOpThreads();

  void setInferenceIntraOpThreads(int threads);

  @Description(
      "Where an inference service runs its model copies: DIRECT (called by the service's batcher"
          + " threads) or FN_API_HARNESS (in Beam's Java SDK harness inside the service's task, one"
          + " Fn API bundle per batch, whose element refers to the batch). Results are the same;"
          + " FN_API_HARNESS adds a bundle's round trips to every batch.")
  @Default.Enum("DIRECT")
  InferenceExecution getInferenceExecution();

  void setInferenceExecution(InferenceExecution execution);

  @Description(
      "How an inference client sends its batches to the service: ARROW_IPC (one Arrow record"
          + " batch per request, typed columns for schema'd, multimodal and primitive types, coder"
          + " bytes in a binary column otherwise), BEAM_CODER (each element encoded with the"
          + " model's input coder), or AUTO (ARROW_IPC when the model input has typed columns,"
          + " else BEAM_CODER). Results are the same.")
  @Default.Enum("AUTO")
  io.ainative.runner.options.WireEncoding getInferenceWireEncoding();

  void setInferenceWireEncoding(io.ainative.runner.options.WireEncoding encoding);

  @Description(
      "Where inference inputs larger than --inferenceOffloadThresholdBytes are written, so that"
          + " requests carry a reference and the service reads the input itself: a directory or"
          + " Beam file system URI that every TaskManager can reach (a shared file system,"
          + " s3://..., gs://...). Empty: a directory under the JVM's temporary directory on the"
          + " embedded cluster, and no offloading on a remote cluster. 'none': no offloading.")
  @Default.String("")
  String getInferenceObjectStore();

  void setInferenceObjectStore(String value);

  @Description(
      "Whether calls to inference service instances over TCP use TLS: AUTO (on a remote cluster;"
          + " plaintext on the embedded cluster, whose services listen on loopback), ON or OFF."
          + " Instances present --inferenceTlsCertFile, or else a self-signed certificate drawn for"
          + " the job at submission, which the job's clients alone trust.")
  @Default.Enum("AUTO")
  ServiceTls getInferenceTls();

  void setInferenceTls(ServiceTls value);

  @Description(
      "A PEM certificate (chain) for the inference service instances to present over TLS, read at"
          + " submission, with --inferenceTlsKeyFile; clients check it against each instance's host."
          + " Empty: a self-signed certificate per job.")
  @Default.String("")
  String getInferenceTlsCertFile();

  void setInferenceTlsCertFile(String value);

  @Description("The PKCS#8 PEM private key of --inferenceTlsCertFile, read at submission.")
  @Default.String("")
  String getInferenceTlsKeyFile();

  void setInferenceTlsKeyFile(String value);

  @Description(
      "The largest request, in bytes, an inference service instance (RunInference or served stage)"
          + " accepts: a larger one is refused with RESOURCE_EXHAUSTED before it is read. Large"
          + " inputs travel by reference instead (--inferenceObjectStore).")
  @Default.Integer(DEFAULT_INFERENCE_MAX_MESSAGE_BYTES)
  int getInferenceMaxMessageBytes();

  void setInferenceMaxMessageBytes(int value);

  @Description(
      "Inference inputs whose encoding is larger than this many bytes travel by reference through"
          + " --inferenceObjectStore instead of inside requests (images, tensors, byte arrays, and"
          + " any input a client sends coder-encoded).")
  @Default.Long(1L << 20)
  long getInferenceOffloadThresholdBytes();

  void setInferenceOffloadThresholdBytes(long value);

  @Description(
      "Whether an inference client reaches a service instance that runs in its own JVM (the"
          + " embedded cluster, or the same TaskManager) through gRPC's in-process transport, which"
          + " hands requests and answers over as objects, instead of over loopback TCP. Instances"
          + " elsewhere are always reached by their port. The service stays its own task and region"
          + " either way.")
  @Default.Boolean(true)
  boolean getInferenceInProcess();

  void setInferenceInProcess(boolean inProcess);

  @Description(
      "The most instances each inference service can scale to while the job runs"
          + " (AiNativePipelineResult#scaleService). Flink 1.19 cannot change a vertex's parallelism"
          + " without restarting the job, so every service reserves this many tasks (and task"
          + " slots); the first `instances` of them load their model, the others start parked. 0:"
          + " each service's own instance count (no room to scale up). Must not be below the"
          + " instances of any RunInference of the pipeline.")
  @Default.Integer(0)
  int getMaxInferenceInstances();

  void setMaxInferenceInstances(int maxInstances);

  @Description(
      "How long, in milliseconds, an inference instance that is parked (scaled down) or finished"
          + " may take to answer the requests it accepted before it stops its server anyway;"
          + " clients send the requests still unanswered then to another instance.")
  @Default.Long(30_000L)
  long getInferenceDrainTimeoutMillis();

  void setInferenceDrainTimeoutMillis(long millis);

  @Description(
      "Scale each inference service by load: the elements (queued or in a running batch) each active"
          + " instance should hold. The service then runs between --inferenceAutoscaleMinInstances and"
          + " its maxInstances (--maxInferenceInstances). 0: no scaling by load (scaleService still works).")
  @Default.Double(0)
  double getInferenceAutoscaleTargetOngoing();

  void setInferenceAutoscaleTargetOngoing(double elements);

  @Description("The fewest instances a service scaling by load runs (at least 1).")
  @Default.Integer(1)
  int getInferenceAutoscaleMinInstances();

  void setInferenceAutoscaleMinInstances(int instances);

  @Description(
      "How long, in milliseconds, the load must ask for more instances before a service scaling by load"
          + " adds them.")
  @Default.Long(5_000L)
  long getInferenceAutoscaleUpscaleDelayMillis();

  void setInferenceAutoscaleUpscaleDelayMillis(long millis);

  @Description(
      "How long, in milliseconds, the load must ask for fewer instances before a service scaling by load"
          + " parks some.")
  @Default.Long(60_000L)
  long getInferenceAutoscaleDownscaleDelayMillis();

  void setInferenceAutoscaleDownscaleDelayMillis(long millis);

  @Description(
      "How long, in milliseconds, the runner waits for the Flink REST endpoint named by"
          + " --flinkMaster to answer before it refuses to submit the job.")
  @Default.Long(5_000L)
  long getFlinkMasterCheckTimeoutMillis();

  void setFlinkMasterCheckTimeoutMillis(long millis);
}
