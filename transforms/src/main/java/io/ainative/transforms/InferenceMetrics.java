package io.ainative.transforms;

/**
 * The metric names RunInference reports, the same names Beam Python's RunInference uses, so
 * dashboards carry over. All are reported in the namespace given by {@code
 * RunInference.withMetricsNamespace} ({@value #DEFAULT_NAMESPACE} by default).
 */
public final class InferenceMetrics {
  private InferenceMetrics() {}

  public static final String DEFAULT_NAMESPACE = "RunInference";

  /** Counter: elements the model produced an output for. */
  public static final String NUM_INFERENCES = "num_inferences";

  /** Distribution: elements per model call. */
  public static final String INFERENCE_REQUEST_BATCH_SIZE = "inference_request_batch_size";

  /** Distribution: microseconds per model call (batching, forward pass, un-batching). */
  public static final String INFERENCE_BATCH_LATENCY_MICRO_SECS =
      "inference_batch_latency_micro_secs";

  /** Distribution: milliseconds to load a model (once per model copy and JVM). */
  public static final String LOAD_MODEL_LATENCY_MILLI_SECS = "load_model_latency_milli_secs";

  /** Distribution: bytes of the model's parameters. */
  public static final String MODEL_BYTE_SIZE = "model_byte_size";

  /** Counter: model calls that failed (each failed call of a split batch counts once). */
  public static final String FAILED_BATCHES_COUNTER = "failed_batches_counter";
}
