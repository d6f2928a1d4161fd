package io.ainative.benchmarks.pipeline;

import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import io.ainative.runner.AiNativeFlinkRunner;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.runners.flink.FlinkBatchPortablePipelineTranslator;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.runners.flink.FlinkRunner;
import org.apache.beam.runners.fnexecution.provisioning.JobInfo;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.io.GenerateSequence;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.options.PortablePipelineOptions;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Sum;
import org.apache.beam.sdk.util.construction.PipelineOptionsTranslation;
import org.apache.beam.sdk.util.construction.PipelineTranslation;
import org.apache.beam.sdk.util.construction.SdkComponents;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * How a bounded Java pipeline (generate -> two maps -> keyed sum) runs on ainative (Beam's
 * portable translation in Flink's streaming mode) against the alternatives: Beam's portable
 * translation in Flink's batch (DataSet) mode, and Beam's classic FlinkRunner in batch and in
 * streaming mode. Each mode runs in a fresh JVM, a few times; the table shows the median wall
 * time, the process's peak resident memory, and the checked result.
 *
 * <p>Run: {@code java -cp <classpath> io.ainative.benchmarks.pipeline.RunnerModesBenchmark
 * [elements] [repetitions] [modes] [shape]}, modes a comma-separated subset of {@link #MODES}
 * (default all; {@code ainative-streaming-fnapi} is ainative with {@code
 * --inProcessJavaStages=false}), shape {@code sum} (default: {@code Sum.longsPerKey}, a lifted
 * combine) or {@code groupbykey} (a plain {@code GroupByKey}, then a ParDo that sums each group).
 */
public final class RunnerModesBenchmark {

  private static final String[] MODES = {
    "ainative-streaming", "ainative-streaming-fnapi", "beam-portable-batch", "beam-classic-batch", "beam-classic-streaming"
  };
  private static final String SHAPE = System.getProperty("bench.shape", "sum");
  private static final long KEYS = 100;

  private RunnerModesBenchmark() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--child")) {
      runChild(args[1], Long.parseLong(args[2]));
      return;
    }
    long elements = args.length > 0 ? Long.parseLong(args[0]) : 3_000_000L;
    int repetitions = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    String[] modes = args.length > 2 ? args[2].split(",") : MODES;
    String shape = args.length > 3 ? args[3] : "sum";
    if (!shape.equals("sum") && !shape.equals("groupbykey")) {
      throw new IllegalArgumentException("shape must be sum or groupbykey, got " + shape);
    }
    System.out.printf(Locale.ROOT, "Bounded pipeline: %,d elements -> map -> map -> %s per key (%d keys); %d runs per mode, fresh JVM each%n%n",
        elements, shape.equals("sum") ? "Sum" : "GroupByKey + sum", KEYS, repetitions);
    System.out.printf("| mode | median wall s | runs (s) | peak RSS MiB (median) | result ok |%n| --- | ---: | --- | ---: | --- |%n");
    for (String mode : modes) {
      List<Double> seconds = new ArrayList<>();
      List<Long> rss = new ArrayList<>();
      boolean ok = true;
      for (int i = 0; i < repetitions; i++) {
        String[] result = runInChild(mode, elements, shape);
        seconds.add(Double.parseDouble(result[0]));
        rss.add(Long.parseLong(result[1]));
        ok &= Boolean.parseBoolean(result[2]);
      }
      List<Double> sorted = new ArrayList<>(seconds);
      Collections.sort(sorted);
      List<Long> sortedRss = new ArrayList<>(rss);
      Collections.sort(sortedRss);
      System.out.printf(Locale.ROOT, "| %s | %.1f | %s | %d | %s |%n", mode, sorted.get(sorted.size() / 2),
          seconds.stream().map(s -> String.format(Locale.ROOT, "%.1f", s)).reduce((a, b) -> a + ", " + b).orElse(""),
          sortedRss.get(sortedRss.size() / 2) / 1024, ok ? "yes" : "NO");
    }
  }

  /** Returns {seconds, peak RSS KiB, result ok} as printed by the child's last line. */
  private static String[] runInChild(String mode, long elements, String shape) throws IOException, InterruptedException {
    return ChildJvm.run(RunnerModesBenchmark.class, List.of("-Dbench.shape=" + shape), "--child", mode, Long.toString(elements));
  }

  private static void runChild(String mode, long elements) throws Exception {
    long start = System.nanoTime();
    long sum;
    switch (mode) {
      case "ainative-streaming":
        sum = ainative(elements, true);
        break;
      case "ainative-streaming-fnapi":
        sum = ainative(elements, false);
        break;
      case "beam-portable-batch":
        sum = beamPortableBatch(elements);
        break;
      case "beam-classic-batch":
        sum = beamClassic(elements, false);
        break;
      case "beam-classic-streaming":
        sum = beamClassic(elements, true);
        break;
      default:
        throw new IllegalArgumentException("unknown mode " + mode);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    // each element i contributes 2 * i + 1 after the two maps
    long expected = elements * elements;
    System.out.printf(Locale.ROOT, "RESULT %.3f %d %b%n", seconds, ChildJvm.peakRssKib(), sum == expected);
  }

  private static void build(Pipeline p, long elements) {
    p.apply(GenerateSequence.from(0).to(elements))
        .apply("Double", MapElements.into(TypeDescriptors.longs()).via((Long x) -> 2 * x))
        .apply("KeyAndAddOne", MapElements.into(TypeDescriptors.kvs(TypeDescriptors.longs(), TypeDescriptors.longs()))
            .via((Long x) -> KV.of(x % KEYS, x + 1)))
        .apply("SumPerKey", SHAPE.equals("groupbykey") ? new GroupAndSum() : Sum.longsPerKey())
        .apply("Report", ParDo.of(new DoFn<KV<Long, Long>, Void>() {
          @ProcessElement
          public void process(@Element KV<Long, Long> kv) {
            Metrics.counter("bench", "sum").inc(kv.getValue());
          }
        }));
  }

  private static long sumOf(PipelineResult result) {
    long total = 0;
    for (MetricResult<Long> c : result.metrics().queryMetrics(
        MetricsFilter.builder().addNameFilter(MetricNameFilter.named("bench", "sum")).build()).getCounters()) {
      total += c.getAttempted();
    }
    return total;
  }

  private static long ainative(long elements, boolean inProcess) {
    AiNativeFlinkPipelineOptions options =
        AiNativeFlinkRunner.parseOptions("--flinkMaster=[local]", "--parallelism=2", "--inProcessJavaStages=" + inProcess);
    Pipeline p = Pipeline.create(options);
    build(p, elements);
    PipelineResult result = p.run();
    result.waitUntilFinish();
    return sumOf(result);
  }

  private static long beamClassic(long elements, boolean streaming) {
    FlinkPipelineOptions options = PipelineOptionsFactory.create().as(FlinkPipelineOptions.class);
    options.setRunner(FlinkRunner.class);
    options.setFlinkMaster("[local]");
    options.setParallelism(2);
    options.setStreaming(streaming);
    Pipeline p = Pipeline.create(options);
    build(p, elements);
    PipelineResult result = p.run();
    result.waitUntilFinish();
    return sumOf(result);
  }

  /** Beam's portable translation onto Flink's DataSet API (what Beam's job server does for batch). */
  private static long beamPortableBatch(long elements) throws Exception {
    FlinkPipelineOptions options = PipelineOptionsFactory.create().as(FlinkPipelineOptions.class);
    options.setRunner(FlinkRunner.class);
    options.setFlinkMaster("[local]");
    options.setParallelism(2);
    options.as(PortablePipelineOptions.class).setDefaultEnvironmentType("EMBEDDED");
    Pipeline p = Pipeline.create(options);
    build(p, elements);
    RunnerApi.Pipeline proto = PipelineTranslation.toProto(p, SdkComponents.create(options));
    JobInfo jobInfo = JobInfo.create("bench-" + UUID.randomUUID(), "bench", "", PipelineOptionsTranslation.toProto(options));
    FlinkBatchPortablePipelineTranslator translator = FlinkBatchPortablePipelineTranslator.createTranslator();
    FlinkBatchPortablePipelineTranslator.BatchTranslationContext context =
        translator.createTranslationContext(jobInfo, options, null, List.of());
    org.apache.flink.api.common.JobExecutionResult result =
        translator.translate(context, translator.prepareForTranslation(proto)).execute("bench");
    Object stepMap = result.getAllAccumulatorResults().get(org.apache.beam.runners.flink.metrics.FlinkMetricContainer.ACCUMULATOR_NAME);
    long total = 0;
    for (MetricResult<Long> c : org.apache.beam.runners.core.metrics.MetricsContainerStepMap.asAttemptedOnlyMetricResults(
            (org.apache.beam.runners.core.metrics.MetricsContainerStepMap) stepMap)
        .queryMetrics(MetricsFilter.builder().addNameFilter(MetricNameFilter.named("bench", "sum")).build()).getCounters()) {
      total += c.getAttempted();
    }
    return total;
  }

  /** A plain {@code GroupByKey} (not lifted), then the sum of each group in a ParDo. */
  private static final class GroupAndSum extends PTransform<PCollection<KV<Long, Long>>, PCollection<KV<Long, Long>>> {
    @Override
    public PCollection<KV<Long, Long>> expand(PCollection<KV<Long, Long>> input) {
      return input.apply(GroupByKey.create())
          .apply("Sum", ParDo.of(new DoFn<KV<Long, Iterable<Long>>, KV<Long, Long>>() {
            @ProcessElement
            public void process(@Element KV<Long, Iterable<Long>> group, OutputReceiver<KV<Long, Long>> out) {
              long sum = 0;
              for (long v : group.getValue()) {
                sum += v;
              }
              out.output(KV.of(group.getKey(), sum));
            }
          }));
    }
  }
}
