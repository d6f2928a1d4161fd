package io.ainative.multimodal.types;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * An immutable dense n-dimensional array: a {@link DType}, a shape, and the elements in row-major
 * (C) order, little-endian.
 *
 * <p><b>Memory.</b> A tensor holds a read-only {@link ByteBuffer} view. {@link #of} copies the
 * caller's array; {@link #wrap} does not copy, so the tensor is a view of the caller's buffer and
 * the caller must not write to that region afterwards. {@link #reshape} and {@link #slice} return
 * views that share the same memory. Tensors are safe to share between threads.
 *
 * <p><b>Validation.</b> Every dimension must be {@code >= 0}, the rank at most {@value #MAX_RANK},
 * and {@code product(shape) * dtype.byteWidth()} must fit a Java array and equal the buffer's
 * length; otherwise construction throws {@link IllegalArgumentException} naming the dimension or
 * the sizes.
 */
public final class Tensor {

  /** Largest supported rank. */
  public static final int MAX_RANK = 32;

  /** Largest supported payload: the largest Java byte array. */
  public static final long MAX_BYTES = Integer.MAX_VALUE - 8;

  private final DType dtype;
  private final long[] shape;
  private final ByteBuffer data; // read-only, little-endian, position 0, limit == byteSize
  // The heap array behind data when there is one, so writeTo needs no intermediate copy.
  private final byte[] array;
  private final int arrayOffset;

  private Tensor(DType dtype, long[] shape, ByteBuffer data, byte[] array, int arrayOffset) {
    this.dtype = dtype;
    this.shape = shape;
    this.data = data;
    this.array = array;
    this.arrayOffset = arrayOffset;
  }

  /** A tensor holding a copy of {@code data}. */
  public static Tensor of(DType dtype, long[] shape, byte[] data) {
    Objects.requireNonNull(data, "data");
    return wrap(dtype, shape, ByteBuffer.wrap(data.clone()));
  }

  /**
   * A tensor that is a view of {@code data} from its position to its limit, without a copy. The
   * buffer's position, limit and byte order are not changed; its bytes are read as little-endian.
   */
  public static Tensor wrap(DType dtype, long[] shape, ByteBuffer data) {
    Objects.requireNonNull(dtype, "dtype");
    Objects.requireNonNull(shape, "shape");
    Objects.requireNonNull(data, "data");
    long[] s = shape.clone();
    long expected = byteSizeOf(dtype, s);
    if (data.remaining() != expected) {
      throw new IllegalArgumentException(
          "tensor data has "
              + data.remaining()
              + " bytes but shape "
              + Arrays.toString(s)
              + " of "
              + dtype.typeName()
              + " needs "
              + expected);
    }
    ByteBuffer view = data.slice();
    byte[] array = view.hasArray() ? view.array() : null;
    int offset = array != null ? view.arrayOffset() : 0;
    return new Tensor(
        dtype, s, view.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN), array, offset);
  }

  /** A float32 tensor with a copy of {@code values}. */
  public static Tensor ofFloats(long[] shape, float... values) {
    ByteBuffer b = allocate(values.length * 4L);
    b.asFloatBuffer().put(values);
    return wrap(DType.FLOAT32, shape, b);
  }

  /** A float64 tensor with a copy of {@code values}. */
  public static Tensor ofDoubles(long[] shape, double... values) {
    ByteBuffer b = allocate(values.length * 8L);
    b.asDoubleBuffer().put(values);
    return wrap(DType.FLOAT64, shape, b);
  }

  /** An int32 tensor with a copy of {@code values}. */
  public static Tensor ofInts(long[] shape, int... values) {
    ByteBuffer b = allocate(values.length * 4L);
    b.asIntBuffer().put(values);
    return wrap(DType.INT32, shape, b);
  }

  /** An int64 tensor with a copy of {@code values}. */
  public static Tensor ofLongs(long[] shape, long... values) {
    ByteBuffer b = allocate(values.length * 8L);
    b.asLongBuffer().put(values);
    return wrap(DType.INT64, shape, b);
  }

  /** A bool tensor with a copy of {@code values} (stored one byte per element). */
  public static Tensor ofBooleans(long[] shape, boolean... values) {
    byte[] b = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      b[i] = (byte) (values[i] ? 1 : 0);
    }
    return wrap(DType.BOOL, shape, ByteBuffer.wrap(b));
  }

  private static ByteBuffer allocate(long bytes) {
    if (bytes > MAX_BYTES) {
      throw new IllegalArgumentException("tensor of " + bytes + " bytes exceeds " + MAX_BYTES);
    }
    return ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * The byte size of a tensor of this dtype and shape.
   *
   * @throws IllegalArgumentException naming the offending dimension when a dimension is negative,
   *     the rank exceeds {@link #MAX_RANK}, or the size overflows {@link #MAX_BYTES}
   */
  public static long byteSizeOf(DType dtype, long[] shape) {
    if (shape.length > MAX_RANK) {
      throw new IllegalArgumentException(
          "tensor rank " + shape.length + " exceeds the maximum " + MAX_RANK);
    }
    long n = dtype.byteWidth();
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] < 0) {
        throw new IllegalArgumentException(
            "tensor shape[" + i + "] = " + shape[i] + " is negative in " + Arrays.toString(shape));
      }
      if (shape[i] != 0 && n > MAX_BYTES / shape[i]) {
        throw new IllegalArgumentException(
            "tensor shape "
                + Arrays.toString(shape)
                + " of "
                + dtype.typeName()
                + " overflows the maximum of "
                + MAX_BYTES
                + " bytes at shape["
                + i
                + "]");
      }
      n *= shape[i];
    }
    return n;
  }

  public DType dtype() {
    return dtype;
  }

  /** A copy of the shape. */
  public long[] shape() {
    return shape.clone();
  }

  public int rank() {
    return shape.length;
  }

  public long dim(int axis) {
    return shape[axis];
  }

  public long numElements() {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  public int byteSize() {
    return data.limit();
  }

  /**
   * A read-only little-endian view of the elements (position 0, limit {@link #byteSize()}); no
   * copy. Each call returns an independent buffer object over the same memory.
   */
  public ByteBuffer data() {
    return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Writes the elements to {@code out}; from heap memory without an intermediate copy. */
  public void writeTo(OutputStream out) throws IOException {
    if (array != null) {
      out.write(array, arrayOffset, data.limit());
      return;
    }
    byte[] chunk = new byte[Math.min(data.limit(), 1 << 16)];
    ByteBuffer d = data.duplicate();
    while (d.hasRemaining()) {
      int n = Math.min(chunk.length, d.remaining());
      d.get(chunk, 0, n);
      out.write(chunk, 0, n);
    }
  }

  /** A copy of the elements. */
  public byte[] toByteArray() {
    byte[] out = new byte[data.limit()];
    data.duplicate().get(out);
    return out;
  }

  /** A view of float32 elements; no copy. */
  public FloatBuffer asFloatBuffer() {
    requireDType(DType.FLOAT32);
    return data().asFloatBuffer();
  }

  /** A view of float64 elements; no copy. */
  public DoubleBuffer asDoubleBuffer() {
    requireDType(DType.FLOAT64);
    return data().asDoubleBuffer();
  }

  /** A view of int32 elements; no copy. */
  public IntBuffer asIntBuffer() {
    requireDType(DType.INT32);
    return data().asIntBuffer();
  }

  /** A view of int64 elements; no copy. */
  public LongBuffer asLongBuffer() {
    requireDType(DType.INT64);
    return data().asLongBuffer();
  }

  private void requireDType(DType expected) {
    if (dtype != expected) {
      throw new IllegalStateException(
          "tensor has dtype " + dtype.typeName() + ", not " + expected.typeName());
    }
  }

  /** The element at a row-major flat index, widened to double (float16 is decoded). */
  public double getAsDouble(long flatIndex) {
    if (flatIndex < 0 || flatIndex >= numElements()) {
      throw new IndexOutOfBoundsException(
          "flat index " + flatIndex + " outside tensor of " + numElements() + " elements");
    }
    int off = Math.toIntExact(flatIndex * dtype.byteWidth());
    switch (dtype) {
      case BOOL:
      case UINT8:
        return data.get(off) & 0xFF;
      case INT8:
        return data.get(off);
      case INT16:
        return data.getShort(off);
      case INT32:
        return data.getInt(off);
      case INT64:
        return data.getLong(off);
      case FLOAT16:
        return Float16.toFloat(data.getShort(off));
      case FLOAT32:
        return data.getFloat(off);
      case FLOAT64:
        return data.getDouble(off);
      default:
        throw new AssertionError(dtype);
    }
  }

  /** A view with a new shape of the same number of elements; no copy. */
  public Tensor reshape(long... newShape) {
    long[] s = newShape.clone();
    if (byteSizeOf(dtype, s) != data.limit()) {
      throw new IllegalArgumentException(
          "cannot reshape " + Arrays.toString(shape) + " to " + Arrays.toString(s));
    }
    return new Tensor(dtype, s, data, array, arrayOffset);
  }

  /** A view of {@code this[index]} along the first axis; no copy. */
  public Tensor slice(long index) {
    if (shape.length == 0) {
      throw new IllegalStateException("cannot slice a scalar tensor");
    }
    if (index < 0 || index >= shape[0]) {
      throw new IndexOutOfBoundsException(
          "index " + index + " outside axis 0 of size " + shape[0]);
    }
    long[] s = Arrays.copyOfRange(shape, 1, shape.length);
    int stride = (int) byteSizeOf(dtype, s);
    ByteBuffer d = data.duplicate();
    d.position((int) (index * stride)).limit((int) (index * stride) + stride);
    int start = (int) (index * stride);
    return new Tensor(
        dtype, s, d.slice().order(ByteOrder.LITTLE_ENDIAN), array, arrayOffset + start);
  }

  /** Equal when dtype, shape and every byte are equal (so NaNs compare by bit pattern). */
  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof Tensor)) {
      return false;
    }
    Tensor t = (Tensor) o;
    return dtype == t.dtype && Arrays.equals(shape, t.shape) && data.equals(t.data);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * dtype.hashCode() + Arrays.hashCode(shape)) + data.hashCode();
  }

  @Override
  public String toString() {
    return "Tensor{" + dtype.typeName() + Arrays.toString(shape) + ", " + byteSize() + " bytes}";
  }
}
