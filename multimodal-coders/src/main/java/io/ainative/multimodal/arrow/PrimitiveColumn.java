package io.ainative.multimodal.arrow;

import java.nio.charset.StandardCharsets;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.SmallIntVector;
import org.apache.arrow.vector.TimeStampMilliTZVector;
import org.apache.arrow.vector.TinyIntVector;
import org.apache.arrow.vector.VarBinaryVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.TimeUnit;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.joda.time.Instant;
import org.joda.time.ReadableInstant;

/** Beam's atomic types: integers, floats, boolean, string, bytes and datetime (ms, UTC). */
final class PrimitiveColumn extends Column {
  private final ArrowType arrowType;

  PrimitiveColumn(String name, FieldType type) {
    super(name, type);
    this.arrowType = arrowTypeOf(name, type);
  }

  private static ArrowType arrowTypeOf(String name, FieldType type) {
    switch (type.getTypeName()) {
      case BYTE:
        return new ArrowType.Int(8, true);
      case INT16:
        return new ArrowType.Int(16, true);
      case INT32:
        return new ArrowType.Int(32, true);
      case INT64:
        return new ArrowType.Int(64, true);
      case FLOAT:
        return new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE);
      case DOUBLE:
        return new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE);
      case BOOLEAN:
        return ArrowType.Bool.INSTANCE;
      case STRING:
        return ArrowType.Utf8.INSTANCE;
      case BYTES:
        return ArrowType.Binary.INSTANCE;
      case DATETIME:
        return new ArrowType.Timestamp(TimeUnit.MILLISECOND, "UTC");
      default:
        throw new IllegalArgumentException(
            "field '" + name + "' has type " + type + ", which has no Arrow mapping here");
    }
  }

  @Override
  Field arrowField() {
    return new Field(
        name, new org.apache.arrow.vector.types.pojo.FieldType(type.getNullable(), arrowType, null), null);
  }

  @Override
  long variableBytes(Object value) {
    return type.getTypeName() == org.apache.beam.sdk.schemas.Schema.TypeName.BYTES
        ? ((byte[]) value).length
        : 0;
  }

  @Override
  void reserve(FieldVector v, long bytes) {
    if (v instanceof VarBinaryVector) {
      reserveDataBuffer((VarBinaryVector) v, bytes);
    }
  }

  @Override
  void writeNonNull(FieldVector v, int i, Object value) {
    switch (type.getTypeName()) {
      case BYTE:
        ((TinyIntVector) v).setSafe(i, (Byte) value);
        break;
      case INT16:
        ((SmallIntVector) v).setSafe(i, (Short) value);
        break;
      case INT32:
        ((IntVector) v).setSafe(i, (Integer) value);
        break;
      case INT64:
        ((BigIntVector) v).setSafe(i, (Long) value);
        break;
      case FLOAT:
        ((Float4Vector) v).setSafe(i, (Float) value);
        break;
      case DOUBLE:
        ((Float8Vector) v).setSafe(i, (Double) value);
        break;
      case BOOLEAN:
        ((BitVector) v).setSafe(i, ((Boolean) value) ? 1 : 0);
        break;
      case STRING:
        ((VarCharVector) v).setSafe(i, ((String) value).getBytes(StandardCharsets.UTF_8));
        break;
      case BYTES:
        ((VarBinaryVector) v).setSafe(i, (byte[]) value);
        break;
      case DATETIME:
        ((TimeStampMilliTZVector) v).setSafe(i, ((ReadableInstant) value).getMillis());
        break;
      default:
        throw new AssertionError(type);
    }
  }

  @Override
  Object readNonNull(FieldVector v, int i) {
    switch (type.getTypeName()) {
      case BYTE:
        return ((TinyIntVector) v).get(i);
      case INT16:
        return ((SmallIntVector) v).get(i);
      case INT32:
        return ((IntVector) v).get(i);
      case INT64:
        return ((BigIntVector) v).get(i);
      case FLOAT:
        return ((Float4Vector) v).get(i);
      case DOUBLE:
        return ((Float8Vector) v).get(i);
      case BOOLEAN:
        return ((BitVector) v).get(i) != 0;
      case STRING:
        return new String(((VarCharVector) v).get(i), StandardCharsets.UTF_8);
      case BYTES:
        return ((VarBinaryVector) v).get(i);
      case DATETIME:
        return new Instant(((TimeStampMilliTZVector) v).get(i));
      default:
        throw new AssertionError(type);
    }
  }
}
