package io.ainative.transforms.images;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.ainative.multimodal.types.DType;
import io.ainative.multimodal.types.Embedding;
import io.ainative.multimodal.types.Tensor;
import io.ainative.transforms.ModelSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ShortBuffer;
import java.util.List;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Ready-made processing functions between the multimodal types ({@link Tensor}, {@link
 * Embedding}) and the model's {@link NDList}, for {@code ModelSpec.Builder.setProcessing}:
 *
 * <pre>{@code
 * ModelSpec<Tensor, Embedding> spec =
 *     ModelSpec.<Tensor, Embedding>builder()
 *         .setModelUri("/models/encoder")
 *         .setProcessing(TensorProcessing.preProcess(), TensorProcessing.toEmbedding("encoder-v1"))
 *         .build();
 * }</pre>
 *
 * <p>A post-processing function reads the model's output for one element (RunInference has
 * removed the batch dimension) and copies out what it keeps. Tensor bytes are little-endian, as
 * are the engines' on every platform PyTorch runs on; they are handed over as they are.
 */
public final class TensorProcessing {
  private TensorProcessing() {}

  /** The tensor as one array of its own dtype and shape (int16: int32, see {@link #toNDArray}). */
  public static ModelSpec.PreProcessFn<Tensor> preProcess() {
    return (manager, tensor) -> new NDList(toNDArray(manager, tensor));
  }

  /** The tensor as one float32 array of its shape (other dtypes are converted). */
  public static ModelSpec.PreProcessFn<Tensor> preProcessAsFloat32() {
    return (manager, tensor) -> {
      NDArray array = toNDArray(manager, tensor);
      return new NDList(
          array.getDataType() == DataType.FLOAT32 ? array : array.toType(DataType.FLOAT32, false));
    };
  }

  /** The model's first output as a {@link Tensor} of its dtype and shape. */
  public static ModelSpec.PostProcessFn<Tensor> toTensor() {
    return toTensor(0);
  }

  /** The model's output number {@code index} as a {@link Tensor} of its dtype and shape. */
  public static ModelSpec.PostProcessFn<Tensor> toTensor(int index) {
    if (index < 0) {
      throw new IllegalArgumentException("TensorProcessing.toTensor: index must be >= 0, was " + index);
    }
    return output -> fromNDArray(output(output, index));
  }

  /**
   * The model's first output as an {@link Embedding}: all its values in row-major order, as
   * float32.
   *
   * @param modelId the producing model's id recorded in the embedding, or null
   */
  public static ModelSpec.PostProcessFn<Embedding> toEmbedding(@Nullable String modelId) {
    if (modelId != null && modelId.isEmpty()) {
      throw new IllegalArgumentException("TensorProcessing.toEmbedding: modelId must be null or non-empty");
    }
    return output -> {
      NDArray array = output(output, 0);
      if (array.getDataType() != DataType.FLOAT32) {
        array = array.toType(DataType.FLOAT32, false);
      }
      return Embedding.of(array.toFloatArray(), modelId);
    };
  }

  /** The index of the largest value of the model's first output (flattened; the first on a tie). */
  public static ModelSpec.PostProcessFn<Integer> argMax() {
    return output -> argMaxOf(output(output, 0));
  }

  /**
   * {@link #argMax} for a batch, for {@code ModelSpec.Builder#setBatchProcessing}: the index of the
   * largest value of each row of the model's first output ({@code [N, classes]}), read with one call.
   */
  public static ModelSpec.BatchPostProcessFn<Integer> batchArgMax() {
    return output -> {
      NDArray scores = output.get(0);
      if (scores.getShape().dimension() != 2) {
        throw new IllegalArgumentException(
            "batchArgMax needs an output of shape [batch, classes], got " + scores.getShape());
      }
      long[] labels = scores.argMax(1).toLongArray();
      List<Integer> result = new java.util.ArrayList<>(labels.length);
      for (long label : labels) {
        result.add((int) label);
      }
      return result;
    };
  }

  /**
   * The label at the index of the largest value of the model's first output.
   *
   * @throws IllegalArgumentException when {@code labels} is empty; the function throws one naming
   *     the index and the number of labels when the model gives more classes than labels
   */
  public static ModelSpec.PostProcessFn<String> argMaxLabel(List<String> labels) {
    if (labels == null || labels.isEmpty()) {
      throw new IllegalArgumentException("TensorProcessing.argMaxLabel: labels must not be empty");
    }
    String[] names = labels.toArray(new String[0]);
    return output -> {
      int index = argMaxOf(output(output, 0));
      if (index >= names.length) {
        throw new IllegalArgumentException(
            "the model's largest score is at class " + index + ", but there are only "
                + names.length + " labels");
      }
      return names[index];
    };
  }

  /**
   * {@code tensor} as an array of the same dtype and shape, owned by {@code manager}; int16 is
   * widened to int32, because DJL's PyTorch engine aborts the JVM on an int16 array.
   */
  public static NDArray toNDArray(NDManager manager, Tensor tensor) {
    Shape shape = new Shape(tensor.shape());
    if (tensor.dtype() == DType.INT16) {
      ShortBuffer shorts = tensor.data().asShortBuffer();
      int[] ints = new int[shorts.remaining()];
      for (int i = 0; i < ints.length; i++) {
        ints[i] = shorts.get(i);
      }
      return manager.create(ints, shape);
    }
    return manager.create(tensor.data(), shape, dataType(tensor.dtype()));
  }

  /** A copy of {@code array} as a {@link Tensor}. */
  public static Tensor fromNDArray(NDArray array) {
    DType dtype = dtype(array.getDataType());
    ByteBuffer engine = array.toByteBuffer();
    ByteBuffer copy = ByteBuffer.allocate(engine.remaining()).order(ByteOrder.LITTLE_ENDIAN);
    // Typed views copy values, so this holds whatever the engine's byte order.
    switch (dtype.byteWidth()) {
      case 1:
        copy.put(engine);
        break;
      case 2:
        copy.asShortBuffer().put(engine.asShortBuffer());
        break;
      case 4:
        copy.asIntBuffer().put(engine.asIntBuffer());
        break;
      default:
        copy.asLongBuffer().put(engine.asLongBuffer());
    }
    copy.rewind();
    return Tensor.wrap(dtype, array.getShape().getShape(), copy);
  }

  private static NDArray output(NDList output, int index) {
    if (index >= output.size()) {
      throw new IllegalArgumentException(
          "the model gave " + output.size() + " outputs, so there is no output " + index);
    }
    return output.get(index);
  }

  private static int argMaxOf(NDArray array) {
    if (array.size() == 0) {
      throw new IllegalArgumentException("the model's output " + array.getShape() + " is empty");
    }
    return Math.toIntExact(array.flatten().argMax().getLong());
  }

  private static DataType dataType(DType dtype) {
    switch (dtype) {
      case BOOL:
        return DataType.BOOLEAN;
      case UINT8:
        return DataType.UINT8;
      case INT8:
        return DataType.INT8;
      case INT32:
        return DataType.INT32;
      case INT64:
        return DataType.INT64;
      case FLOAT16:
        return DataType.FLOAT16;
      case FLOAT32:
        return DataType.FLOAT32;
      case FLOAT64:
        return DataType.FLOAT64;
      default:
        throw new AssertionError(dtype);
    }
  }

  private static DType dtype(DataType type) {
    switch (type) {
      case BOOLEAN:
        return DType.BOOL;
      case UINT8:
        return DType.UINT8;
      case INT8:
        return DType.INT8;
      case INT16:
        return DType.INT16;
      case INT32:
        return DType.INT32;
      case INT64:
        return DType.INT64;
      case FLOAT16:
        return DType.FLOAT16;
      case FLOAT32:
        return DType.FLOAT32;
      case FLOAT64:
        return DType.FLOAT64;
      default:
        throw new IllegalArgumentException(
            "no multimodal Tensor dtype for the model's output type " + type
                + "; convert it in a post-processing function of your own");
    }
  }
}
