package io.ainative.transforms;

/**
 * An element failed and RunInference has no failure output ({@code withFailures()} not used), so
 * the bundle fails. The message names the step, the element and the model.
 */
public class InferenceFailedException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final InferenceStep step;

  public InferenceFailedException(InferenceStep step, String message, Throwable cause) {
    super(message, cause);
    this.step = step;
  }

  public InferenceStep getStep() {
    return step;
  }
}
