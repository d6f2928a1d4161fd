package io.ainative.transforms;

import java.util.Objects;

/**
 * An input and the prediction the model made for it. Immutable; equality is by value of both
 * parts.
 */
public final class InferenceResult<InputT, OutputT> {
  private final InputT input;
  private final OutputT output;

  private InferenceResult(InputT input, OutputT output) {
    this.input = input;
    this.output = output;
  }

  public static <InputT, OutputT> InferenceResult<InputT, OutputT> of(
      InputT input, OutputT output) {
    return new InferenceResult<>(input, output);
  }

  public InputT getInput() {
    return input;
  }

  public OutputT getOutput() {
    return output;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof InferenceResult)) {
      return false;
    }
    InferenceResult<?, ?> that = (InferenceResult<?, ?>) o;
    return Objects.deepEquals(input, that.input) && Objects.deepEquals(output, that.output);
  }

  @Override
  public int hashCode() {
    return Objects.hash(input, output);
  }

  @Override
  public String toString() {
    return "InferenceResult{input=" + input + ", output=" + output + "}";
  }
}
