package io.ainative.multimodal.store;

import io.ainative.multimodal.coders.ObjectRefCoder;
import io.ainative.multimodal.internal.Wire;
import io.ainative.multimodal.types.ObjectRef;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.coders.StructuredCoder;
import org.apache.beam.sdk.util.common.ElementByteSizeObserver;

/**
 * Coder for {@link Payload}. Wire format version 1:
 *
 * <pre>
 * u8   version = 1
 * u8   0 = inline, 1 = by reference
 * ...  inline: the value with the value coder (nested context); by reference: an {@link
 *      ObjectRefCoder} encoding
 * </pre>
 *
 * Deterministic when the value coder is. Thread safe.
 */
public final class PayloadCoder<T> extends StructuredCoder<Payload<T>> {
  private static final int VERSION = 1;
  private static final int INLINE = 0;
  private static final int BY_REF = 1;

  private final Coder<T> valueCoder;

  private PayloadCoder(Coder<T> valueCoder) {
    this.valueCoder = valueCoder;
  }

  public static <T> PayloadCoder<T> of(Coder<T> valueCoder) {
    return new PayloadCoder<>(valueCoder);
  }

  public Coder<T> valueCoder() {
    return valueCoder;
  }

  @Override
  public void encode(Payload<T> payload, OutputStream out) throws IOException {
    if (payload == null) {
      throw new CoderException("cannot encode a null payload");
    }
    out.write(VERSION);
    if (payload.isRef()) {
      out.write(BY_REF);
      ObjectRefCoder.<T>of().encode(payload.ref(), out);
    } else {
      out.write(INLINE);
      valueCoder.encode(payload.inlineValue(), out, Context.NESTED);
    }
  }

  @Override
  public Payload<T> decode(InputStream in) throws IOException {
    int version = Wire.readUnsignedByte(in, "payload version");
    if (version != VERSION) {
      throw new CoderException(
          "unknown payload wire format version " + version + " (this reader knows " + VERSION + ")");
    }
    int kind = Wire.readUnsignedByte(in, "payload kind");
    if (kind == INLINE) {
      return Payload.inline(valueCoder.decode(in, Context.NESTED));
    }
    if (kind == BY_REF) {
      ObjectRef<T> ref = ObjectRefCoder.<T>of().decode(in);
      return Payload.byRef(ref);
    }
    throw new CoderException("payload kind must be 0 (inline) or 1 (reference), got " + kind);
  }

  @Override
  public boolean isRegisterByteSizeObserverCheap(Payload<T> payload) {
    return payload.isRef() || valueCoder.isRegisterByteSizeObserverCheap(payload.inlineValue());
  }

  @Override
  public void registerByteSizeObserver(Payload<T> payload, ElementByteSizeObserver observer)
      throws Exception {
    observer.update(2L); // version and kind
    if (payload.isRef()) {
      ObjectRefCoder.<T>of().registerByteSizeObserver(payload.ref(), observer);
    } else {
      valueCoder.registerByteSizeObserver(payload.inlineValue(), observer);
    }
  }

  @Override
  public List<? extends Coder<?>> getCoderArguments() {
    return List.of(valueCoder);
  }

  @Override
  public void verifyDeterministic() throws NonDeterministicException {
    verifyDeterministic(this, "the value coder must be deterministic", valueCoder);
  }

  @Override
  public boolean consistentWithEquals() {
    return valueCoder.consistentWithEquals();
  }
}
