package io.ainative.harness.testing;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.util.VarInt;

/**
 * A {@code float[]} coder for the shapes images of tests and benchmarks: var-int length, then
 * each float as 4 big-endian bytes. (Real pipelines use multimodal-coders' tensor types.)
 *
 * <p>The floats are converted in bulk through one byte array per value: a float at a time through
 * {@code DataOutputStream} cost about 10 ms per batch of 32 3x64x64 images each way, which was
 * most of what the Fn API path of {@code InferenceThroughputBenchmark} measured. The bytes are
 * those of {@code DataOutputStream.writeFloat} except for NaNs, whose bits are now kept as they are
 * ({@code writeFloat} wrote every NaN as the canonical one).
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
    ByteBuffer bytes = ByteBuffer.allocate(Float.BYTES * value.length).order(ByteOrder.BIG_ENDIAN);
    bytes.asFloatBuffer().put(value);
    out.write(bytes.array());
  }

  @Override
  public float[] decode(InputStream in) throws IOException {
    int length = VarInt.decodeInt(in);
    if (length < 0 || length > Integer.MAX_VALUE / Float.BYTES) {
      throw new CoderException("float[] length " + length + " out of range");
    }
    byte[] bytes = in.readNBytes(Float.BYTES * length);
    if (bytes.length != Float.BYTES * length) {
      throw new EOFException(
          "float[] of " + length + " values ended after " + bytes.length + " of "
              + Float.BYTES * length + " bytes");
    }
    float[] value = new float[length];
    ByteBuffer.wrap(bytes).order(ByteOrder.BIG_ENDIAN).asFloatBuffer().get(value);
    return value;
  }

  @Override
  public void verifyDeterministic() {}
}
