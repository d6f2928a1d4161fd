package io.ainative.transforms;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.coders.StructuredCoder;

/**
 * Coder for {@link InferenceResult}.
 *
 * <p>Format, version 1: one byte {@code 0x01}, then the input in its coder's nested encoding, then
 * the output in its coder's nested encoding. A change of layout takes a new version byte; the
 * golden bytes in the tests pin this one.
 */
public final class InferenceResultCoder<InputT, OutputT>
    extends StructuredCoder<InferenceResult<InputT, OutputT>> {
  private static final long serialVersionUID = 1L;
  /** The format version this coder writes first (see the class comment). */
  public static final int VERSION = 1;

  private final Coder<InputT> inputCoder;
  private final Coder<OutputT> outputCoder;

  private InferenceResultCoder(Coder<InputT> inputCoder, Coder<OutputT> outputCoder) {
    this.inputCoder = inputCoder;
    this.outputCoder = outputCoder;
  }

  public static <InputT, OutputT> InferenceResultCoder<InputT, OutputT> of(
      Coder<InputT> inputCoder, Coder<OutputT> outputCoder) {
    if (inputCoder == null || outputCoder == null) {
      throw new IllegalArgumentException("InferenceResultCoder needs an input and an output coder");
    }
    return new InferenceResultCoder<>(inputCoder, outputCoder);
  }

  public Coder<InputT> getInputCoder() {
    return inputCoder;
  }

  public Coder<OutputT> getOutputCoder() {
    return outputCoder;
  }

  @Override
  public void encode(InferenceResult<InputT, OutputT> value, OutputStream out)
      throws IOException {
    if (value == null) {
      throw new CoderException("cannot encode a null InferenceResult");
    }
    out.write(VERSION);
    inputCoder.encode(value.getInput(), out);
    outputCoder.encode(value.getOutput(), out);
  }

  @Override
  public InferenceResult<InputT, OutputT> decode(InputStream in) throws IOException {
    int version = in.read();
    if (version != VERSION) {
      throw new CoderException(
          "InferenceResult: unknown format version " + version + ", expected " + VERSION);
    }
    InputT input = inputCoder.decode(in);
    OutputT output = outputCoder.decode(in);
    return InferenceResult.of(input, output);
  }

  @Override
  public List<? extends Coder<?>> getCoderArguments() {
    return Arrays.asList(inputCoder, outputCoder);
  }

  @Override
  public void verifyDeterministic() throws NonDeterministicException {
    verifyDeterministic(this, "input coder must be deterministic", inputCoder);
    verifyDeterministic(this, "output coder must be deterministic", outputCoder);
  }

  @Override
  public boolean consistentWithEquals() {
    return inputCoder.consistentWithEquals() && outputCoder.consistentWithEquals();
  }

  @Override
  public Object structuralValue(InferenceResult<InputT, OutputT> value) {
    if (consistentWithEquals()) {
      return value;
    }
    return InferenceResult.of(
        inputCoder.structuralValue(value.getInput()),
        outputCoder.structuralValue(value.getOutput()));
  }
}
