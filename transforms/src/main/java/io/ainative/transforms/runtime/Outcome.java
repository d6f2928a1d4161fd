package io.ainative.transforms.runtime;

import io.ainative.transforms.InferenceStep;
import java.util.Objects;
import org.apache.beam.sdk.annotations.Internal;
import org.checkerframework.checker.nullness.qual.Nullable;

/** The result of inference for one element: an output, or the step that failed and why. */
@Internal
public final class Outcome<OutputT> {
  private final @Nullable OutputT output;
  private final @Nullable InferenceStep failedStep;
  private final @Nullable Throwable error;

  private Outcome(@Nullable OutputT output, @Nullable InferenceStep step, @Nullable Throwable e) {
    this.output = output;
    this.failedStep = step;
    this.error = e;
  }

  public static <OutputT> Outcome<OutputT> success(OutputT output) {
    return new Outcome<>(output, null, null);
  }

  public static <OutputT> Outcome<OutputT> failure(InferenceStep step, Throwable error) {
    return new Outcome<>(null, Objects.requireNonNull(step), Objects.requireNonNull(error));
  }

  public boolean isSuccess() {
    return failedStep == null;
  }

  /** The output; only for a success. */
  public OutputT output() {
    if (!isSuccess()) {
      throw new IllegalStateException("no output: failed at " + failedStep.label(), error);
    }
    return output;
  }

  /** The failed step; only for a failure. */
  public InferenceStep failedStep() {
    if (isSuccess()) {
      throw new IllegalStateException("not a failure");
    }
    return failedStep;
  }

  /** The error; only for a failure. */
  public Throwable error() {
    if (isSuccess()) {
      throw new IllegalStateException("not a failure");
    }
    return error;
  }

  @Override
  public String toString() {
    return isSuccess() ? "Outcome{" + output + "}" : "Outcome{failed at " + failedStep.label()
        + ": " + error + "}";
  }
}
