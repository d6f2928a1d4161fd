package io.ainative.transforms;

/** The step of inference at which an element failed. */
public enum InferenceStep {
  /** Converting the input to tensors (the pre-processing function or translator input side). */
  PRE_PROCESS("pre-process"),
  /** Running the model on a batch that holds the element. */
  INFERENCE("inference"),
  /** Converting the model output to the result (post-processing or translator output side). */
  POST_PROCESS("post-process");

  private final String label;

  InferenceStep(String label) {
    this.label = label;
  }

  /** The name used in messages and in the failure output: pre-process, inference, post-process. */
  public String label() {
    return label;
  }
}
