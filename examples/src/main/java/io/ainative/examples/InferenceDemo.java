package io.ainative.examples;

import io.ainative.harness.testing.ShapeImageFiles;
import io.ainative.harness.testing.ShapesClassifier;
import io.ainative.multimodal.coders.ImageCoder;
import io.ainative.multimodal.types.Image;
import io.ainative.runner.AiNativeFlinkPipelineOptions;
import io.ainative.transforms.InferenceFailure;
import io.ainative.transforms.InferenceMetrics;
import io.ainative.transforms.InferenceResult;
import io.ainative.transforms.ModelSpec;
import io.ainative.transforms.RunInference;
import io.ainative.transforms.images.ImageReadFailure;
import io.ainative.transforms.images.ReadImages;
import java.nio.file.Path;
import java.util.Locale;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.metrics.Counter;
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
  /** Upper bounds (ms) of the latency histogram's buckets; the last bucket is open. */
  static final long[] LATENCY_BUCKETS_MS = {2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000};
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

  /** Scores each result against the label in its file's name; records the end-to-end latency. */
  static final class Score extends DoFn<KV<KV<String, Long>, InferenceResult<Image, Integer>>, Void> {
    private final Counter classified = Metrics.counter(NAMESPACE, "classified");
    private final Counter correct = Metrics.counter(NAMESPACE, "correct");
    private final Counter[] latency = new Counter[LATENCY_BUCKETS_MS.length + 1];

    Score() {
      for (int i = 0; i < latency.length; i++) {
        latency[i] = Metrics.counter(NAMESPACE, "latency_bucket_" + i);
      }
    }

    @ProcessElement
    public void process(@Element KV<KV<String, Long>, InferenceResult<Image, Integer>> result) {
      classified.inc();
      if (result.getValue().getOutput() == ShapeImageFiles.labelOf(result.getKey().getKey())) {
        correct.inc();
      }
      long millis = System.currentTimeMillis() - result.getKey().getValue();
      int bucket = 0;
      while (bucket < LATENCY_BUCKETS_MS.length && millis > LATENCY_BUCKETS_MS[bucket]) {
        bucket++;
      }
      latency[bucket].inc();
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
    long[] buckets = new long[LATENCY_BUCKETS_MS.length + 1];
    for (int i = 0; i < buckets.length; i++) {
      buckets[i] = counter(demo, "latency_bucket_" + i);
    }
    MetricQueryResults inference = result.metrics().queryMetrics(MetricsFilter.builder()
        .addNameFilter(MetricNameFilter.inNamespace(InferenceMetrics.DEFAULT_NAMESPACE)).build());

    System.out.println();
    System.out.printf(Locale.ROOT, "accuracy    %.2f%% (%,d of %,d images)%n", total == 0 ? 0 : 100.0 * right / total, right, total);
    System.out.printf(Locale.ROOT, "failed      %,d files (not read as images), %,d images (not classified)%n",
        counter(demo, "failed_files"), counter(demo, "failed_images"));
    System.out.printf(Locale.ROOT, "throughput  %,.0f images/s (%,d images, job %.1f s from submission, cluster and model start included)%n",
        total / seconds, total, seconds);
    System.out.printf(Locale.ROOT, "latency     p50 <= %s, p90 <= %s, p99 <= %s (file read to scoring)%n",
        percentile(buckets, 0.50), percentile(buckets, 0.90), percentile(buckets, 0.99));
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

  static String percentile(long[] buckets, double q) {
    long total = 0;
    for (long b : buckets) {
      total += b;
    }
    if (total == 0) {
      return "n/a";
    }
    long rank = (long) Math.ceil(q * total);
    long seen = 0;
    for (int i = 0; i < buckets.length; i++) {
      seen += buckets[i];
      if (seen >= rank) {
        return i < LATENCY_BUCKETS_MS.length ? LATENCY_BUCKETS_MS[i] + " ms" : "> " + LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1] + " ms";
      }
    }
    return "n/a";
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
