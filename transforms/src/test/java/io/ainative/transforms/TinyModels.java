package io.ainative.transforms;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.LambdaBlock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A model small enough to reason about: it doubles its input, and fails its whole batch when any
 * input is negative, like a real model fed one malformed element. Saved with DJL in a fresh
 * directory.
 */
public final class TinyModels {
  public static final String NAME = "doubler";

  private TinyModels() {}

  /** The architecture (no parameters). */
  public static Block doubler() {
    return new LambdaBlock(
        list -> {
          NDArray x = list.singletonOrThrow();
          if (x.lt(0).any().getBoolean()) {
            throw new IllegalArgumentException("negative input in a batch of " + x.getShape());
          }
          return new NDList(x.mul(2));
        },
        "doubler");
  }

  /** Saves the doubler in a new directory under {@code root} and returns the directory. */
  public static Path saveDoubler(Path root) {
    try {
      Path dir = Files.createTempDirectory(root, NAME);
      try (Model model = Model.newInstance(NAME, "PyTorch");
          NDManager manager = model.getNDManager().newSubManager()) {
        Block block = doubler();
        block.initialize(manager, DataType.FLOAT32, new Shape(1, 1));
        model.setBlock(block);
        model.save(dir, NAME);
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@link #doublerSpec} with batch processing: the same failure rules, applied to whole batches. */
  public static ModelSpec.Builder<Float, Float> doublerBatchSpec(Path dir) {
    return ModelSpec.<Float, Float>builder()
        .setModelUri(dir.toString())
        .optModelName(NAME)
        .optBlock(TinyModels::doubler)
        .setBatchProcessing(
            (manager, xs) -> {
              float[] values = new float[xs.size()];
              for (int i = 0; i < values.length; i++) {
                if (xs.get(i).isNaN()) {
                  throw new IllegalArgumentException("NaN input");
                }
                values[i] = xs.get(i);
              }
              return new NDList(manager.create(values, new Shape(values.length, 1)));
            },
            output -> {
              java.util.List<Float> ys = new java.util.ArrayList<>();
              for (float y : output.singletonOrThrow().toFloatArray()) {
                if (y > 1000f) {
                  throw new IllegalStateException("output " + y + " out of range");
                }
                ys.add(y);
              }
              return ys;
            });
  }

  /**
   * Input a float, output the doubled float. Pre-processing fails for NaN, post-processing for
   * outputs above 1000, so each step's failure can be provoked by one element.
   */
  public static ModelSpec.Builder<Float, Float> doublerSpec(Path dir) {
    return ModelSpec.<Float, Float>builder()
        .setModelUri(dir.toString())
        .optModelName(NAME)
        .optBlock(TinyModels::doubler)
        .setProcessing(
            (manager, x) -> {
              if (x.isNaN()) {
                throw new IllegalArgumentException("NaN input");
              }
              return new NDList(manager.create(new float[] {x}));
            },
            output -> {
              float y = output.singletonOrThrow().getFloat(0);
              if (y > 1000f) {
                throw new IllegalStateException("output " + y + " out of range");
              }
              return y;
            });
  }
}
