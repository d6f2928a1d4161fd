package io.ainative.multimodal.coders;

import io.ainative.multimodal.internal.Wire;
import io.ainative.multimodal.types.DType;
import io.ainative.multimodal.types.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.util.VarInt;

/**
 * Coder for {@link Tensor}. Wire format version 1:
 *
 * <pre>
 * u8      version = 1
 * u8      dtype code ({@link DType#code()})
 * varint  rank
 * varint  dim[0] .. dim[rank-1]
 * varint  byte length (must equal product(dims) * dtype width)
 * bytes   elements, row-major, little-endian
 * </pre>
 *
 * The declared byte length is checked against shape and dtype before anything is allocated.
 */
public final class TensorCoder extends VersionedCoder<Tensor> {
  private static final TensorCoder INSTANCE = new TensorCoder();

  private TensorCoder() {
    super("tensor", 1);
  }

  public static TensorCoder of() {
    return INSTANCE;
  }

  @Override
  void encodeBody(Tensor t, OutputStream out) throws IOException {
    writeBody(t, out);
  }

  @Override
  Tensor decodeBody(InputStream in) throws IOException {
    return readBody(in, "tensor");
  }

  @Override
  long bodySize(Tensor t) {
    return bodySizeOf(t);
  }

  static void writeBody(Tensor t, OutputStream out) throws IOException {
    out.write(t.dtype().code());
    VarInt.encode(t.rank(), out);
    for (int i = 0; i < t.rank(); i++) {
      VarInt.encode(t.dim(i), out);
    }
    VarInt.encode(t.byteSize(), out);
    t.writeTo(out);
  }

  static long bodySizeOf(Tensor t) {
    long n = 1 + VarInt.getLength(t.rank());
    for (int i = 0; i < t.rank(); i++) {
      n += VarInt.getLength(t.dim(i));
    }
    return n + VarInt.getLength(t.byteSize()) + t.byteSize();
  }

  /** Reads a tensor body; {@code field} names the value in errors (e.g. "audio.samples"). */
  static Tensor readBody(InputStream in, String field) throws IOException {
    int code = Wire.readUnsignedByte(in, field + ".dtype");
    DType dtype;
    try {
      dtype = DType.fromCode(code);
    } catch (IllegalArgumentException e) {
      throw new CoderException(field + ".dtype: " + e.getMessage());
    }
    int rank = Wire.readVarInt(in, field + ".rank", Tensor.MAX_RANK);
    long[] shape = new long[rank];
    for (int i = 0; i < rank; i++) {
      shape[i] = Wire.readVarLong(in, field + ".shape[" + i + "]");
    }
    long expected;
    try {
      expected = Tensor.byteSizeOf(dtype, shape);
    } catch (IllegalArgumentException e) {
      throw new CoderException(field + ".shape: " + e.getMessage());
    }
    long declared = Wire.readVarLong(in, field + ".data length");
    if (declared != expected) {
      throw new CoderException(
          field
              + ".data has "
              + declared
              + " bytes but shape "
              + Arrays.toString(shape)
              + " of "
              + dtype.typeName()
              + " needs "
              + expected);
    }
    byte[] data = Wire.readBytes(in, (int) expected, field + ".data");
    return Tensor.wrap(dtype, shape, ByteBuffer.wrap(data));
  }
}
