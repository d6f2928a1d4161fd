package io.ainative.examples;

import io.ainative.harness.testing.FloatArrayCoder;
import io.ainative.harness.testing.ShapeImages;
import io.ainative.harness.testing.ShapesClassifier;
import io.ainative.runner.AiNativeFlinkPipelineOptions;
import io.ainative.transforms.InferenceFailure;
import io.ainative.transforms.InferenceMetrics;
import io.ainative.transforms.InferenceResult;
import io.ainative.transforms.ModelSpec;
import io.ainative.transforms.RunInference;
import java.nio.file.Path;
import java.util.Locale;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.io.GenerateSequence;
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
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Duration;

/**
 * The demo that README's run command starts: image classification served by RpcOperators.
 *
 * <p>It trains (or loads, when already trained under {@code --modelDir}) a small CNN on generated
 * images of circles, squares and triangles, then classifies {@code --images} freshly generated
 * images through {@link RunInference} on the embedded Flink cluster: the model runs in {@code
 * --instances} inference services, each a Flink task in its own region, called by the pipeline's
 * async client. It prints a progress line while the job runs, then the accuracy, the throughput,
 * end-to-end latency percentiles and the inference metrics. The runner logs the Flink web UI's
 * address at start.
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

    @Description("Where the trained model is kept between runs.")
    @Default.String("examples/target/demo-models")
    String getModelDir();

    void setModelDir(String dir);
  }

  private InferenceDemo() {}

  /** Image {@code id}: the same pixels and label every time. */
  static ShapeImages.Sample image(long id) {
    return new ShapeImages(SIZE, 1, 1_000_003L * id + 17).next();
  }

  /** Scores each result against the image's true label; records the end-to-end latency. */
  static final class Score extends DoFn<KV<KV<Long, Long>, InferenceResult<float[], Integer>>, Void> {
    private final Counter classified = Metrics.counter(NAMESPACE, "classified");
    private final Counter correct = Metrics.counter(NAMESPACE, "correct");
    private final Counter[] latency = new Counter[LATENCY_BUCKETS_MS.length + 1];

    Score() {
      for (int i = 0; i < latency.length; i++) {
        latency[i] = Metrics.counter(NAMESPACE, "latency_bucket_" + i);
      }
    }

    @ProcessElement
    public void process(@Element KV<KV<Long, Long>, InferenceResult<float[], Integer>> result) {
      classified.inc();
      if (result.getValue().getOutput() == image(result.getKey().getKey()).label()) {
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

  public static void main(String[] args) throws Exception {
    Options options = io.ainative.runner.AiNativeFlinkRunner.parseOptions(Options.class, args);
    if (options.getParallelism() == null || options.getParallelism() < 1) {
      options.setParallelism(2);
    }

    long started = System.nanoTime();
    Path modelDir = ShapesClassifier.trainedModel(Path.of(options.getModelDir()), SIZE, 1);
    System.out.printf(Locale.ROOT, "model: %s (ready in %.1f s; trained once, then reused)%n", modelDir, (System.nanoTime() - started) / 1e9);
    ModelSpec<float[], Integer> spec = ShapesClassifier.batchSpecBuilder(modelDir, SIZE, 1).build();

    Pipeline p = Pipeline.create(options);
    PCollection<KV<KV<Long, Long>, float[]>> images =
        p.apply("Ids", GenerateSequence.from(0).to(options.getImages()))
            .apply("Generate images",
                MapElements.into(TypeDescriptors.kvs(TypeDescriptors.kvs(TypeDescriptors.longs(), TypeDescriptors.longs()), org.apache.beam.sdk.values.TypeDescriptor.of(float[].class)))
                    .via(id -> KV.of(KV.of(id, System.currentTimeMillis()), image(id).pixels())))
            .setCoder(KvCoder.of(KvCoder.of(VarLongCoder.of(), VarLongCoder.of()), FloatArrayCoder.of()));
    WithFailures.Result<PCollection<KV<KV<Long, Long>, InferenceResult<float[], Integer>>>, InferenceFailure<KV<KV<Long, Long>, float[]>>> classified =
        images.apply("Classify",
            RunInference.<KV<Long, Long>, float[], Integer>keyed(spec)
                .withOutputCoder(VarIntCoder.of())
                .withInstances(options.getInstances())
                .withBatchSize(1, options.getBatchSize())
                .withMaxBatchingDelay(Duration.millis(5))
                .withFailures());
    classified.output().apply("Score", ParDo.of(new Score()));

    System.out.printf(Locale.ROOT, "classifying %d images on Flink (%s), parallelism %d, %d inference instance(s), batches up to %d%n",
        options.getImages(), options.getFlinkMaster(), options.getParallelism(), options.getInstances(), options.getBatchSize());
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
    System.out.printf(Locale.ROOT, "throughput  %,.0f images/s (%,d images, job %.1f s from submission, cluster and model start included)%n",
        total / seconds, total, seconds);
    System.out.printf(Locale.ROOT, "latency     p50 <= %s, p90 <= %s, p99 <= %s (generation to scoring)%n",
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
