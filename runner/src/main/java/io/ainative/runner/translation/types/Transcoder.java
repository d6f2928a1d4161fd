package io.ainative.runner.translation.types;

import org.apache.beam.sdk.annotations.Internal;
import org.apache.beam.sdk.coders.ByteArrayCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.LengthPrefixCoder;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.beam.sdk.util.WindowedValue.FullWindowedValueCoder;

/**
 * Converts an element between two forms of one PCollection: the runner's (a coder the runner
 * does not know is {@code LengthPrefixCoder<ByteArrayCoder>}, the value's encoded bytes) and the
 * SDK's (the value itself, {@code LengthPrefixCoder<X>}). For that pair only the value is
 * converted (one encode or one decode with X, the timestamp, windows and pane kept as they are);
 * equal coders pass the element as it is; any other pair goes through a full encode and decode of
 * the windowed value. Immutable.
 */
@Internal
public final class Transcoder {
  private final Coder<WindowedValue<Object>> from;
  private final Coder<WindowedValue<Object>> to;
  /** X when the value is encoded by X (SDK form to runner form), else null. */
  private final Coder<Object> encodeValue;
  /** X when the value is decoded by X (runner form to SDK form), else null. */
  private final Coder<Object> decodeValue;
  /** The two forms are the same. */
  private final boolean identity;

  private Transcoder(
      Coder<WindowedValue<Object>> from, Coder<WindowedValue<Object>> to, Coder<Object> encodeValue, Coder<Object> decodeValue) {
    this.from = from;
    this.to = to;
    this.encodeValue = encodeValue;
    this.decodeValue = decodeValue;
    this.identity = from.equals(to);
  }

  @SuppressWarnings("unchecked")
  public static Transcoder of(Coder<WindowedValue<Object>> from, Coder<WindowedValue<Object>> to) {
    if (from instanceof FullWindowedValueCoder && to instanceof FullWindowedValueCoder) {
      FullWindowedValueCoder<Object> f = (FullWindowedValueCoder<Object>) from;
      FullWindowedValueCoder<Object> t = (FullWindowedValueCoder<Object>) to;
      if (f.getWindowCoder().equals(t.getWindowCoder())) {
        if (isRunnerBytes(t.getValueCoder()) && f.getValueCoder() instanceof LengthPrefixCoder) {
          return new Transcoder(from, to, ((LengthPrefixCoder<Object>) f.getValueCoder()).getValueCoder(), null);
        }
        if (isRunnerBytes(f.getValueCoder()) && t.getValueCoder() instanceof LengthPrefixCoder) {
          return new Transcoder(from, to, null, ((LengthPrefixCoder<Object>) t.getValueCoder()).getValueCoder());
        }
      }
    }
    return new Transcoder(from, to, null, null);
  }

  /** Whether the coder is the runner's form of a value whose coder it does not know: its bytes. */
  public static boolean isRunnerBytes(Coder<?> coder) {
    return coder instanceof LengthPrefixCoder && ((LengthPrefixCoder<?>) coder).getValueCoder() instanceof ByteArrayCoder;
  }

  /** Whether {@link #apply} returns its argument: the two forms are the same. */
  public boolean isIdentity() {
    return identity;
  }

  public WindowedValue<Object> apply(WindowedValue<Object> value) throws Exception {
    if (identity) {
      return value;
    }
    if (encodeValue != null) {
      return value.withValue(CoderUtils.encodeToByteArray(encodeValue, value.getValue()));
    }
    if (decodeValue != null) {
      return value.withValue(CoderUtils.decodeFromByteArray(decodeValue, (byte[]) value.getValue()));
    }
    return CoderUtils.decodeFromByteArray(to, CoderUtils.encodeToByteArray(from, value));
  }
}
