package io.ainative.multimodal.arrow;

import io.ainative.multimodal.schemas.EmbeddingType;
import io.ainative.multimodal.schemas.MultimodalLogicalTypes;
import io.ainative.multimodal.schemas.TensorType;
import java.util.HashMap;
import java.util.Map;
import org.apache.arrow.vector.BaseVariableWidthVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;

/**
 * Moves the values of one Beam field to and from one Arrow vector. A column tree mirrors the
 * field's type (lists and rows have child columns). Columns are stateless and may be shared;
 * vectors are not thread safe, so one thread writes or reads a vector at a time.
 */
abstract class Column {
  /** Arrow field metadata key holding the Beam logical type URN. */
  static final String URN_KEY = "beam:logical_type";

  /** Arrow field metadata key holding the logical type's argument as a string. */
  static final String ARGUMENT_KEY = "beam:logical_type:argument";

  final String name;
  final FieldType type;

  Column(String name, FieldType type) {
    this.name = name;
    this.type = type;
  }

  static Column of(String name, FieldType type) {
    switch (type.getTypeName()) {
      case LOGICAL_TYPE:
        Schema.LogicalType<?, ?> logical = type.getLogicalType();
        if (logical instanceof TensorType && ((TensorType) logical).isFixedShape()) {
          return new FixedTensorColumn(name, type, (TensorType) logical);
        }
        if (logical instanceof EmbeddingType && ((EmbeddingType) logical).dimension() > 0) {
          return new FixedEmbeddingColumn(name, type, (EmbeddingType) logical);
        }
        return new LogicalColumn(name, type, logical);
      case ARRAY:
      case ITERABLE:
        return new ListColumn(name, type, of("item", type.getCollectionElementType()));
      case ROW:
        return new StructColumn(name, type, type.getRowSchema());
      default:
        return new PrimitiveColumn(name, type);
    }
  }

  /** The Arrow field (with children) that holds this column. */
  abstract Field arrowField();

  /** Writes a non-null value at {@code index}, growing the vector as needed. */
  abstract void writeNonNull(FieldVector vector, int index, Object value);

  /** Reads the non-null value at {@code index}. */
  abstract Object readNonNull(FieldVector vector, int index);

  /**
   * Bytes of variable-width data a non-null value adds (0 when not worth presizing); summed over a
   * batch and passed to {@link #reserve} so big binary columns are allocated once instead of
   * doubling through every size.
   */
  long variableBytes(Object value) {
    return 0;
  }

  /**
   * Sizes the vector's variable-width data buffer for {@code bytes}; called once on a freshly
   * allocated vector, before any value is written.
   */
  void reserve(FieldVector vector, long bytes) {}

  /**
   * Allocates the data buffer of an empty variable-width vector at exactly {@code bytes} (Arrow's
   * {@code reallocDataBuffer} would round up to a power of two: 64 MiB for a 33 MiB batch).
   */
  static void reserveDataBuffer(BaseVariableWidthVector v, long bytes) {
    if (bytes > v.getDataBuffer().capacity()) {
      v.allocateNew(bytes, Math.max(v.getValueCapacity(), 1));
    }
  }

  /** Checks a vector to be read once per batch; may reject content the reader cannot map. */
  void checkReadable(FieldVector vector) {}

  final void write(FieldVector vector, int index, Object value) {
    if (value == null) {
      if (!type.getNullable()) {
        throw new IllegalArgumentException("field '" + name + "' is null but not nullable");
      }
      vector.setNull(index);
    } else {
      writeNonNull(vector, index, value);
    }
  }

  final Object read(FieldVector vector, int index) {
    return vector.isNull(index) ? null : readNonNull(vector, index);
  }

  static Map<String, String> logicalMetadata(Schema.LogicalType<?, ?> logical) {
    Map<String, String> m = new HashMap<>();
    m.put(URN_KEY, logical.getIdentifier());
    m.put(ARGUMENT_KEY, MultimodalLogicalTypes.argumentString(logical));
    return m;
  }
}
