package io.ainative.multimodal.arrow;

import io.ainative.multimodal.types.Audio;
import io.ainative.multimodal.types.Image;
import io.ainative.multimodal.types.Tensor;
import java.util.Map;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VarBinaryVector;
import org.apache.arrow.vector.complex.StructVector;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;

/**
 * A logical type stored as its base type's Arrow layout, tagged with the URN and argument in the
 * field metadata (images, audio, ragged tensors, object refs, embeddings of any dimension).
 */
final class LogicalColumn extends Column {
  private final Schema.LogicalType<Object, Object> logical;
  private final Column base;

  @SuppressWarnings("unchecked")
  LogicalColumn(String name, FieldType type, Schema.LogicalType<?, ?> logical) {
    super(name, type);
    this.logical = (Schema.LogicalType<Object, Object>) logical;
    this.base = Column.of(name, logical.getBaseType().withNullable(type.getNullable()));
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
        growDataBuffer((VarBinaryVector) child, bytes);
        return;
      }
    }
  }

  @Override
  void writeNonNull(FieldVector v, int i, Object value) {
    base.writeNonNull(v, i, logical.toBaseType(value));
  }

  @Override
  Object readNonNull(FieldVector v, int i) {
    return logical.toInputType(base.readNonNull(v, i));
  }

  @Override
  void checkReadable(FieldVector vector) {
    base.checkReadable(vector);
  }
}
