package io.ainative.harness.fnapi;

/**
 * A bundle of the inference stage failed in the SDK harness as a whole: the model threw an {@link
 * Error} (a native crash surfaces as one) or the harness died. Element failures never end here
 * (they are outcomes), so this means the model copy is gone; an {@link Error}, so the service
 * treats it as broken, as it does a model copy that throws one in-process.
 */
public final class HarnessFailure extends Error {
  private static final long serialVersionUID = 1L;

  HarnessFailure(String message, Throwable cause) {
    super(message, cause);
  }
}
