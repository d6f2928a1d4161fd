package io.ainative.multimodal.arrow;

import io.ainative.multimodal.schemas.AudioType;
import io.ainative.multimodal.schemas.ImageType;
import io.ainative.multimodal.schemas.TensorType;
import io.ainative.multimodal.types.Audio;
import io.ainative.multimodal.types.Image;
import io.ainative.multimodal.types.Tensor;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarBinaryVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.complex.StructVector;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;

/**
 * A logical type stored as its base type's Arrow layout, tagged with the URN and argument in the
 * field metadata (images, audio, ragged tensors, object refs, embeddings of any dimension).
 *
 * <p>Images, ragged tensors and audio are written straight into their struct's children, the
 * payload bytes in one bulk copy from the value's own memory: going through {@code toBaseType}
 * would first copy every payload into a new array for the base row. Reading goes through the base
 * row (one copy out of Arrow memory, which the rows must own anyway).
 */
final class LogicalColumn extends Column {
  private final Schema.LogicalType<Object, Object> logical;
  private final Column base;
  private final DirectWriter direct; // null: write through the base row

  @SuppressWarnings("unchecked")
  LogicalColumn(String name, FieldType type, Schema.LogicalType<?, ?> logical) {
    super(name, type);
    this.logical = (Schema.LogicalType<Object, Object>) logical;
    this.base = Column.of(name, logical.getBaseType().withNullable(type.getNullable()));
    this.direct = directWriter(logical);
  }

  @Override
  Field arrowField() {
    Field f = base.arrowField();
    Map<String, String> metadata = logicalMetadata(logical);
    return new Field(
        name,
        new org.apache.arrow.vector.types.pojo.FieldType(
            f.isNullable(), f.getType(), f.getDictionary(), metadata),
        f.getChildren());
  }

  /** The payload of the types whose base row holds one big BYTES field. */
  @Override
  long variableBytes(Object value) {
    if (value instanceof Image) {
      return ((Image) value).encodedSize();
    }
    if (value instanceof Tensor) {
      return ((Tensor) value).byteSize();
    }
    if (value instanceof Audio) {
      return ((Audio) value).samples().byteSize();
    }
    return 0;
  }

  @Override
  void reserve(FieldVector vector, long bytes) {
    if (bytes <= 0 || !(vector instanceof StructVector)) {
      return;
    }
    for (FieldVector child : ((StructVector) vector).getChildrenFromFields()) {
      if (child instanceof VarBinaryVector) {
        reserveDataBuffer((VarBinaryVector) child, bytes);
        return;
      }
    }
  }

  @Override
  void writeNonNull(FieldVector v, int i, Object value) {
    if (direct != null) {
      StructVector struct = (StructVector) v;
      struct.setIndexDefined(i);
      direct.write(struct, i, value);
    } else {
      base.writeNonNull(v, i, logical.toBaseType(value));
    }
  }

  @Override
  Object readNonNull(FieldVector v, int i) {
    return logical.toInputType(base.readNonNull(v, i));
  }

  @Override
  void checkReadable(FieldVector vector) {
    base.checkReadable(vector);
  }

  /** Writes a value's base row into the children of a struct whose index is already defined. */
  private interface DirectWriter {
    void write(StructVector struct, int index, Object value);
  }

  /** Direct writers follow the base schemas' field order: see the logical types' BASE_SCHEMA. */
  private static DirectWriter directWriter(Schema.LogicalType<?, ?> logical) {
    if (logical instanceof ImageType) {
      return (s, i, value) -> {
        Image image = (Image) value;
        setString(s, 0, i, image.format().typeName());
        setBytes((VarBinaryVector) s.getChildByOrdinal(1), i, image.encoded());
      };
    }
    if (logical instanceof TensorType && !((TensorType) logical).isFixedShape()) {
      TensorType tensorType = (TensorType) logical;
      return (s, i, value) -> {
        Tensor t = (Tensor) value;
        tensorType.check(t);
        setString(s, 0, i, t.dtype().typeName());
        ListVector shape = (ListVector) s.getChildByOrdinal(1);
        int start = shape.startNewValue(i);
        BigIntVector dims = (BigIntVector) shape.getDataVector();
        for (int k = 0; k < t.rank(); k++) {
          dims.setSafe(start + k, t.dim(k));
        }
        shape.endValue(i, t.rank());
        setBytes((VarBinaryVector) s.getChildByOrdinal(2), i, t.data());
      };
    }
    if (logical instanceof AudioType) {
      return (s, i, value) -> {
        Audio a = (Audio) value;
        ((IntVector) s.getChildByOrdinal(0)).setSafe(i, a.sampleRate());
        ((IntVector) s.getChildByOrdinal(1)).setSafe(i, a.channels());
        setBytes((VarBinaryVector) s.getChildByOrdinal(2), i, a.samples().data());
      };
    }
    return null;
  }

  private static void setString(StructVector s, int child, int i, String value) {
    ((VarCharVector) s.getChildByOrdinal(child)).setSafe(i, value.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Sets value {@code i} to {@code src}'s remaining bytes in one bulk copy. Arrow's own {@code
   * setSafe(int, ByteBuffer, ...)} copies a read-only heap buffer (what the value types hand out)
   * byte by byte; a direct view of the data buffer takes it with one copy.
   */
  private static void setBytes(VarBinaryVector v, int i, ByteBuffer src) {
    int length = src.remaining();
    v.setValueLengthSafe(i, length); // grows the buffers, fills earlier gaps, sets the end offset
    v.setIndexDefined(i);
    v.getDataBuffer().nioBuffer(v.getStartOffset(i), length).put(src.duplicate());
  }
}
