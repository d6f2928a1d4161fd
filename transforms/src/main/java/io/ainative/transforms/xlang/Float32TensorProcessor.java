package io.ainative.transforms.xlang;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.ainative.transforms.ModelSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;

/**
 * {@value NamedProcessor#FLOAT32_TENSOR}: one float32 tensor in, as its raw little-endian bytes in
 * row-major order, of the fixed shape {@code tensor_shape} (without the batch dimension); the
 * model's first output for it out, as float32: {@code shape} (ARRAY&lt;INT64&gt;) and {@code
 * values} (ARRAY&lt;FLOAT&gt;, row-major).
 */
final class Float32TensorProcessor extends NamedProcessor {
  private static final long serialVersionUID = 1L;

  static final Schema SCHEMA =
      Schema.builder()
          .addArrayField("shape", Schema.FieldType.INT64)
          .addArrayField("values", Schema.FieldType.FLOAT)
          .build();

  private final long[] shape;
  private final int values;

  private Float32TensorProcessor(long[] shape, int values) {
    this.shape = shape;
    this.values = values;
  }

  static Float32TensorProcessor of(RunInferenceExternal.Configuration config) {
    if (config.tensorShape == null || config.tensorShape.isEmpty()) {
      throw new IllegalArgumentException(
          "tensor_shape: required for processor '" + FLOAT32_TENSOR + "' (the shape of one input, without the batch dimension)");
    }
    if (config.imageHeight != null || config.imageWidth != null || config.imageChannels != null) {
      throw new IllegalArgumentException(
          "image_height, image_width, image_channels: only for processor '" + IMAGE_CLASSIFIER + "'");
    }
    long[] shape = new long[config.tensorShape.size()];
    long product = 1;
    for (int i = 0; i < shape.length; i++) {
      Long d = config.tensorShape.get(i);
      if (d == null || d < 1) {
        throw new IllegalArgumentException("tensor_shape: dimension " + i + " must be >= 1, was " + d + " in " + config.tensorShape);
      }
      shape[i] = d;
      product *= d;
      if (product > Integer.MAX_VALUE / 4) {
        throw new IllegalArgumentException("tensor_shape: " + config.tensorShape + " is too large for one element");
      }
    }
    return new Float32TensorProcessor(shape, (int) product);
  }

  @Override
  Schema outputSchema() {
    return SCHEMA;
  }

  @Override
  ModelSpec.Builder<byte[], Row> configure(ModelSpec.Builder<byte[], Row> spec) {
    int bytes = values * Float.BYTES;
    return spec.setProcessing(this::preProcess, this::postProcess).optWarmupInput(() -> new byte[bytes]);
  }

  private NDList preProcess(NDManager manager, byte[] input) {
    if (input.length != values * Float.BYTES) {
      throw new IllegalArgumentException(
          "input has " + input.length + " bytes; tensor_shape " + java.util.Arrays.toString(shape)
              + " of float32 needs " + values * Float.BYTES);
    }
    float[] data = new float[values];
    ByteBuffer.wrap(input).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(data);
    return new NDList(manager.create(data, new Shape(shape)));
  }

  private Row postProcess(NDList output) {
    NDArray result = output.get(0).toType(DataType.FLOAT32, false);
    List<Long> dims = new ArrayList<>();
    for (long d : result.getShape().getShape()) {
      dims.add(d);
    }
    float[] data = result.toFloatArray();
    List<Float> list = new ArrayList<>(data.length);
    for (float v : data) {
      list.add(v);
    }
    return Row.withSchema(SCHEMA).addValues(dims, list).build();
  }
}
