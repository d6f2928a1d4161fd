package io.ainative.examples;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;

import io.ainative.harness.testing.ShapeImageFiles;
import io.ainative.harness.testing.ShapesClassifier;
import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import io.ainative.runner.TestAiNativeFlinkRunner;
import io.ainative.transforms.InferenceFailure;
import io.ainative.transforms.InferenceMetrics;
import io.ainative.transforms.InferenceStep;
import io.ainative.transforms.images.ImageReadFailure;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.values.KV;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The demo's pipeline on a directory of PNG files with bad ones among them, on the embedded cluster
 * with RunInference served by two RpcOperator instances: every good file is classified under its
 * name, a truncated file and a text file named {@code .png} reach ReadImages' failure output, and an
 * image of the wrong size reaches RunInference's failure output at pre-processing, each naming the
 * file.
 */
public class ImageFilesClassificationITCase {
  private static final int IMAGES = 300;

  @Rule public final TemporaryFolder temp = new TemporaryFolder();

  @Test(timeout = 300_000)
  public void aDirectoryOfPngFiles_isClassifiedByFileName_andBadFilesReachTheFailureOutputs() throws Exception {
    PipelineResult result = classifyWithBadFiles(null);
    assertThat("requests the served instances got as Arrow record batches", counter(result, "arrow_ipc_requests"), greaterThan(0L));
    assertThat("inputs sent by reference", counter(result, "offloaded_inputs"), equalTo(0L));
  }

  @Test(timeout = 300_000)
  public void imagesAboveTheOffloadThreshold_travelByReference_andTheirObjectsAreDeleted() throws Exception {
    Path objects = temp.newFolder("objects").toPath();
    PipelineResult result = classifyWithBadFiles(objects);
    // every decodable file (the good ones and the one of the wrong size) was written once
    assertThat("inputs sent by reference", counter(result, "offloaded_inputs"), equalTo(IMAGES + 1L));
    assertThat(counter(result, "offloaded_bytes"), greaterThan(100L * IMAGES));
    try (java.util.stream.Stream<Path> left = Files.walk(objects)) {
      assertThat("files left in the object store", left.filter(Files::isRegularFile).map(Path::toString).collect(java.util.stream.Collectors.toList()), equalTo(List.of()));
    }
  }

  /** Runs the demo's pipeline over good and bad files; with {@code objects}, every image travels by reference. */
  private PipelineResult classifyWithBadFiles(Path objects) throws Exception {
    Path model = ShapesClassifier.trainedModel(Path.of("target/test-models"), InferenceDemo.SIZE, 1);
    Path dir = temp.newFolder("images").toPath();
    ShapeImageFiles.write(dir, InferenceDemo.SIZE, IMAGES, n -> {});
    byte[] whole = Files.readAllBytes(dir.resolve(ShapeImageFiles.fileName(0, ShapeImageFiles.sample(0, InferenceDemo.SIZE).label())));
    Files.write(dir.resolve("truncated-circle.png"), Arrays.copyOf(whole, whole.length / 2));
    Files.writeString(dir.resolve("notes-square.png"), "not an image");
    Files.write(dir.resolve("small-triangle.png"), ShapeImageFiles.png(new float[16 * 16], 16));

    AiNativeFlinkPipelineOptions options = PipelineOptionsFactory.create().as(AiNativeFlinkPipelineOptions.class);
    options.setRunner(TestAiNativeFlinkRunner.class);
    options.setFlinkMaster("[local]");
    options.setParallelism(2);
    if (objects != null) {
      options.setInferenceObjectStore(objects.toString());
      options.setInferenceOffloadThresholdBytes(0);
    }
    TestPipeline p = TestPipeline.fromOptions(options).enableAbandonedNodeEnforcement(false);
    InferenceDemo.Classified classified =
        InferenceDemo.classify(p, dir.resolve("*.png").toString(), InferenceDemo.spec(model), 2, 32);

    PAssert.that(classified.results).satisfies(results -> {
      int count = 0;
      int correct = 0;
      for (KV<KV<String, Long>, ?> r : results) {
        String file = r.getKey().getKey();
        assertThat(file, ShapeImageFiles.labelOf(file), greaterThanOrEqualTo(0));
        count++;
        Integer predicted = (Integer) ((io.ainative.transforms.InferenceResult<?, ?>) r.getValue()).getOutput();
        if (predicted == ShapeImageFiles.labelOf(file)) {
          correct++;
        }
      }
      assertThat(count, equalTo(IMAGES));
      assertThat("correct of " + IMAGES, correct, greaterThanOrEqualTo(IMAGES * 95 / 100));
      return null;
    });
    PAssert.that(classified.failedFiles).satisfies(failures -> {
      List<String> files = new ArrayList<>();
      for (ImageReadFailure f : failures) {
        files.add(Path.of(f.getFile()).getFileName() + ": " + f.getErrorMessage());
      }
      assertThat(files.toString(), files.size(), equalTo(2));
      assertThat(files.toString(), containsString("truncated-circle.png"));
      assertThat(files.toString(), containsString("notes-square.png"));
      return null;
    });
    PAssert.that(classified.failedImages).satisfies(failures -> {
      List<String> seen = new ArrayList<>();
      for (InferenceFailure<?> f : failures) {
        @SuppressWarnings("unchecked")
        KV<KV<String, Long>, ?> element = (KV<KV<String, Long>, ?>) f.getElement();
        assertThat(f.getStep(), equalTo(InferenceStep.PRE_PROCESS));
        assertThat(f.getErrorMessage(), containsString("expected [32, 32"));
        seen.add(Path.of(element.getKey().getKey()).getFileName().toString());
      }
      assertThat(seen, containsInAnyOrder("small-triangle.png"));
      return null;
    });

    PipelineResult result = p.run();
    assertThat(result.waitUntilFinish(), equalTo(PipelineResult.State.DONE));
    return result;
  }

  private static long counter(PipelineResult result, String name) {
    long total = 0;
    for (MetricResult<Long> c : result.metrics().queryMetrics(MetricsFilter.builder()
        .addNameFilter(MetricNameFilter.named(InferenceMetrics.DEFAULT_NAMESPACE, name)).build()).getCounters()) {
      total += c.getAttempted();
    }
    return total;
  }
}
