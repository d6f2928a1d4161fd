package io.ainative.examples;

import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import io.ainative.runner.AiNativeFlinkRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.io.GenerateSequence;
import org.apache.beam.sdk.io.TextIO;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Mean;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.View;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * A demo without inference: a Beam Java pipeline on an embedded Flink MiniCluster (or a cluster,
 * with {@code --flinkMaster=host:port}).
 *
 * <p>It generates synthetic request-log lines, parses them (malformed lines go to a failure
 * output and a counter), and computes per action the request count, its share of all requests (a
 * side input) and the mean latency (a combine), then prints the table, the pipeline's metrics and
 * the wall time.
 */
public final class ActionStatsDemo {

  static final String NAMESPACE = "demo";
  static final String[] ACTIONS = {"search", "view", "cart", "checkout", "login"};

  /** Demo options on top of the runner's. */
  public interface Options extends AiNativeFlinkPipelineOptions {
    @Description("How many log lines to generate.")
    @Default.Long(200_000L)
    long getLines();

    void setLines(long lines);

    @Description("Directory for the result files; a temporary directory when unset.")
    String getOutputDir();

    void setOutputDir(String dir);
  }

  private ActionStatsDemo() {}

  /** The log line for sequence number {@code i}: deterministic, every 1000th one malformed. */
  static String logLine(long i) {
    long mixed = (i * 0x9E3779B97F4A7C15L) >>> 17;
    String action = ACTIONS[(int) Math.floorMod(mixed, ACTIONS.length)];
    long latencyMs = 5 + Math.floorMod(mixed >>> 8, 200) + (action.equals("checkout") ? 100 : 0);
    if (i % 1000 == 999) {
      return "user" + (i % 97) + " " + action + " latency=??";
    }
    return "user" + (i % 97) + " " + action + " latency=" + latencyMs;
  }

  static final TupleTag<KV<String, Long>> PARSED = new TupleTag<KV<String, Long>>() {};
  static final TupleTag<String> MALFORMED = new TupleTag<String>() {};

  /** Parses "user action latency=N" into (action, N); anything else goes to {@link #MALFORMED}. */
  static final class ParseLine extends DoFn<String, KV<String, Long>> {
    private final Counter parsed = Metrics.counter(NAMESPACE, "parsedLines");
    private final Counter malformed = Metrics.counter(NAMESPACE, "malformedLines");

    @ProcessElement
    public void process(@Element String line, MultiOutputReceiver out) {
      String[] parts = line.split(" ");
      if (parts.length == 3 && parts[2].startsWith("latency=")) {
        try {
          long latency = Long.parseLong(parts[2].substring("latency=".length()));
          parsed.inc();
          out.get(PARSED).output(KV.of(parts[1], latency));
          return;
        } catch (NumberFormatException e) {
          // falls through to the failure output
        }
      }
      malformed.inc();
      out.get(MALFORMED).output(line);
    }
  }

  /** Builds the pipeline; results are written as text under {@code outputDir}. */
  static void build(Pipeline p, long lines, String outputDir) {
    PCollection<String> logs =
        p.apply("GenerateIds", GenerateSequence.from(0).to(lines))
            .apply("ToLogLines", ParDo.of(new DoFn<Long, String>() {
              @ProcessElement
              public void process(@Element Long i, OutputReceiver<String> out) {
                out.output(logLine(i));
              }
            }));
    var parsed = logs.apply("Parse", ParDo.of(new ParseLine()).withOutputTags(PARSED, TupleTagList.of(MALFORMED)));
    PCollection<KV<String, Long>> latencies = parsed.get(PARSED);

    PCollectionView<Long> total = latencies.apply("CountAll", Count.globally()).apply("AsSingleton", View.asSingleton());
    PCollection<KV<String, Long>> counts = latencies.apply("CountPerAction", Count.perKey());
    PCollectionView<java.util.Map<String, Double>> means =
        latencies.apply("MeanLatency", Mean.perKey()).apply("AsMap", View.asMap());

    counts
        .apply(
            "Format",
            ParDo.of(new DoFn<KV<String, Long>, String>() {
                  @ProcessElement
                  public void process(ProcessContext c) {
                    KV<String, Long> kv = c.element();
                    double share = 100.0 * kv.getValue() / c.sideInput(total);
                    double mean = c.sideInput(means).get(kv.getKey());
                    c.output(String.format(Locale.ROOT, "%-9s %8d %6.2f%% %8.1f", kv.getKey(), kv.getValue(), share, mean));
                  }
                })
                .withSideInputs(total, means))
        .apply("WriteStats", TextIO.write().to(outputDir + "/stats").withSuffix(".txt"));
    parsed.get(MALFORMED).apply("WriteMalformed", TextIO.write().to(outputDir + "/malformed").withSuffix(".txt"));
  }

  /** Reads the lines of the files {@code dir/prefix*} written by the pipeline, sorted. */
  static List<String> readResult(Path dir, String prefix) throws IOException {
    List<String> lines = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.filter(f -> f.getFileName().toString().startsWith(prefix)).collect(Collectors.toList())) {
        lines.addAll(Files.readAllLines(f));
      }
    }
    lines.sort(null);
    return lines;
  }

  public static void main(String[] args) throws Exception {
    Options options = AiNativeFlinkRunner.parseOptions(Options.class, args);
    Path outputDir =
        options.getOutputDir() == null ? Files.createTempDirectory("ainative-demo") : Path.of(options.getOutputDir());
    Files.createDirectories(outputDir);
    Pipeline p = Pipeline.create(options);
    build(p, options.getLines(), outputDir.toString());

    System.out.printf("ainative demo: %d log lines on Flink (%s), parallelism %s%n",
        options.getLines(), options.getFlinkMaster(), options.getParallelism() == -1 ? "auto" : options.getParallelism());
    long start = System.nanoTime();
    PipelineResult result = p.run();
    PipelineResult.State state = result.waitUntilFinish();
    double seconds = (System.nanoTime() - start) / 1e9;

    System.out.println();
    System.out.println("action       count  share  mean ms");
    readResult(outputDir, "stats").forEach(System.out::println);
    System.out.println();
    for (MetricResult<Long> counter :
        result.metrics().queryMetrics(
            MetricsFilter.builder().addNameFilter(MetricNameFilter.inNamespace(NAMESPACE)).build()).getCounters()) {
      System.out.printf("metric %-15s %d%n", counter.getName().getName(), counter.getAttempted());
    }
    System.out.printf("malformed lines kept in %s/malformed-*.txt: %d%n", outputDir, readResult(outputDir, "malformed").size());
    System.out.printf("job %s in %.1f s%n", state, seconds);
    if (state != PipelineResult.State.DONE) {
      throw new IllegalStateException("The demo job ended " + state);
    }
  }
}
