package io.ainative.multimodal.arrow;

import io.ainative.multimodal.schemas.EmbeddingType;
import io.ainative.multimodal.types.DType;
import io.ainative.multimodal.types.Embedding;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.StructVector;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.beam.sdk.schemas.Schema.FieldType;

/**
 * Embeddings of one dimension as {@code Struct<values: FixedSizeList<float32>[dim], model_id:
 * nullable Utf8>}.
 */
final class FixedEmbeddingColumn extends Column {
  private final EmbeddingType embeddingType;
  private final int dimension;

  FixedEmbeddingColumn(String name, FieldType type, EmbeddingType embeddingType) {
    super(name, type);
    this.embeddingType = embeddingType;
    this.dimension = embeddingType.dimension();
  }

  @Override
  Field arrowField() {
    Field item =
        new Field(
            "item",
            org.apache.arrow.vector.types.pojo.FieldType.nullable(
                FixedWidthLists.arrowType(DType.FLOAT32)),
            null);
    Field values =
        new Field(
            "values",
            org.apache.arrow.vector.types.pojo.FieldType.notNullable(
                new ArrowType.FixedSizeList(dimension)),
            List.of(item));
    Field modelId =
        new Field(
            "model_id",
            org.apache.arrow.vector.types.pojo.FieldType.nullable(ArrowType.Utf8.INSTANCE),
            null);
    return new Field(
        name,
        new org.apache.arrow.vector.types.pojo.FieldType(
            type.getNullable(), ArrowType.Struct.INSTANCE, null, logicalMetadata(embeddingType)),
        List.of(values, modelId));
  }

  @Override
  void writeNonNull(FieldVector v, int i, Object value) {
    Embedding e = (Embedding) value;
    try {
      embeddingType.check(e);
    } catch (IllegalArgumentException ex) {
      throw new IllegalArgumentException("field '" + name + "': " + ex.getMessage(), ex);
    }
    StructVector struct = (StructVector) v;
    struct.setIndexDefined(i);
    ByteBuffer bytes = e.littleEndianData();
    FixedWidthLists.write(values(struct), i, DType.FLOAT32, bytes);
    VarCharVector model = modelIds(struct);
    if (e.modelId().isPresent()) {
      model.setSafe(i, e.modelId().get().getBytes(StandardCharsets.UTF_8));
    } else {
      model.setNull(i);
    }
  }

  @Override
  Object readNonNull(FieldVector v, int i) {
    StructVector struct = (StructVector) v;
    byte[] bytes = FixedWidthLists.read(values(struct), i, DType.FLOAT32);
    VarCharVector model = modelIds(struct);
    String modelId =
        model.isNull(i) ? null : new String(model.get(i), StandardCharsets.UTF_8);
    return Embedding.wrapLittleEndian(bytes, modelId);
  }

  @Override
  void checkReadable(FieldVector vector) {
    FixedWidthLists.checkNoNullElements(values((StructVector) vector), name);
  }

  private FixedSizeListVector values(StructVector struct) {
    return (FixedSizeListVector) struct.getChildByOrdinal(0);
  }

  private VarCharVector modelIds(StructVector struct) {
    return (VarCharVector) struct.getChildByOrdinal(1);
  }
}
