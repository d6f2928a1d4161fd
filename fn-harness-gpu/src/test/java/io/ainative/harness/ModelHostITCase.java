package io.ainative.harness;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;

import ai.djl.Device;
import ai.djl.engine.Engine;
import io.ainative.harness.testing.ShapeImages;
import io.ainative.harness.testing.ShapesClassifier;
import io.ainative.harness.testing.TestModels;
import io.ainative.transforms.InferenceStep;
import io.ainative.transforms.ModelLoadException;
import io.ainative.transforms.ModelSpec;
import io.ainative.transforms.runtime.Outcome;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.Assume;
import org.junit.BeforeClass;
import org.junit.Test;

/** ModelHost and DynamicBatcher on the real PyTorch engine with the trained shapes model. */
public class ModelHostITCase {
  private static final int SIZE = TestModels.SIZE;
  private static final int CHANNELS = TestModels.CHANNELS;
  private static Path modelDir;

  @BeforeClass
  public static void trainOnce() {
    modelDir = TestModels.shapesModelDir();
  }

  private static ModelSpec.Builder<float[], Integer> spec() {
    return ShapesClassifier.specBuilder(modelDir, SIZE, CHANNELS);
  }

  @Test
  public void load_warmsUp_andReportsDeviceLoadTimeAndParameterBytes() throws Exception {
    float[] blank = new float[SIZE * SIZE * CHANNELS];
    try (ModelHost<float[], Integer> host =
        ModelHost.load(
            spec().optWarmupInput(() -> blank).build(),
            ModelHost.Options.defaults().withWarmupBatchSize(4),
            io.ainative.transforms.runtime.BatchListener.NONE)) {
      assertEquals(Device.cpu(), host.device());
      assertThat(host.loadMillis(), greaterThanOrEqualTo(0L));
      assertThat(host.warmupMillis(), greaterThanOrEqualTo(0L));
      // conv 8x1x3x3+8, conv 16x8x3x3+16, dense 32x1024+32, dense 3x32+3; float32
      long params = (8 * 9 + 8) + (16 * 8 * 9 + 16) + (32 * 1024 + 32) + (3 * 32 + 3);
      assertEquals(params * 4, host.parameterBytes());
    }
  }

  @Test
  public void failingWarmup_failsTheLoad_namingTheStep() {
    ModelLoadException e =
        assertThrows(
            ModelLoadException.class,
            () -> ModelHost.load(spec().optWarmupInput(() -> new float[3]).build()));
    assertThat(e.getMessage(), containsString("warm-up of model"));
    assertThat(e.getMessage(), containsString("failed at step pre-process"));
  }

  @Test
  public void gpu_withoutAGpu_isAClearError_andAutoRunsOnTheCpu() throws Exception {
    Assume.assumeTrue(Engine.getEngine("PyTorch").getGpuCount() == 0);
    ModelLoadException e =
        assertThrows(ModelLoadException.class, () -> ModelHost.load(spec().optDevice("gpu:1").build()));
    assertThat(e.getMessage(), containsString("sees no GPU"));
    try (ModelHost<float[], Integer> host = ModelHost.load(spec().optDevice("auto").build())) {
      assertEquals(Device.cpu(), host.device());
    }
  }

  @Test
  public void malformedElement_failsAlone_andItsBatchmatesAreClassified() throws Exception {
    ShapeImages images = new ShapeImages(SIZE, CHANNELS, 5);
    try (ModelHost<float[], Integer> host = ModelHost.load(spec().build())) {
      List<float[]> batch = new ArrayList<>();
      List<Integer> labels = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        ShapeImages.Sample s = images.next();
        batch.add(s.pixels());
        labels.add(s.label());
      }
      batch.set(5, new float[7]);
      List<Outcome<Integer>> out = host.infer(batch);
      assertEquals(InferenceStep.PRE_PROCESS, out.get(5).failedStep());
      int correct = 0;
      for (int i = 0; i < 8; i++) {
        if (i != 5) {
          correct += out.get(i).output().equals(labels.get(i)) ? 1 : 0;
        }
      }
      assertThat(correct, greaterThanOrEqualTo(6));
    }
  }

  @Test
  public void closedHost_refusesWork() throws Exception {
    ModelHost<float[], Integer> host = ModelHost.load(spec().build());
    host.close();
    host.close(); // idempotent
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> host.infer(List.of(new float[1])));
    assertThat(e.getMessage(), containsString("closed"));
  }

  @Test
  public void batcherOverTwoCopies_servesConcurrentCallers_eachWithItsOwnCorrectLabel()
      throws Exception {
    ModelHost.Options options = ModelHost.Options.defaults().withCopiesPerJvm(2);
    try (ModelHost<float[], Integer> copy0 = ModelHost.load(spec().build(), options,
            io.ainative.transforms.runtime.BatchListener.NONE);
        ModelHost<float[], Integer> copy1 = ModelHost.load(spec().build(), options,
            io.ainative.transforms.runtime.BatchListener.NONE)) {
      List<Integer> sizes = new java.util.concurrent.CopyOnWriteArrayList<>();
      DynamicBatcher<float[], Outcome<Integer>> batcher =
          DynamicBatcher.<float[], Outcome<Integer>>builder()
              .setHandlers(List.of(copy0::infer, copy1::infer))
              .optMaxBatchSize(32)
              .optMaxDelay(Duration.ofMillis(5))
              .optQueueCapacity(64)
              .optBatchSizeListener(sizes::add)
              .build();
      ExecutorService callers = Executors.newFixedThreadPool(4);
      try {
        List<Future<int[]>> results = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
          long seed = 1000 + t;
          results.add(
              callers.submit(
                  () -> {
                    ShapeImages images = new ShapeImages(SIZE, CHANNELS, seed);
                    List<CompletableFuture<Outcome<Integer>>> futures = new ArrayList<>();
                    List<Integer> labels = new ArrayList<>();
                    for (int i = 0; i < 100; i++) {
                      ShapeImages.Sample s = images.next();
                      labels.add(s.label());
                      futures.add(batcher.submit(s.pixels()));
                    }
                    int correct = 0;
                    for (int i = 0; i < futures.size(); i++) {
                      Outcome<Integer> o = futures.get(i).get(1, TimeUnit.MINUTES);
                      correct += o.output().equals(labels.get(i)) ? 1 : 0;
                    }
                    return new int[] {correct, futures.size()};
                  }));
        }
        int correct = 0;
        int total = 0;
        for (Future<int[]> r : results) {
          int[] ct = r.get(2, TimeUnit.MINUTES);
          correct += ct[0];
          total += ct[1];
        }
        batcher.close();
        assertEquals(400, total);
        assertThat(correct / (double) total, greaterThanOrEqualTo(0.95));
        assertThat(sizes.stream().mapToInt(Integer::intValue).max().getAsInt(), greaterThan(1));
      } finally {
        callers.shutdownNow();
      }
    }
  }
}
