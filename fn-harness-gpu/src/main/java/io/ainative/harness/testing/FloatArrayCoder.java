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
 * <p>The floats are converted in bulk, a chunk at a time through one scratch array per thread: a
 * float at a time through {@code DataOutputStream} was most of the cost of the Fn API path of
 * {@code InferenceThroughputBenchmark}, and a byte array per value was a large share of the
 * allocations of the CNN benchmark's pipeline (the harness encodes each image, the service and the
 * consumer decode it). The bytes are
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

  /** Floats per chunk: 16 KB of scratch per thread that codes float arrays. */
  private static final int CHUNK = 4096;

  private static final ThreadLocal<ByteBuffer> SCRATCH =
      ThreadLocal.withInitial(() -> ByteBuffer.allocate(Float.BYTES * CHUNK).order(ByteOrder.BIG_ENDIAN));

  @Override
  public void encode(float[] value, OutputStream out) throws IOException {
    if (value == null) {
      throw new CoderException("cannot encode a null float[]");
    }
    VarInt.encode(value.length, out);
    ByteBuffer scratch = SCRATCH.get();
    for (int from = 0; from < value.length; from += CHUNK) {
      int n = Math.min(CHUNK, value.length - from);
      scratch.clear();
      scratch.asFloatBuffer().put(value, from, n);
      out.write(scratch.array(), 0, Float.BYTES * n);
    }
  }

  @Override
  public float[] decode(InputStream in) throws IOException {
    int length = VarInt.decodeInt(in);
    if (length < 0 || length > Integer.MAX_VALUE / Float.BYTES) {
      throw new CoderException("float[] length " + length + " out of range");
    }
    float[] value = new float[length];
    ByteBuffer scratch = SCRATCH.get();
    for (int from = 0; from < length; from += CHUNK) {
      int n = Math.min(CHUNK, length - from);
      int read = in.readNBytes(scratch.array(), 0, Float.BYTES * n);
      if (read != Float.BYTES * n) {
        throw new EOFException(
            "float[] of " + length + " values ended after " + (Float.BYTES * from + read) + " of "
                + Float.BYTES * length + " bytes");
      }
      scratch.clear();
      scratch.asFloatBuffer().get(value, from, n);
    }
    return value;
  }

  @Override
  public void verifyDeterministic() {}
}
