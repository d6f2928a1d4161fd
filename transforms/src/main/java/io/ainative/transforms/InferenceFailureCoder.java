package io.ainative.transforms;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Collections;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.StructuredCoder;

/**
 * Coder for {@link InferenceFailure}.
 *
 * <p>Format, version 1: one byte {@code 0x01}; the element in its coder's nested encoding; one
 * byte for the step (1 pre-process, 2 inference, 3 post-process); then error class, error message
 * and stack trace, each as a nested {@link StringUtf8Coder} string (var-int length, UTF-8 bytes).
 */
public final class InferenceFailureCoder<ElementT> extends StructuredCoder<InferenceFailure<ElementT>> {
  private static final long serialVersionUID = 1L;
  static final int VERSION = 1;
  private static final Coder<String> STRING = StringUtf8Coder.of();

  private final Coder<ElementT> elementCoder;

  private InferenceFailureCoder(Coder<ElementT> elementCoder) {
    this.elementCoder = elementCoder;
  }

  public static <ElementT> InferenceFailureCoder<ElementT> of(Coder<ElementT> elementCoder) {
    if (elementCoder == null) {
      throw new IllegalArgumentException("InferenceFailureCoder needs an element coder");
    }
    return new InferenceFailureCoder<>(elementCoder);
  }

  @Override
  public void encode(InferenceFailure<ElementT> value, OutputStream out) throws IOException {
    if (value == null) {
      throw new CoderException("cannot encode a null InferenceFailure");
    }
    out.write(VERSION);
    elementCoder.encode(value.getElement(), out);
    out.write(stepCode(value.getStep()));
    STRING.encode(value.getErrorClass(), out);
    STRING.encode(value.getErrorMessage(), out);
    STRING.encode(value.getStackTrace(), out);
  }

  @Override
  public InferenceFailure<ElementT> decode(InputStream in) throws IOException {
    int version = in.read();
    if (version != VERSION) {
      throw new CoderException(
          "InferenceFailure: unknown format version " + version + ", expected " + VERSION);
    }
    ElementT element = elementCoder.decode(in);
    InferenceStep step = stepOf(in.read());
    String errorClass = STRING.decode(in);
    String message = STRING.decode(in);
    String trace = STRING.decode(in);
    return InferenceFailure.of(element, step, errorClass, message, trace);
  }

  private static int stepCode(InferenceStep step) {
    switch (step) {
      case PRE_PROCESS:
        return 1;
      case INFERENCE:
        return 2;
      case POST_PROCESS:
        return 3;
      default:
        throw new IllegalStateException("no code for step " + step);
    }
  }

  private static InferenceStep stepOf(int code) throws CoderException {
    switch (code) {
      case 1:
        return InferenceStep.PRE_PROCESS;
      case 2:
        return InferenceStep.INFERENCE;
      case 3:
        return InferenceStep.POST_PROCESS;
      default:
        throw new CoderException("InferenceFailure: unknown step code " + code);
    }
  }

  @Override
  public List<? extends Coder<?>> getCoderArguments() {
    return Collections.singletonList(elementCoder);
  }

  @Override
  public void verifyDeterministic() throws NonDeterministicException {
    verifyDeterministic(this, "element coder must be deterministic", elementCoder);
  }
}
