package io.ainative.multimodal.types;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * A float32 vector with its dimension and, optionally, the id of the model that produced it.
 *
 * <p>The values are held as little-endian float32 bytes, the form they travel in, so coders and
 * Arrow move them with plain memory copies. Immutable and safe to share between threads.
 * Equality is by the bit pattern of each value (so {@code NaN} equals a {@code NaN} with the same
 * bits and {@code 0.0} differs from {@code -0.0}), which matches the binary encoding.
 */
public final class Embedding {
  private final byte[] littleEndian; // 4 bytes per value, never modified
  private final String modelId; // null when absent

  private Embedding(byte[] littleEndian, String modelId) {
    this.littleEndian = littleEndian;
    this.modelId = modelId;
  }

  /** An embedding without a model id. */
  public static Embedding of(float[] values) {
    return of(values, null);
  }

  /**
   * An embedding holding a copy of {@code values}.
   *
   * @param modelId the producing model's id, or {@code null}; when given it must not be empty
   * @throws IllegalArgumentException naming the field when values are empty or the model id is
   *     empty
   */
  public static Embedding of(float[] values, String modelId) {
    Objects.requireNonNull(values, "values");
    if (values.length == 0) {
      throw new IllegalArgumentException("embedding values must have dimension >= 1");
    }
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return new Embedding(b.array(), checkModelId(modelId));
  }

  /**
   * An embedding that takes ownership of little-endian float32 bytes ({@code bytes.length / 4}
   * values) without a copy: the caller must not modify the array afterwards.
   *
   * @throws IllegalArgumentException when the length is not a positive multiple of 4
   */
  public static Embedding wrapLittleEndian(byte[] bytes, String modelId) {
    if (bytes.length == 0 || bytes.length % 4 != 0) {
      throw new IllegalArgumentException(
          "embedding values need a positive multiple of 4 bytes, got " + bytes.length);
    }
    return new Embedding(bytes, checkModelId(modelId));
  }

  private static String checkModelId(String modelId) {
    if (modelId != null && modelId.isEmpty()) {
      throw new IllegalArgumentException("embedding model_id must be null or non-empty");
    }
    return modelId;
  }

  public int dimension() {
    return littleEndian.length / 4;
  }

  public float get(int i) {
    return littleEndianData().getFloat(Math.multiplyExact(i, 4));
  }

  /** A copy of the values. */
  public float[] toFloatArray() {
    float[] out = new float[dimension()];
    asFloatBuffer().get(out);
    return out;
  }

  /** A read-only view of the values; no copy. */
  public FloatBuffer asFloatBuffer() {
    return littleEndianData().asFloatBuffer();
  }

  /** A read-only little-endian view of the float32 bytes; no copy. */
  public ByteBuffer littleEndianData() {
    return ByteBuffer.wrap(littleEndian).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** The values as little-endian float32 bytes (a copy). */
  public byte[] toLittleEndianBytes() {
    return littleEndian.clone();
  }

  /** Writes the little-endian float32 bytes to {@code out} without an intermediate copy. */
  public void writeLittleEndianTo(OutputStream out) throws IOException {
    out.write(littleEndian);
  }

  public Optional<String> modelId() {
    return Optional.ofNullable(modelId);
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof Embedding)) {
      return false;
    }
    Embedding e = (Embedding) o;
    return Arrays.equals(littleEndian, e.littleEndian) && Objects.equals(modelId, e.modelId);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(littleEndian) + Objects.hashCode(modelId);
  }

  @Override
  public String toString() {
    return "Embedding{dim=" + dimension() + (modelId == null ? "" : ", model=" + modelId) + "}";
  }
}
