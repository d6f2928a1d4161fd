package io.ainative.transforms.images;

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
 * An image "classifier" small enough to reason about: {@code [N, C, H, W]} to the mean of each
 * channel, {@code [N, C]}, so its arg-max is the image's dominant color. Saved with DJL (a block
 * without parameters) in a fresh directory, as {@code TinyModels} does.
 */
final class ChannelMeansModel {
  static final String NAME = "channel-means";

  private ChannelMeansModel() {}

  static Block block() {
    return new LambdaBlock(
        list -> {
          NDArray x = list.singletonOrThrow();
          Shape s = x.getShape(); // PyTorch in DJL averages over one axis at a time
          return new NDList(x.reshape(s.get(0), s.get(1), -1).mean(new int[] {2}));
        },
        NAME);
  }

  static Path save(Path root) {
    try {
      Path dir = Files.createTempDirectory(root, NAME);
      try (Model model = Model.newInstance(NAME, "PyTorch");
          NDManager manager = model.getNDManager().newSubManager()) {
        Block block = block();
        block.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 4, 4));
        model.setBlock(block);
        model.save(dir, NAME);
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
