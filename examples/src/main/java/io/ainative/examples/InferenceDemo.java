package io.ainative.examples;

import io.ainative.harness.testing.ShapeImageFiles;
import io.ainative.harness.testing.ShapesClassifier;
import io.ainative.multimodal.coders.ImageCoder;
import io.ainative.multimodal.types.Image;
import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import io.ainative.transforms.InferenceFailure;
import io.ainative.transforms.InferenceMetrics;
import io.ainative.transforms.InferenceResult;
import io.ainative.transforms.ModelSpec;
import io.ainative.transforms.RunInference;
import io.ainative.transforms.images.ImageReadFailure;
import io.ainative.transforms.images.ReadImages;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Distribution;
import org.apache.beam.sdk.metrics.DistributionResult;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricQueryResults;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Duration;

/**
 * The demo that README's run command starts: image classification of files, served by RpcOperators.
 *
 * <p>It trains (or loads, when already trained under {@code --modelDir}) a small CNN on generated
 * images of circles, squares and triangles, writes {@code --images} generated images as PNG files
 * under {@code --imageDir} (first run only; a later run reuses them), then classifies the directory
 * with {@link ReadImages} and {@link RunInference} on {@link Image} inputs on the embedded Flink
 * cluster: the model runs in {@code --instances} inference services, each a Flink task in its own
 * region, called by the pipeline's async client. It prints a progress line while the job runs, then
 * the accuracy (each file's name carries its true label), the throughput, end-to-end latency
 * percentiles, the files and images that failed, and the inference metrics.
 */
public final class InferenceDemo {

  static final String NAMESPACE = "demo";
  /** Prefix of the counters of the latency histogram's buckets ({@link LatencyHistogram}). */
  static final String LATENCY_BUCKET = "latency_ms_bucket_";
  static final int SIZE = 32;

  /** Demo options on top of the runner's. */
  public interface Options extends AiNativeFlinkPipelineOptions {
    @Description("How many images to classify.")
    @Default.Long(5000L)
    long getImages();

    void setImages(long images);

    @Description("Inference service instances (each one a Flink task with its own model).")
    @Default.Integer(2)
    int getInstances();

    void setInstances(int instances);

    @Description("Largest batch the model gets.")
    @Default.Integer(32)
    int getBatchSize();

    void setBatchSize(int size);

    @Description("Where the generated PNG files are written (once) and read from.")
    @Default.String("examples/target/demo-images")
    String getImageDir();

    void setImageDir(String dir);

    @Description("Where the trained model is kept between runs.")
    @Default.String("examples/target/demo-models")
    String getModelDir();

    void setModelDir(String dir);
  }

  private InferenceDemo() {}

  /** The model in {@code modelDir} on gray {@code SIZE x SIZE} images, pre-processed by the library. */
  static ModelSpec<Image, Integer> spec(Path modelDir) {
    return ShapesClassifier.imageSpec(modelDir, SIZE);
  }

  /** What {@link #classify} adds to a pipeline. */
  static final class Classified {
    final PCollection<KV<KV<String, Long>, InferenceResult<Image, Integer>>> results;
    final PCollection<InferenceFailure<KV<KV<String, Long>, Image>>> failedImages;
    final PCollection<ImageReadFailure> failedFiles;

    Classified(
        PCollection<KV<KV<String, Long>, InferenceResult<Image, Integer>>> results,
        PCollection<InferenceFailure<KV<KV<String, Long>, Image>>> failedImages,
        PCollection<ImageReadFailure> failedFiles) {
      this.results = results;
      this.failedImages = failedImages;
      this.failedFiles = failedFiles;
    }
  }

  /**
   * Reads the image files of {@code pattern}, classifies them keyed by file name and read time, and
   * scores every result against the label in its file name (counters in {@value #NAMESPACE}).
   */
  static Classified classify(Pipeline p, String pattern, ModelSpec<Image, Integer> spec, int instances, int batchSize) {
    WithFailures.Result<PCollection<KV<String, Image>>, ImageReadFailure> files =
        p.apply("Read images", ReadImages.from(pattern).withFailures());
    PCollection<KV<KV<String, Long>, Image>> stamped =
        files.output()
            .apply("Stamp read time",
                MapElements.into(TypeDescriptors.kvs(TypeDescriptors.kvs(TypeDescriptors.strings(), TypeDescriptors.longs()), TypeDescriptor.of(Image.class)))
                    .via(file -> KV.of(KV.of(file.getKey(), System.currentTimeMillis()), file.getValue())))
            .setCoder(KvCoder.of(KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of()), ImageCoder.of()));
    WithFailures.Result<PCollection<KV<KV<String, Long>, InferenceResult<Image, Integer>>>, InferenceFailure<KV<KV<String, Long>, Image>>> classified =
        stamped.apply("Classify",
            RunInference.<KV<String, Long>, Image, Integer>keyed(spec)
                .withOutputCoder(VarIntCoder.of())
                .withInstances(instances)
                .withBatchSize(1, batchSize)
                .withMaxBatchingDelay(Duration.millis(5))
                .withFailures());
    classified.output().apply("Score", ParDo.of(new Score()));
    classified.failures().apply("Count failed images", ParDo.of(new CountFailures<>("failed_images")));
    files.failures().apply("Count failed files", ParDo.of(new CountFailures<>("failed_files")));
    return new Classified(classified.output(), classified.failures(), files.failures());
  }

  /**
   * Scores each result against the label in its file's name; records the end-to-end latency in a
   * histogram ({@link LatencyHistogram}) and in a distribution (its exact minimum and maximum).
   */
  static final class Score extends DoFn<KV<KV<String, Long>, InferenceResult<Image, Integer>>, Void> {
    private final Counter classified = Metrics.counter(NAMESPACE, "classified");
    private final Counter correct = Metrics.counter(NAMESPACE, "correct");
    private final Distribution latency = Metrics.distribution(NAMESPACE, "latency_ms");
    private transient Map<Integer, Counter> buckets;

    @Setup
    public void setup() {
      buckets = new HashMap<>();
    }

    @ProcessElement
    public void process(@Element KV<KV<String, Long>, InferenceResult<Image, Integer>> result) {
      classified.inc();
      if (result.getValue().getOutput() == ShapeImageFiles.labelOf(result.getKey().getKey())) {
        correct.inc();
      }
      long millis = System.currentTimeMillis() - result.getKey().getValue();
      latency.update(millis);
      buckets.computeIfAbsent(LatencyHistogram.bucket(millis), b -> Metrics.counter(NAMESPACE, LATENCY_BUCKET + b)).inc();
    }
  }

  /** Counts the elements of a failure output. */
  static final class CountFailures<T> extends DoFn<T, Void> {
    private final Counter failures;

    CountFailures(String name) {
      failures = Metrics.counter(NAMESPACE, name);
    }

    @ProcessElement
    public void process() {
      failures.inc();
    }
  }

  public static void main(String[] args) throws Exception {
    Options options = io.ainative.runner.AiNativeFlinkRunner.parseOptions(Options.class, args);
    if (options.getParallelism() == null || options.getParallelism() < 1) {
      options.setParallelism(2);
    }

    long started = System.nanoTime();
    Path modelDir = ShapesClassifier.trainedModel(Path.of(options.getModelDir()), SIZE, 1);
    System.out.printf(Locale.ROOT, "model: %s (ready in %.1f s; trained once, then reused)%n", modelDir, (System.nanoTime() - started) / 1e9);
    Path images = ShapeImageFiles.directory(Path.of(options.getImageDir()), SIZE, options.getImages());
    if (!ShapeImageFiles.isComplete(images, options.getImages())) {
      System.out.printf(Locale.ROOT, "writing %,d generated PNG files to %s (first run only)%n", options.getImages(), images);
      ShapeImageFiles.write(images, SIZE, options.getImages(),
          n -> System.out.printf(Locale.ROOT, "  %,d / %,d written%n", n, options.getImages()));
    }

    Pipeline p = Pipeline.create(options);
    classify(p, images.resolve("*.png").toString(), spec(modelDir), options.getInstances(), options.getBatchSize());

    System.out.printf(Locale.ROOT, "classifying %d PNG files of %s on Flink (%s), parallelism %d, %d inference instance(s), batches up to %d%n",
        options.getImages(), images, options.getFlinkMaster(), options.getParallelism(), options.getInstances(), options.getBatchSize());
    long submitted = System.nanoTime();
    PipelineResult result = p.run();
    long lastCount = -1;
    while (result.waitUntilFinish(Duration.millis(1000)) == null) {
      long done = counter(result.metrics().queryMetrics(filter(InferenceMetrics.DEFAULT_NAMESPACE, "num_inferences")));
      double seconds = (System.nanoTime() - submitted) / 1e9;
      if (done != lastCount) {
        System.out.printf(Locale.ROOT, "  %6.1f s  %,d / %,d images classified%n", seconds, done, options.getImages());
        lastCount = done;
      }
    }
    PipelineResult.State state = result.waitUntilFinish();
    double seconds = (System.nanoTime() - submitted) / 1e9;
    if (state != PipelineResult.State.DONE) {
      System.out.println("job ended " + state);
      System.exit(1);
    }

    MetricQueryResults demo = result.metrics().queryMetrics(MetricsFilter.builder()
        .addNameFilter(MetricNameFilter.inNamespace(NAMESPACE)).build());
    long total = counter(demo, "classified");
    long right = counter(demo, "correct");
    Map<Integer, Long> latencies = new HashMap<>();
    for (MetricResult<Long> c : demo.getCounters()) {
      String name = c.getName().getName();
      if (name.startsWith(LATENCY_BUCKET)) {
        latencies.merge(Integer.parseInt(name.substring(LATENCY_BUCKET.length())), c.getAttempted(), Long::sum);
      }
    }
    DistributionResult latency = DistributionResult.IDENTITY_ELEMENT;
    for (MetricResult<DistributionResult> d : demo.getDistributions()) {
      if (d.getName().getName().equals("latency_ms")) {
        latency = d.getAttempted();
      }
    }
    MetricQueryResults inference = result.metrics().queryMetrics(MetricsFilter.builder()
        .addNameFilter(MetricNameFilter.inNamespace(InferenceMetrics.DEFAULT_NAMESPACE)).build());

    System.out.println();
    System.out.printf(Locale.ROOT, "accuracy    %.2f%% (%,d of %,d images)%n", total == 0 ? 0 : 100.0 * right / total, right, total);
    System.out.printf(Locale.ROOT, "failed      %,d files (not read as images), %,d images (not classified)%n",
        counter(demo, "failed_files"), counter(demo, "failed_images"));
    System.out.printf(Locale.ROOT, "throughput  %,.0f images/s (%,d images, job %.1f s from submission, cluster and model start included)%n",
        total / seconds, total, seconds);
    System.out.printf(Locale.ROOT, "latency     p50 %s, p90 %s, p99 %s, max %s (file read to scoring)%n",
        millis(quantile(latencies, 0.50, latency)), millis(quantile(latencies, 0.90, latency)),
        millis(quantile(latencies, 0.99, latency)), latency.getCount() == 0 ? "n/a" : millis(latency.getMax()));
    for (MetricResult<DistributionResult> d : inference.getDistributions()) {
      DistributionResult v = d.getAttempted();
      System.out.printf(Locale.ROOT, "metric %-36s mean %.1f, min %d, max %d (%d samples)%n",
          d.getName().getName(), v.getMean(), v.getMin(), v.getMax(), v.getCount());
    }
    for (MetricResult<Long> c : inference.getCounters()) {
      System.out.printf(Locale.ROOT, "metric %-36s %,d%n", c.getName().getName(), c.getAttempted());
    }
    for (MetricResult<org.apache.beam.sdk.metrics.GaugeResult> g : inference.getGauges()) {
      System.out.printf(Locale.ROOT, "metric %-36s %,d%n", g.getName().getName(), g.getAttempted().getValue());
    }
    System.out.printf(Locale.ROOT, "job %s in %.1f s%n", state, seconds);
  }

  /** A quantile of the histogram, kept within the exact minimum and maximum that it rounds past otherwise. */
  private static double quantile(Map<Integer, Long> histogram, double q, DistributionResult exact) {
    double value = LatencyHistogram.quantile(histogram, q);
    return exact.getCount() == 0 ? value : Math.min(exact.getMax(), Math.max(exact.getMin(), value));
  }

  /** {@code 7 ms}, {@code 412 ms}, {@code 1.23 s}, {@code 12.3 s}: three digits, about the histogram's resolution. */
  static String millis(double millis) {
    if (Double.isNaN(millis)) {
      return "n/a";
    }
    if (millis < 1000) {
      return String.format(Locale.ROOT, "%.0f ms", millis);
    }
    return String.format(Locale.ROOT, millis < 10_000 ? "%.2f s" : "%.1f s", millis / 1000);
  }

  private static MetricsFilter filter(String namespace, String name) {
    return MetricsFilter.builder().addNameFilter(MetricNameFilter.named(namespace, name)).build();
  }

  private static long counter(MetricQueryResults results) {
    long sum = 0;
    for (MetricResult<Long> c : results.getCounters()) {
      sum += c.getAttempted();
    }
    return sum;
  }

  private static long counter(MetricQueryResults results, String name) {
    long sum = 0;
    for (MetricResult<Long> c : results.getCounters()) {
      if (c.getName().getName().equals(name)) {
        sum += c.getAttempted();
      }
    }
    return sum;
  }
}
