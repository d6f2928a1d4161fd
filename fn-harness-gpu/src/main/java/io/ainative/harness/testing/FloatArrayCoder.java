package io.ainative.harness.testing;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.util.VarInt;

/**
 * A {@code float[]} coder for the shapes images of tests and benchmarks: var-int length, then
 * each float as 4 big-endian bytes. (Real pipelines use multimodal-coders' tensor types.)
 */
public final class FloatArrayCoder extends AtomicCoder<float[]> {
  private static final long serialVersionUID = 1L;
  private static final FloatArrayCoder INSTANCE = new FloatArrayCoder();

  private FloatArrayCoder() {}

  public static FloatArrayCoder of() {
    return INSTANCE;
  }

  @Override
  public void encode(float[] value, OutputStream out) throws IOException {
    if (value == null) {
      throw new CoderException("cannot encode a null float[]");
    }
    VarInt.encode(value.length, out);
    DataOutputStream data = new DataOutputStream(out);
    for (float f : value) {
      data.writeFloat(f);
    }
    data.flush();
  }

  @Override
  public float[] decode(InputStream in) throws IOException {
    int length = VarInt.decodeInt(in);
    if (length < 0) {
      throw new CoderException("negative float[] length " + length);
    }
    float[] value = new float[length];
    DataInputStream data = new DataInputStream(in);
    for (int i = 0; i < length; i++) {
      value[i] = data.readFloat();
    }
    return value;
  }

  @Override
  public void verifyDeterministic() {}
}
