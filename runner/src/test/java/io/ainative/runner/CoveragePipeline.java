package io.ainative.runner;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Distribution;
import org.apache.beam.sdk.metrics.Gauge;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Sum;
import org.apache.beam.sdk.transforms.View;
import org.apache.beam.sdk.transforms.windowing.FixedWindows;
import org.apache.beam.sdk.transforms.windowing.IntervalWindow;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.TimestampedValue;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * One pipeline that touches what the foundation promises (ParDo, GroupByKey, Combine, Flatten,
 * side inputs, windowing, metrics), each part checked with PAssert. Used on the embedded cluster
 * and on the multi-process cluster.
 */
public final class CoveragePipeline {

  public static final String NAMESPACE = "coverage";
  static final List<String> LINES = Arrays.asList("a b", "b c", "c a b", "dd");

  private CoveragePipeline() {}

  /** Adds the transforms and their assertions to {@code p}. */
  public static void apply(Pipeline p) {
    PCollection<String> words =
        p.apply("Lines", Create.of(LINES)).apply("Split", ParDo.of(new SplitWords()));

    // Combine (per key) over a GroupByKey.
    PAssert.that(words.apply("CountWords", Count.perElement()))
        .containsInAnyOrder(KV.of("a", 2L), KV.of("b", 3L), KV.of("c", 2L), KV.of("dd", 1L));

    // An explicit GroupByKey.
    PCollection<KV<Integer, Iterable<String>>> byLength =
        words
            .apply(
                "KeyByLength",
                MapElements.into(TypeDescriptors.kvs(TypeDescriptors.integers(), TypeDescriptors.strings()))
                    .via((String w) -> KV.of(w.length(), w)))
            .apply("GroupByLength", GroupByKey.create());
    PAssert.that(
            byLength.apply(
                "GroupSizes",
                MapElements.into(TypeDescriptors.kvs(TypeDescriptors.integers(), TypeDescriptors.integers()))
                    .via((KV<Integer, Iterable<String>> kv) -> KV.of(kv.getKey(), size(kv.getValue())))))
        .containsInAnyOrder(KV.of(1, 7), KV.of(2, 1));

    // Flatten.
    PCollection<String> more = p.apply("More", Create.of("x", "y"));
    PAssert.that(PCollectionList.of(words).and(more).apply("Flatten", Flatten.pCollections()))
        .containsInAnyOrder("a", "b", "b", "c", "c", "a", "b", "dd", "x", "y");

    // Side inputs: a singleton and a map.
    PCollectionView<Integer> total =
        words
            .apply("Lengths", MapElements.into(TypeDescriptors.integers()).via(String::length))
            .apply("TotalLength", Sum.integersGlobally().asSingletonView());
    PCollectionView<Map<String, Long>> counts =
        words.apply("CountsForView", Count.perElement()).apply("AsMap", View.asMap());
    PCollection<String> withSideInputs =
        more.apply(
            "UseSideInputs",
            ParDo.of(
                    new DoFn<String, String>() {
                      @ProcessElement
                      public void process(ProcessContext c) {
                        c.output(c.element() + ":" + c.sideInput(total) + ":" + c.sideInput(counts).get("b"));
                      }
                    })
                .withSideInputs(total, counts));
    PAssert.that(withSideInputs).containsInAnyOrder("x:9:3", "y:9:3");

    // Windowing: fixed one-minute windows over event time.
    Instant base = new Instant(0);
    PCollection<KV<String, Integer>> windowedSums =
        p.apply(
                "Timestamped",
                Create.timestamped(
                        TimestampedValue.of(KV.of("k", 1), base.plus(Duration.standardSeconds(10))),
                        TimestampedValue.of(KV.of("k", 2), base.plus(Duration.standardSeconds(50))),
                        TimestampedValue.of(KV.of("k", 4), base.plus(Duration.standardSeconds(70))))
                    .withCoder(KvCoder.of(StringUtf8Coder.of(), VarIntCoder.of())))
            .apply("Fixed1m", Window.into(FixedWindows.of(Duration.standardMinutes(1))))
            .apply("SumPerWindow", Sum.integersPerKey());
    PAssert.that(windowedSums)
        .inWindow(new IntervalWindow(base, Duration.standardMinutes(1)))
        .containsInAnyOrder(KV.of("k", 3));
    PAssert.that(windowedSums)
        .inWindow(new IntervalWindow(base.plus(Duration.standardMinutes(1)), Duration.standardMinutes(1)))
        .containsInAnyOrder(KV.of("k", 4));
  }

  private static int size(Iterable<?> values) {
    int n = 0;
    for (Object ignored : values) {
      n++;
    }
    return n;
  }

  /** The attempted value of the counter {@code name} in {@link #NAMESPACE}, 0 if absent. */
  public static long countOf(org.apache.beam.sdk.PipelineResult result, String name) {
    long total = 0;
    for (org.apache.beam.sdk.metrics.MetricResult<Long> counter :
        result
            .metrics()
            .queryMetrics(
                org.apache.beam.sdk.metrics.MetricsFilter.builder()
                    .addNameFilter(org.apache.beam.sdk.metrics.MetricNameFilter.named(NAMESPACE, name))
                    .build())
            .getCounters()) {
      total += counter.getAttempted();
    }
    return total;
  }

  /** Counts the elements it sees in the counter {@code elements}. */
  static final class CountElements extends DoFn<Long, Long> {
    private final Counter elements = Metrics.counter(NAMESPACE, "elements");

    @ProcessElement
    public void process(@Element Long value, OutputReceiver<Long> out) {
      elements.inc();
      out.output(value);
    }
  }

  /** Splits lines into words and reports a counter, a distribution and a gauge. */
  static final class SplitWords extends DoFn<String, String> {
    private final Counter words = Metrics.counter(NAMESPACE, "words");
    private final Distribution lengths = Metrics.distribution(NAMESPACE, "wordLength");
    private final Gauge lastLineLength = Metrics.gauge(NAMESPACE, "lineLength");

    @ProcessElement
    public void process(@Element String line, OutputReceiver<String> out) {
      lastLineLength.set(line.length());
      for (String word : line.split(" ")) {
        words.inc();
        lengths.update(word.length());
        out.output(word);
      }
    }
  }
}
