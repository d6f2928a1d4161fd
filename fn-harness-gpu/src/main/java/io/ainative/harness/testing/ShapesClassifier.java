package io.ainative.harness.testing;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import io.ainative.multimodal.types.Image;
import io.ainative.transforms.ModelSpec;
import io.ainative.transforms.images.ImagePreprocessing;
import io.ainative.transforms.images.TensorProcessing;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/**
 * A small CNN that tells circles, squares and triangles ({@link ShapeImages}) apart, trained in
 * seconds on the CPU with DJL and saved as DJL parameters ({@value #MODEL_NAME}-0000.params).
 *
 * <p>{@link #trainedModel} trains at most once per directory: a model already saved there with
 * the same recipe is reused, so a test JVM (or a benchmark run) pays for training once.
 */
public final class ShapesClassifier {
  /** The DJL model name: the prefix of the parameters file. */
  public static final String MODEL_NAME = "shapes";

  /** Changes whenever the architecture or training recipe changes; invalidates cached models. */
  private static final String RECIPE = "shapes-cnn-v2";

  private static final int TRAIN_SAMPLES = 6000;
  private static final int EPOCHS = 8;
  private static final int BATCH = 32;
  private static final long SEED = 42;
  private static final float LEARNING_RATE = 0.003f;

  private ShapesClassifier() {}

  /** The architecture: two conv/relu/pool stages, then two dense layers to 3 classes. */
  public static Block newBlock() {
    return new SequentialBlock()
        .add(Conv2d.builder().setKernelShape(new Shape(3, 3)).optPadding(new Shape(1, 1)).setFilters(8).build())
        .add(Activation.reluBlock())
        .add(Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2)))
        .add(Conv2d.builder().setKernelShape(new Shape(3, 3)).optPadding(new Shape(1, 1)).setFilters(16).build())
        .add(Activation.reluBlock())
        .add(Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2)))
        .add(Blocks.batchFlattenBlock())
        .add(Linear.builder().setUnits(32).build())
        .add(Activation.reluBlock())
        .add(Linear.builder().setUnits(ShapeImages.CLASSES).build());
  }

  /**
   * The directory of a trained model for {@code size x size} images with {@code channels}
   * channels under {@code cacheRoot}, training and saving it first if it is not there yet.
   * Synchronized: concurrent callers in one JVM train once.
   */
  public static synchronized Path trainedModel(Path cacheRoot, int size, int channels) {
    Path dir = cacheRoot.resolve(MODEL_NAME + "-" + channels + "x" + size + "x" + size);
    Path marker = dir.resolve("RECIPE");
    try {
      if (Files.isRegularFile(marker)
          && RECIPE.equals(Files.readString(marker, StandardCharsets.UTF_8).trim())) {
        return dir;
      }
      Files.createDirectories(cacheRoot);
      Path tmp = Files.createTempDirectory(cacheRoot, MODEL_NAME + "-training-");
      train(tmp, size, channels);
      Files.writeString(tmp.resolve("RECIPE"), RECIPE, StandardCharsets.UTF_8);
      deleteTree(dir);
      Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare the shapes model under " + cacheRoot, e);
    }
  }

  /** Trains the classifier on freshly drawn images and saves it into {@code dir}. */
  public static void train(Path dir, int size, int channels) throws IOException {
    Engine engine = Engine.getEngine("PyTorch");
    engine.setRandomSeed((int) SEED);
    ShapeImages images = new ShapeImages(size, channels, SEED);
    int pixels = images.pixels();
    float[][] data = new float[TRAIN_SAMPLES][];
    float[] labels = new float[TRAIN_SAMPLES];
    for (int i = 0; i < TRAIN_SAMPLES; i++) {
      ShapeImages.Sample s = images.next();
      data[i] = s.pixels();
      labels[i] = s.label();
    }
    Random shuffle = new Random(SEED);
    int[] order = new int[TRAIN_SAMPLES];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    // one intra-op thread: the model is too small to gain from more, and OpenMP threads that
    // spin-wait slow training down many times on a busy machine
    int threads = JniUtils.getNumThreads();
    JniUtils.setNumThreads(1);
    try (Model model = Model.newInstance(MODEL_NAME, Device.cpu(), "PyTorch")) {
      model.setBlock(newBlock());
      DefaultTrainingConfig config =
          new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
              .optOptimizer(
                  Optimizer.adam().optLearningRateTracker(Tracker.fixed(LEARNING_RATE)).build())
              .optDevices(new Device[] {Device.cpu()});
      try (Trainer trainer = model.newTrainer(config)) {
        trainer.initialize(new Shape(1, channels, size, size));
        float[] x = new float[BATCH * pixels];
        float[] y = new float[BATCH];
        for (int epoch = 0; epoch < EPOCHS; epoch++) {
          shuffle(order, shuffle);
          // batches are built in Java: DJL's ArrayDataset indexes native arrays per sample,
          // which costs more than the training step for a model this small
          for (int start = 0; start + BATCH <= TRAIN_SAMPLES; start += BATCH) {
            for (int k = 0; k < BATCH; k++) {
              System.arraycopy(data[order[start + k]], 0, x, k * pixels, pixels);
              y[k] = labels[order[start + k]];
            }
            try (NDManager batch = trainer.getManager().newSubManager()) {
              NDList input = new NDList(batch.create(x, new Shape(BATCH, channels, size, size)));
              NDList label = new NDList(batch.create(y, new Shape(BATCH)));
              try (GradientCollector collector = trainer.newGradientCollector()) {
                NDList prediction = trainer.forward(input, label);
                collector.backward(trainer.getLoss().evaluate(label, prediction));
              }
              trainer.step();
            }
          }
        }
      }
      model.save(dir, MODEL_NAME);
    } finally {
      JniUtils.setNumThreads(threads);
    }
  }

  private static void shuffle(int[] order, Random random) {
    for (int i = order.length - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
  }

  /**
   * The spec that loads the model in {@code dir}: input a {@code channels x size x size} float
   * image ({@link ShapeImages}), output the predicted label.
   */
  public static ModelSpec<float[], Integer> spec(Path dir, int size, int channels) {
    return specBuilder(dir, size, channels).build();
  }

  /** {@link #spec}'s builder, for adding options (device, warm-up input) before building. */
  public static ModelSpec.Builder<float[], Integer> specBuilder(Path dir, int size, int channels) {
    Shape shape = new Shape(channels, size, size);
    long[] dims = shape.getShape();
    return ModelSpec.<float[], Integer>builder()
        .setModelUri(dir.toString())
        .optModelName(MODEL_NAME)
        .optBlock(ShapesClassifier::newBlock)
        .setProcessing(
            (manager, pixels) -> new NDList(manager.create(pixels, new Shape(dims))),
            output -> (int) output.singletonOrThrow().argMax().getLong());
  }

  /**
   * The spec that loads the model in {@code dir} for gray {@code size x size} {@link Image} inputs
   * (the PNG files of {@link ShapeImageFiles}), pre-processed by the library's {@link
   * ImagePreprocessing} a batch at a time; output the predicted label.
   */
  public static ModelSpec<Image, Integer> imageSpec(Path dir, int size) {
    return ModelSpec.<Image, Integer>builder()
        .setModelUri(dir.toString())
        .optModelName(MODEL_NAME)
        .optBlock(ShapesClassifier::newBlock)
        .setBatchProcessing(
            ImagePreprocessing.create().withChannels(1).withRequiredSize(size, size).batch(),
            TensorProcessing.batchArgMax())
        .build();
  }

  /**
   * Like {@link #specBuilder}, with batch processing: the batch is built with one native copy and
   * the labels read with one arg-max, instead of per image.
   */
  public static ModelSpec.Builder<float[], Integer> batchSpecBuilder(
      Path dir, int size, int channels) {
    int pixels = channels * size * size;
    return ModelSpec.<float[], Integer>builder()
        .setModelUri(dir.toString())
        .optModelName(MODEL_NAME)
        .optBlock(ShapesClassifier::newBlock)
        .setBatchProcessing(
            (manager, images) -> {
              float[] batch = new float[images.size() * pixels];
              for (int i = 0; i < images.size(); i++) {
                float[] image = images.get(i);
                if (image.length != pixels) {
                  throw new IllegalArgumentException(
                      "image " + i + " has " + image.length + " values, expected " + pixels);
                }
                System.arraycopy(image, 0, batch, i * pixels, pixels);
              }
              return new NDList(
                  manager.create(batch, new Shape(images.size(), channels, size, size)));
            },
            output -> {
              long[] labels = output.singletonOrThrow().argMax(1).toLongArray();
              List<Integer> result = new ArrayList<>(labels.length);
              for (long label : labels) {
                result.add((int) label);
              }
              return result;
            });
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
        Files.delete(p);
      }
    }
  }
}
