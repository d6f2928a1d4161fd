package io.ainative.multimodal.schemas;

import io.ainative.multimodal.types.DType;
import io.ainative.multimodal.types.Tensor;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.values.Row;

/**
 * Beam logical type for {@link Tensor}: URN {@value #IDENTIFIER}.
 *
 * <p>Base representation (portable types only): {@code ROW<dtype: STRING, shape: ARRAY<INT64>,
 * data: BYTES>}, where {@code dtype} is a {@link DType#typeName()} (NumPy's name) and {@code data}
 * the row-major little-endian elements.
 *
 * <p>Argument ({@code STRING}): empty for tensors of any dtype and shape ("ragged"), or {@code
 * dtype[d0,d1,...]} (e.g. {@code float32[3,224,224]}) for a column whose every value has that
 * dtype and shape; such columns map to Arrow's {@code arrow.fixed_shape_tensor}. A value that does
 * not match the argument is rejected.
 */
public final class TensorType implements Schema.LogicalType<Tensor, Row> {
  public static final String IDENTIFIER = "beam:logical_type:ainative:tensor:v1";

  public static final Schema BASE_SCHEMA =
      Schema.builder()
          .addStringField("dtype")
          .addArrayField("shape", FieldType.INT64)
          .addByteArrayField("data")
          .build();

  private static final long serialVersionUID = 1L;

  private final String argument;
  private final DType fixedDType; // null when any
  private final long[] fixedShape; // null when any

  private TensorType(String argument, DType dtype, long[] shape) {
    this.argument = argument;
    this.fixedDType = dtype;
    this.fixedShape = shape;
  }

  /** Tensors of any dtype and shape. */
  public static TensorType any() {
    return new TensorType("", null, null);
  }

  /** Tensors of exactly this dtype and shape. */
  public static TensorType fixed(DType dtype, long... shape) {
    Tensor.byteSizeOf(dtype, shape); // validates the dimensions
    long[] s = shape.clone();
    StringBuilder arg = new StringBuilder(dtype.typeName()).append('[');
    for (int i = 0; i < s.length; i++) {
      arg.append(i == 0 ? "" : ",").append(s[i]);
    }
    return new TensorType(arg.append(']').toString(), dtype, s);
  }

  /**
   * Parses an argument string as written by {@link #getArgument()}.
   *
   * @throws IllegalArgumentException naming the argument when it is malformed
   */
  public static TensorType fromArgument(String argument) {
    if (argument == null || argument.isEmpty()) {
      return any();
    }
    int open = argument.indexOf('[');
    if (open <= 0 || !argument.endsWith("]")) {
      throw new IllegalArgumentException(
          "tensor type argument '" + argument + "' is not dtype[d0,d1,...]");
    }
    DType dtype = DType.fromTypeName(argument.substring(0, open));
    String dims = argument.substring(open + 1, argument.length() - 1);
    long[] shape =
        dims.isEmpty()
            ? new long[0]
            : Arrays.stream(dims.split(",")).mapToLong(d -> Long.parseLong(d.trim())).toArray();
    return fixed(dtype, shape);
  }

  public boolean isFixedShape() {
    return fixedShape != null;
  }

  /** The dtype of a fixed-shape column; only when {@link #isFixedShape()}. */
  public DType fixedDType() {
    requireFixed();
    return fixedDType;
  }

  /** The shape of a fixed-shape column; only when {@link #isFixedShape()}. */
  public long[] fixedShape() {
    requireFixed();
    return fixedShape.clone();
  }

  private void requireFixed() {
    if (fixedShape == null) {
      throw new IllegalStateException("tensor type " + IDENTIFIER + " has no fixed shape");
    }
  }

  @Override
  public String getIdentifier() {
    return IDENTIFIER;
  }

  @Override
  public FieldType getArgumentType() {
    return FieldType.STRING;
  }

  @Override
  @SuppressWarnings("unchecked")
  public String getArgument() {
    return argument;
  }

  @Override
  public FieldType getBaseType() {
    return FieldType.row(BASE_SCHEMA);
  }

  @Override
  public Row toBaseType(Tensor input) {
    check(input);
    List<Long> shape = new ArrayList<>(input.rank());
    for (int i = 0; i < input.rank(); i++) {
      shape.add(input.dim(i));
    }
    return Row.withSchema(BASE_SCHEMA)
        .addValues(input.dtype().typeName(), shape, input.toByteArray())
        .build();
  }

  @Override
  public Tensor toInputType(Row base) {
    String dtypeName = base.getString("dtype");
    List<Long> shapeList = new ArrayList<>(base.getArray("shape"));
    byte[] data = base.getBytes("data");
    if (dtypeName == null || data == null) {
      throw new IllegalArgumentException("tensor row has a null dtype or data: " + base);
    }
    long[] shape = new long[shapeList.size()];
    for (int i = 0; i < shape.length; i++) {
      Long d = shapeList.get(i);
      if (d == null) {
        throw new IllegalArgumentException("tensor shape[" + i + "] is null");
      }
      shape[i] = d;
    }
    Tensor t = Tensor.wrap(DType.fromTypeName(dtypeName), shape, ByteBuffer.wrap(data));
    check(t);
    return t;
  }

  /**
   * @throws IllegalArgumentException when a fixed-shape type gets a tensor of another dtype or
   *     shape
   */
  public void check(Tensor t) {
    if (fixedShape != null
        && (t.dtype() != fixedDType || !Arrays.equals(t.shape(), fixedShape))) {
      throw new IllegalArgumentException(
          "tensor " + t + " does not match the column type " + argument);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorType && ((TensorType) o).argument.equals(argument);
  }

  @Override
  public int hashCode() {
    return Objects.hash(IDENTIFIER, argument);
  }

  @Override
  public String toString() {
    return "TensorType{" + (argument.isEmpty() ? "any" : argument) + "}";
  }
}
