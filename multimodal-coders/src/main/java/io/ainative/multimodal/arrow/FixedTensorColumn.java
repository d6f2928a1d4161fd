package io.ainative.multimodal.arrow;

import io.ainative.multimodal.schemas.TensorType;
import io.ainative.multimodal.types.DType;
import io.ainative.multimodal.types.Tensor;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.arrow.vector.ExtensionTypeVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.beam.sdk.schemas.Schema.FieldType;

/** Tensors of one dtype and shape as {@code arrow.fixed_shape_tensor}. */
final class FixedTensorColumn extends Column {
  private final TensorType tensorType;
  private final DType dtype;
  private final long[] shape;

  FixedTensorColumn(String name, FieldType type, TensorType tensorType) {
    super(name, type);
    this.tensorType = tensorType;
    this.dtype = tensorType.fixedDType();
    this.shape = tensorType.fixedShape();
  }

  @Override
  Field arrowField() {
    return new Field(
        name,
        new org.apache.arrow.vector.types.pojo.FieldType(
            type.getNullable(), new FixedShapeTensorType(shape), null, logicalMetadata(tensorType)),
        List.of(
            new Field(
                "item",
                org.apache.arrow.vector.types.pojo.FieldType.nullable(
                    FixedWidthLists.arrowType(dtype)),
                null)));
  }

  @Override
  void writeNonNull(FieldVector v, int i, Object value) {
    Tensor t = (Tensor) value;
    try {
      tensorType.check(t);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("field '" + name + "': " + e.getMessage(), e);
    }
    FixedWidthLists.write(storage(v), i, dtype, t.data());
  }

  @Override
  Object readNonNull(FieldVector v, int i) {
    byte[] data = FixedWidthLists.read(storage(v), i, dtype);
    return Tensor.wrap(dtype, shape, ByteBuffer.wrap(data));
  }

  @Override
  void checkReadable(FieldVector vector) {
    FixedWidthLists.checkNoNullElements(storage(vector), name);
  }

  @SuppressWarnings("unchecked")
  private FixedSizeListVector storage(FieldVector v) {
    if (v instanceof ExtensionTypeVector) {
      return ((ExtensionTypeVector<FixedSizeListVector>) v).getUnderlyingVector();
    }
    if (v instanceof FixedSizeListVector) {
      return (FixedSizeListVector) v;
    }
    throw new IllegalArgumentException(
        "field '" + name + "' is a " + v.getField().getType() + ", not a fixed-shape tensor");
  }
}
