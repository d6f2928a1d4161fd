package io.ainative.runner.service.client;

import io.ainative.runner.translation.types.Transcoder;
import io.ainative.transforms.InferenceResultCoder;
import java.io.OutputStream;
import org.apache.beam.sdk.coders.ByteArrayCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.LengthPrefixCoder;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.beam.sdk.util.WindowedValue.FullWindowedValueCoder;
import org.apache.beam.sdk.values.KV;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The client's short cut for a model input whose coder the runner does not know: the runner holds
 * such an element as the bytes its SDK coder wrote ({@code LengthPrefixCoder<ByteArrayCoder>}),
 * which are already what the service reads when the model's input coder is that same coder. The
 * client then sends those bytes as they are, and builds each result's bytes from them and the
 * service's output bytes, instead of decoding every input into an object, encoding it again for
 * the request and once more inside the result. (On the CNN benchmark the decode and the two
 * encodes were most of the client's CPU per image.)
 *
 * <p>The request short cut holds when the input's runner form is those bytes (the value, or the
 * value of a {@code KV}) and the SDK's value coder equals the model's input coder: the runner's
 * bytes are that coder's outer encoding, as are the request's. The result short cut also needs the
 * result's runner form to be bytes (with the same key form for a {@code KV}) and its SDK coder an
 * {@link InferenceResultCoder} of the same input and output coders whose encodings do not depend
 * on the coder context: the result coder writes them nested, the runner and the service outer.
 * Where a condition fails the client decodes and encodes as before; failures always do.
 */
final class WireBytes {
  private final boolean keyed;
  private final boolean results;

  private WireBytes(boolean keyed, boolean results) {
    this.keyed = keyed;
    this.results = results;
  }

  /** The short cuts the coders allow, or null when the requests cannot take the input's bytes. */
  static @Nullable WireBytes of(ClientConfig config, Coder<?> modelInputCoder, Coder<?> modelOutputCoder) {
    Coder<?> inWire = valueCoder(config.inputWire);
    Coder<?> inSdk = valueCoder(config.inputSdk);
    if (inWire == null || inSdk == null) {
      return null;
    }
    if (config.keyed) {
      if (!(inWire instanceof KvCoder) || !(inSdk instanceof KvCoder)) {
        return null;
      }
      inWire = ((KvCoder<?, ?>) inWire).getValueCoder();
      inSdk = ((KvCoder<?, ?>) inSdk).getValueCoder();
    }
    if (!Transcoder.isRunnerBytes(inWire) || !(inSdk instanceof LengthPrefixCoder)
        || !((LengthPrefixCoder<?>) inSdk).getValueCoder().equals(modelInputCoder)) {
      return null;
    }
    return new WireBytes(config.keyed, resultsFromBytes(config, modelInputCoder, modelOutputCoder));
  }

  private static boolean resultsFromBytes(ClientConfig config, Coder<?> modelInputCoder, Coder<?> modelOutputCoder) {
    Coder<?> mainWire = valueCoder(config.mainWire);
    Coder<?> mainSdk = valueCoder(config.mainSdk);
    if (mainWire == null || mainSdk == null || !windowCoder(config.mainWire).equals(windowCoder(config.inputWire))) {
      return false;
    }
    if (config.keyed) {
      Coder<?> inWire = valueCoder(config.inputWire);
      if (!(mainWire instanceof KvCoder) || !(mainSdk instanceof KvCoder)
          || !((KvCoder<?, ?>) mainWire).getKeyCoder().equals(((KvCoder<?, ?>) inWire).getKeyCoder())) {
        return false;
      }
      mainWire = ((KvCoder<?, ?>) mainWire).getValueCoder();
      mainSdk = ((KvCoder<?, ?>) mainSdk).getValueCoder();
    }
    if (!Transcoder.isRunnerBytes(mainWire) || !(mainSdk instanceof LengthPrefixCoder)) {
      return false;
    }
    Coder<?> result = ((LengthPrefixCoder<?>) mainSdk).getValueCoder();
    if (!(result instanceof InferenceResultCoder)) {
      return false;
    }
    InferenceResultCoder<?, ?> r = (InferenceResultCoder<?, ?>) result;
    return r.getInputCoder().equals(modelInputCoder)
        && r.getOutputCoder().equals(modelOutputCoder)
        && contextFree(modelInputCoder)
        && contextFree(modelOutputCoder);
  }

  /** Whether the result short cut applies (else results are built from decoded inputs). */
  boolean results() {
    return results;
  }

  /** The bytes of the model input, as the runner holds them. */
  byte[] payload(WindowedValue<Object> wire) {
    Object value = wire.getValue();
    return (byte[]) (keyed ? ((KV<?, ?>) value).getValue() : value);
  }

  /**
   * The result in the runner's form: the input's window, timestamp and pane (and key); bytes as
   * {@link InferenceResultCoder} writes them, from the input's bytes and the output's.
   */
  WindowedValue<Object> result(WindowedValue<Object> wire, com.google.protobuf.ByteString output) {
    byte[] input = payload(wire);
    byte[] bytes = new byte[1 + input.length + output.size()];
    bytes[0] = (byte) InferenceResultCoder.VERSION;
    System.arraycopy(input, 0, bytes, 1, input.length);
    output.copyTo(bytes, 1 + input.length);
    Object value = keyed ? KV.of(((KV<?, ?>) wire.getValue()).getKey(), bytes) : bytes;
    return wire.withValue(value);
  }

  private static @Nullable Coder<?> valueCoder(Coder<WindowedValue<Object>> coder) {
    return coder instanceof FullWindowedValueCoder ? ((FullWindowedValueCoder<?>) coder).getValueCoder() : null;
  }

  private static Coder<?> windowCoder(Coder<WindowedValue<Object>> coder) {
    return ((FullWindowedValueCoder<?>) coder).getWindowCoder();
  }

  /**
   * Whether the coder writes the same bytes nested and outer: it does when neither it nor a class
   * it extends overrides the context-taking {@code encode} and {@code decode}, which then only
   * call the context-free ones ({@link ByteArrayCoder} and {@code StringUtf8Coder}, for instance,
   * override them to leave out the length when outer).
   */
  static boolean contextFree(Coder<?> coder) {
    try {
      return coder.getClass().getMethod("encode", Object.class, OutputStream.class, Coder.Context.class).getDeclaringClass() == Coder.class
          && coder.getClass().getMethod("decode", java.io.InputStream.class, Coder.Context.class).getDeclaringClass() == Coder.class;
    } catch (NoSuchMethodException e) {
      return false;
    }
  }
}
