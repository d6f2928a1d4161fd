package io.ainative.benchmarks.pipeline;

import io.ainative.harness.testing.ShapeImageFiles;
import io.ainative.harness.testing.ShapesClassifier;
import io.ainative.multimodal.types.Image;
import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import io.ainative.runner.AiNativeFlinkRunner;
import io.ainative.transforms.InferenceFailure;
import io.ainative.transforms.InferenceResult;
import io.ainative.transforms.RunInference;
import io.ainative.transforms.images.ImageReadFailure;
import io.ainative.transforms.images.ReadImages;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.runners.flink.FlinkRunner;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.joda.time.Duration;

/**
 * Batch inference over image files on disk: generated 32x32 gray PNG files (written once under
 * {@code benchmarks/target/bench-images}, reused while whole) read with {@link ReadImages} and
 * classified by the demo's CNN through {@link RunInference} with the library's image
 * pre-processing, on two runners side by side, each in a fresh JVM on an embedded cluster with
 * parallelism 2:
 *
 * <ul>
 *   <li>{@code ainative-served}: {@link AiNativeFlinkRunner}, the model served by 2 RpcOperator
 *       instances, the pipeline's Java stages run by the runner itself;
 *   <li>{@code ainative-served-fnapi}: the same with {@code --inProcessJavaStages=false}: every
 *       Java stage in the SDK harness, through the Fn API;
 *   <li>{@code beam-classic-inline}: Beam's classic {@code FlinkRunner} in batch mode, the same
 *       transform run inline (its expansion for any runner).
 * </ul>
 *
 * <p>Each row is one whole run, from the child JVM's start (cluster start and model load included)
 * to the job's end: images/s, CPU seconds of the process per 1,000 images, peak RSS, and the
 * accuracy against the labels in the file names (a wrong result shows there).
 *
 * <p>Run: {@code bin/bench pipeline.ImageFilesBenchmark [images,...] [modes]}, e.g. {@code
 * bin/bench pipeline.ImageFilesBenchmark 250000,1000000}.
 */
public final class ImageFilesBenchmark {
  static final int SIZE = 32;
  static final String[] MODES = {"ainative-served", "ainative-served-fnapi", "beam-classic-inline"};
  private static final String NAMESPACE = "bench";
  private static final Path ROOT = Path.of("benchmarks", "target", "bench-images");
  private static final Path MODELS = Path.of("benchmarks", "target", "bench-models");

  private ImageFilesBenchmark() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--child")) {
      runChild(args[1], Path.of(args[2]), Long.parseLong(args[3]));
      return;
    }
    String[] counts = (args.length > 0 ? args[0] : "250000,1000000").split(",");
    String[] modes = args.length > 1 ? args[1].split(",") : MODES;
    Path model = ShapesClassifier.trainedModel(MODELS, SIZE, 1);
    List<String> rows = new ArrayList<>();
    for (String c : counts) {
      long images = Long.parseLong(c);
      Path dir = ShapeImageFiles.directory(ROOT, SIZE, images);
      if (!ShapeImageFiles.isComplete(dir, images)) {
        long start = System.nanoTime();
        System.out.printf(Locale.ROOT, "writing %,d PNG files to %s%n", images, dir);
        ShapeImageFiles.write(dir, SIZE, images, n -> System.out.printf(Locale.ROOT, "  %,d written%n", n));
        System.out.printf(Locale.ROOT, "  done in %.0f s%n", (System.nanoTime() - start) / 1e9);
      }
      for (String mode : modes) {
        String[] r = runInChild(mode, dir, images, model);
        double seconds = Double.parseDouble(r[0]);
        long classified = Long.parseLong(r[2]);
        long correct = Long.parseLong(r[3]);
        String row = String.format(Locale.ROOT, "| %,d | %s | %.1f | %,.0f | %.2f | %,d | %.2f%% |",
            images, mode, seconds, classified / seconds, Double.parseDouble(r[4]) / classified * 1000, Long.parseLong(r[1]) / 1024,
            100.0 * correct / Math.max(1, classified));
        System.out.println(row);
        rows.add(row);
      }
    }
    System.out.println();
    System.out.println("| images | runner | wall s | images/s | CPU s per 1,000 images | peak RSS MiB | accuracy |");
    System.out.println("| ---: | --- | ---: | ---: | ---: | ---: | ---: |");
    rows.forEach(System.out::println);
  }

  /** Returns {seconds, peak RSS KiB, classified, correct, CPU seconds} from the child's last line. */
  private static String[] runInChild(String mode, Path dir, long images, Path model) throws IOException, InterruptedException {
    return ChildJvm.run(ImageFilesBenchmark.class, List.of("-Dbench.model=" + model), "--child", mode, dir.toString(), Long.toString(images));
  }

  private static void runChild(String mode, Path dir, long images) throws Exception {
    long start = System.nanoTime();
    PipelineOptions options;
    int parallelism = 2;
    switch (mode) {
      case "ainative-served":
        options = AiNativeFlinkRunner.parseOptions("--flinkMaster=[local]", "--parallelism=" + parallelism);
        break;
      case "ainative-served-fnapi":
        options =
            AiNativeFlinkRunner.parseOptions(
                "--flinkMaster=[local]", "--parallelism=" + parallelism, "--inProcessJavaStages=false");
        break;
      case "beam-classic-inline":
        FlinkPipelineOptions flink = PipelineOptionsFactory.create().as(FlinkPipelineOptions.class);
        flink.setRunner(FlinkRunner.class);
        flink.setFlinkMaster("[local]");
        flink.setParallelism(parallelism);
        options = flink;
        break;
      default:
        throw new IllegalArgumentException("unknown mode " + mode + "; modes: " + String.join(", ", MODES));
    }
    Pipeline p = Pipeline.create(options);
    build(p, dir, Path.of(System.getProperty("bench.model")));
    PipelineResult result = p.run();
    PipelineResult.State state = result.waitUntilFinish();
    if (state != PipelineResult.State.DONE) {
      throw new IllegalStateException("job ended " + state);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    long classified = counter(result, "classified");
    long failed = counter(result, "failed");
    if (classified + failed != images) {
      throw new IllegalStateException(classified + " classified and " + failed + " failed of " + images + " images");
    }
    double cpu = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime() / 1e9;
    System.out.printf(Locale.ROOT, "RESULT %.3f %d %d %d %.3f%n", seconds, ChildJvm.peakRssKib(), classified, counter(result, "correct"), cpu);
    System.exit(0);
  }

  /** ReadImages -> RunInference keyed by file name -> score against the label in the name. */
  static void build(Pipeline p, Path dir, Path model) {
    WithFailures.Result<PCollection<KV<String, Image>>, ImageReadFailure> files =
        p.apply("Read images", ReadImages.from(dir.resolve("*.png").toString()).withFailures());
    WithFailures.Result<PCollection<KV<String, InferenceResult<Image, Integer>>>, InferenceFailure<KV<String, Image>>> classified =
        files.output().apply("Classify",
            RunInference.<String, Image, Integer>keyed(ShapesClassifier.imageSpec(model, SIZE))
                .withOutputCoder(VarIntCoder.of())
                .withInstances(2)
                .withBatchSize(1, 32)
                .withMaxBatchingDelay(Duration.millis(5))
                .withFailures());
    classified.output().apply("Score", ParDo.of(new Score()));
    files.failures().apply("Count failed files", ParDo.of(new CountFailed<>()));
    classified.failures().apply("Count failed images", ParDo.of(new CountFailed<>()));
  }

  private static final class Score extends DoFn<KV<String, InferenceResult<Image, Integer>>, Void> {
    private final Counter classified = Metrics.counter(NAMESPACE, "classified");
    private final Counter correct = Metrics.counter(NAMESPACE, "correct");

    @ProcessElement
    public void process(@Element KV<String, InferenceResult<Image, Integer>> result) {
      classified.inc();
      if (result.getValue().getOutput() == ShapeImageFiles.labelOf(result.getKey())) {
        correct.inc();
      }
    }
  }

  private static final class CountFailed<T> extends DoFn<T, Void> {
    private final Counter failed = Metrics.counter(NAMESPACE, "failed");

    @ProcessElement
    public void process() {
      failed.inc();
    }
  }

  private static long counter(PipelineResult result, String name) {
    long total = 0;
    for (MetricResult<Long> c : result.metrics().queryMetrics(
        MetricsFilter.builder().addNameFilter(MetricNameFilter.named(NAMESPACE, name)).build()).getCounters()) {
      total += c.getAttempted();
    }
    return total;
  }
}
