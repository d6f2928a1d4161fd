package io.ainative.runner.options;

/**
 * Where an inference service runs its model copies ({@code --inferenceExecution}). Results are the
 * same either way.
 */
public enum InferenceExecution {
  /** In the service's task, called directly by its batcher threads. */
  DIRECT,
  /**
   * In Beam's Java SDK harness inside the service's task, one Fn API bundle per batch whose element
   * refers to the batch: the path a model in another SDK's harness would take.
   */
  FN_API_HARNESS
}
