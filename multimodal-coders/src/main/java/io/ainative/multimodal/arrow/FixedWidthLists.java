package io.ainative.multimodal.arrow;

import io.ainative.multimodal.types.DType;
import java.nio.ByteBuffer;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.BitVectorHelper;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;

/**
 * Bulk copies between little-endian element bytes and the child of a {@code FixedSizeList} (one
 * memory copy per list, no per-element calls), and the mapping of {@link DType} to Arrow types.
 */
final class FixedWidthLists {
  private FixedWidthLists() {}

  static ArrowType arrowType(DType dtype) {
    switch (dtype) {
      case BOOL:
        return ArrowType.Bool.INSTANCE;
      case UINT8:
        return new ArrowType.Int(8, false);
      case INT8:
        return new ArrowType.Int(8, true);
      case INT16:
        return new ArrowType.Int(16, true);
      case INT32:
        return new ArrowType.Int(32, true);
      case INT64:
        return new ArrowType.Int(64, true);
      case FLOAT16:
        return new ArrowType.FloatingPoint(FloatingPointPrecision.HALF);
      case FLOAT32:
        return new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE);
      case FLOAT64:
        return new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE);
      default:
        throw new AssertionError(dtype);
    }
  }

  /**
   * The dtype stored as this Arrow type.
   *
   * @throws IllegalArgumentException naming the field when there is none
   */
  static DType dtypeOf(ArrowType type, String field) {
    for (DType d : DType.values()) {
      if (arrowType(d).equals(type)) {
        return d;
      }
    }
    throw new IllegalArgumentException(
        "field '" + field + "': Arrow element type " + type + " is not a tensor dtype");
  }

  /** Writes list {@code index}, whose elements are {@code src}'s remaining bytes. */
  static void write(FixedSizeListVector fsl, int index, DType dtype, ByteBuffer src) {
    while (fsl.getValueCapacity() <= index) {
      fsl.reAlloc();
    }
    fsl.setNotNull(index);
    int n = fsl.getListSize();
    long start = (long) index * n;
    FieldVector child = (FieldVector) fsl.getDataVector();
    if (dtype == DType.BOOL) {
      BitVector bits = (BitVector) child;
      for (int k = 0; k < n; k++) {
        bits.setSafe((int) (start + k), src.get(src.position() + k) != 0 ? 1 : 0);
      }
      return;
    }
    while (child.getValueCapacity() < start + n) {
      child.reAlloc();
    }
    // nioBuffer is a direct view of the Arrow memory; put() copies heap or direct sources in
    // bulk, also read-only ones (ArrowBuf.setBytes falls back to a slow loop for those).
    long at = start * dtype.byteWidth();
    child.getDataBuffer().nioBuffer(at, src.remaining()).put(src.duplicate());
    setValid(child.getValidityBuffer(), start, start + n);
  }

  /** Reads list {@code index} as little-endian element bytes (a copy). */
  static byte[] read(FixedSizeListVector fsl, int index, DType dtype) {
    int n = fsl.getListSize();
    long start = (long) index * n;
    FieldVector child = (FieldVector) fsl.getDataVector();
    byte[] out = new byte[Math.multiplyExact(n, dtype.byteWidth())];
    if (dtype == DType.BOOL) {
      BitVector bits = (BitVector) child;
      for (int k = 0; k < n; k++) {
        out[k] = (byte) bits.get((int) (start + k));
      }
    } else {
      child.getDataBuffer().getBytes(start * dtype.byteWidth(), out);
    }
    return out;
  }

  /** Marks bits {@code [from, to)} valid: bit by bit at the edges, whole bytes in between. */
  private static void setValid(ArrowBuf validity, long from, long to) {
    long i = from;
    while (i < to && (i & 7) != 0) {
      BitVectorHelper.setBit(validity, i++);
    }
    long wholeEnd = to & ~7L;
    if (i < wholeEnd) {
      validity.setOne(i >>> 3, (wholeEnd - i) >>> 3);
      i = wholeEnd;
    }
    while (i < to) {
      BitVectorHelper.setBit(validity, i++);
    }
  }

  /**
   * @throws IllegalArgumentException naming the field when any element of the child vector is
   *     null (a tensor or embedding has no null elements)
   */
  static void checkNoNullElements(FixedSizeListVector fsl, String field) {
    FieldVector child = (FieldVector) fsl.getDataVector();
    if (child.getNullCount() == 0) {
      return; // the common case, one popcount over the validity buffer
    }
    int nulls = 0;
    for (int row = 0; row < fsl.getValueCount(); row++) {
      if (fsl.isNull(row)) {
        continue;
      }
      int start = row * fsl.getListSize();
      for (int k = 0; k < fsl.getListSize(); k++) {
        if (child.isNull(start + k)) {
          nulls++;
        }
      }
      if (nulls > 0) {
        throw new IllegalArgumentException(
            "field '" + field + "' row " + row + " has null elements; tensors cannot hold nulls");
      }
    }
  }
}
