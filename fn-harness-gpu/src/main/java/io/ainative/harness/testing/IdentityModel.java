package io.ainative.harness.testing;

import ai.djl.Model;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.LambdaBlock;
import io.ainative.transforms.ModelSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A model that returns its input: float vectors of one width in, the same vectors out. It costs
 * almost nothing to run, so a pipeline around it measures the overhead of everything else
 * (batching, transport, the service's batcher, the client). Saved as DJL parameters ({@value
 * #MODEL_NAME}-0000.params, no weights).
 */
public final class IdentityModel {
  public static final String MODEL_NAME = "identity";

  private IdentityModel() {}

  public static Block newBlock() {
    return new LambdaBlock(list -> list, "identity");
  }

  /** The model directory under {@code root}, written if it is not there yet. */
  public static synchronized Path saved(Path root) {
    Path dir = root.resolve(MODEL_NAME);
    try {
      if (Files.isRegularFile(dir.resolve(MODEL_NAME + "-0000.params"))) {
        return dir;
      }
      Files.createDirectories(dir);
      try (Model model = Model.newInstance(MODEL_NAME, "PyTorch")) {
        model.setBlock(newBlock());
        model.getBlock().initialize(model.getNDManager(), ai.djl.ndarray.types.DataType.FLOAT32, new Shape(1, 1));
        model.save(dir, MODEL_NAME);
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the identity model under " + root, e);
    }
  }

  /** Vectors of {@code width} floats in, the same out; the batch is built with one native copy. */
  public static ModelSpec<float[], float[]> spec(Path dir, int width) {
    return ModelSpec.<float[], float[]>builder()
        .setModelUri(dir.toString())
        .optModelName(MODEL_NAME)
        .optBlock(IdentityModel::newBlock)
        .setBatchProcessing(
            (manager, vectors) -> {
              float[] batch = new float[vectors.size() * width];
              for (int i = 0; i < vectors.size(); i++) {
                float[] v = vectors.get(i);
                if (v.length != width) {
                  throw new IllegalArgumentException("vector " + i + " has " + v.length + " values, expected " + width);
                }
                System.arraycopy(v, 0, batch, i * width, width);
              }
              return new NDList(manager.create(batch, new Shape(vectors.size(), width)));
            },
            output -> {
              float[] all = output.singletonOrThrow().toFloatArray();
              int n = all.length / width;
              List<float[]> result = new ArrayList<>(n);
              for (int i = 0; i < n; i++) {
                float[] v = new float[width];
                System.arraycopy(all, i * width, v, 0, width);
                result.add(v);
              }
              return result;
            })
        .build();
  }
}
