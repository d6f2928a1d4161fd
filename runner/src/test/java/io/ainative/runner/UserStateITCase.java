package io.ainative.runner;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.endsWith;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.state.MapState;
import org.apache.beam.sdk.state.OrderedListState;
import org.apache.beam.sdk.state.SetState;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.transforms.windowing.FixedWindows;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.transforms.windowing.IntervalWindow;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TimestampedValue;
import org.joda.time.Duration;
import org.joda.time.Instant;
import org.junit.Test;

/**
 * Map, set and ordered-list user state on the embedded MiniCluster, through the portable path: the
 * Java SDK harness asks the runner for these states over the Fn API, and the runner keeps them in
 * Flink keyed state. Bundles hold at most three elements, so most reads come back from the runner
 * rather than from the harness's own bundle, and keys interleave within the operator's bundles.
 */
public class UserStateITCase {

  private static final int KEYS = 6;
  private static final int ELEMENTS = 240;

  private static AiNativeFlinkPipelineOptions options() {
    AiNativeFlinkPipelineOptions options = PipelineOptionsFactory.create().as(AiNativeFlinkPipelineOptions.class);
    options.setRunner(TestAiNativeFlinkRunner.class);
    options.setFlinkMaster("[local]");
    options.setParallelism(2);
    options.setNumberOfExecutionRetries(0);
    options.setMaxBundleSize(3L);
    return options;
  }

  private static TestPipeline pipeline(AiNativeFlinkPipelineOptions options) {
    return TestPipeline.fromOptions(options).enableAbandonedNodeEnforcement(false);
  }

  private static String key(long i) {
    return "k" + (i % KEYS);
  }

  private static String word(long i) {
    return "w" + ((i / KEYS) % 7);
  }

  /** What {@link CountWords} must emit for the elements {@code 0 .. n-1}. */
  private static List<KV<String, Map<String, Integer>>> expectedWordCounts(long n) {
    Map<String, Map<String, Integer>> byKey = new TreeMap<>();
    for (long i = 0; i < n; i++) {
      byKey.computeIfAbsent(key(i), k -> new TreeMap<>()).merge(word(i), 1, Integer::sum);
    }
    List<KV<String, Map<String, Integer>>> expected = new ArrayList<>();
    byKey.forEach((k, counts) -> expected.add(KV.of(k, counts)));
    return expected;
  }

  private static List<KV<String, String>> keyedWords(long n) {
    List<KV<String, String>> elements = new ArrayList<>();
    for (long i = 0; i < n; i++) {
      elements.add(KV.of(key(i), word(i)));
    }
    return elements;
  }

  @Test
  public void mapState_countsPerKey_areKeptApartAcrossBundlesAndKeys() {
    TestPipeline p = pipeline(options());
    PCollection<KV<String, Map<String, Integer>>> counts =
        p.apply(Create.of(keyedWords(ELEMENTS)).withCoder(KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of())))
            .apply(ParDo.of(new CountWords()));
    PAssert.that(counts).containsInAnyOrder(expectedWordCounts(ELEMENTS));
    assertThat(p.run().waitUntilFinish(), is(PipelineResult.State.DONE));
  }

  @Test
  public void mapState_inFixedWindows_isKeptPerWindow_untilTheWindowExpires() {
    TestPipeline p = pipeline(options());
    List<TimestampedValue<KV<String, String>>> elements = new ArrayList<>();
    Map<String, Map<String, Integer>> expected = new TreeMap<>();
    for (long i = 0; i < ELEMENTS; i++) {
      elements.add(TimestampedValue.of(KV.of(key(i), word(i)), Instant.ofEpochMilli(i)));
      expected.computeIfAbsent(key(i) + "@" + (i / 40) * 40, k -> new TreeMap<>()).merge(word(i), 1, Integer::sum);
    }
    PCollection<KV<String, Map<String, Integer>>> counts =
        p.apply(Create.timestamped(elements).withCoder(KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of())))
            .apply(Window.into(FixedWindows.of(Duration.millis(40))))
            .apply(ParDo.of(new CountWordsPerWindow()));
    List<KV<String, Map<String, Integer>>> expectedList = new ArrayList<>();
    expected.forEach((k, v) -> expectedList.add(KV.of(k, v)));
    PAssert.that(counts).inWindow(new IntervalWindow(Instant.ofEpochMilli(40), Instant.ofEpochMilli(80)))
        .satisfies(inWindow -> {
          for (KV<String, Map<String, Integer>> kv : inWindow) {
            assertThat(kv.getKey(), endsWith("@40"));
          }
          return null;
        });
    PAssert.that(counts.apply(Window.into(new GlobalWindows()))).containsInAnyOrder(expectedList);
    assertThat(p.run().waitUntilFinish(), is(PipelineResult.State.DONE));
  }

  @Test
  public void setState_readsAndContains_seeElementsAddedInEarlierBundles() {
    TestPipeline p = pipeline(options());
    List<KV<String, Integer>> elements = new ArrayList<>();
    for (int i = 0; i < ELEMENTS; i++) {
      elements.add(KV.of(key(i), i % 11)); // many duplicates per key
    }
    PCollection<KV<String, List<Integer>>> sets =
        p.apply(Create.of(elements).withCoder(KvCoder.of(StringUtf8Coder.of(), VarIntCoder.of())))
            .apply(ParDo.of(new CollectDistinct()));
    List<KV<String, List<Integer>>> expected = new ArrayList<>();
    for (int k = 0; k < KEYS; k++) {
      Set<Integer> distinct = new java.util.TreeSet<>();
      for (int i = k; i < ELEMENTS; i += KEYS) {
        distinct.add(i % 11);
      }
      expected.add(KV.of("k" + k, new ArrayList<>(distinct)));
    }
    PAssert.that(sets).containsInAnyOrder(expected);
    assertThat(p.run().waitUntilFinish(), is(PipelineResult.State.DONE));
  }

  @Test
  public void orderedListState_readsInSortKeyOrder_keepsEqualSortKeys_andClearsRanges() {
    TestPipeline p = pipeline(options());
    List<KV<String, Long>> elements = new ArrayList<>();
    for (long i = 0; i < ELEMENTS; i++) {
      elements.add(KV.of(key(i), i));
    }
    PCollection<KV<String, List<String>>> lists =
        p.apply(Create.of(elements).withCoder(KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of())))
            .apply(ParDo.of(new OrderBySortKey()));
    List<KV<String, List<String>>> expected = new ArrayList<>();
    for (int k = 0; k < KEYS; k++) {
      // Sort keys i % 13; [5, 9) cleared. Equal sort keys keep the order of their appends, which
      // differs from run to run, so the DoFn's output sorts each run of equal sort keys.
      TreeMap<Long, List<String>> bySortKey = new TreeMap<>();
      for (long i = k; i < ELEMENTS; i += KEYS) {
        long sortKey = i % 13;
        if (sortKey < 5 || sortKey >= 9) {
          bySortKey.computeIfAbsent(sortKey, s -> new ArrayList<>()).add(sortKey + ":" + i);
        }
      }
      List<String> flat = new ArrayList<>();
      bySortKey.values().forEach(run -> {
        run.sort(null);
        flat.addAll(run);
      });
      expected.add(KV.of("k" + k, flat));
    }
    PAssert.that(lists).containsInAnyOrder(expected);
    assertThat(p.run().waitUntilFinish(), is(PipelineResult.State.DONE));
  }

  @Test
  public void mapState_withCheckpointing_isSnapshottedAndCountsEveryElementOnce() {
    AiNativeFlinkPipelineOptions options = options();
    // Checkpoints while the stateful stage works through its input: its Flink map states (bytes
    // under Beam's coder serializer) are snapshotted with data in them.
    options.setCheckpointingInterval(100L);
    TestPipeline p = pipeline(options);
    int n = 6_000;
    PCollection<KV<String, Map<String, Integer>>> counts =
        p.apply(Create.of(keyedWords(n)).withCoder(KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of())))
            .apply(ParDo.of(new CountWords()));
    PAssert.that(counts).containsInAnyOrder(expectedWordCounts(n));
    assertThat(p.run().waitUntilFinish(), is(PipelineResult.State.DONE));
  }

  @Test
  public void expectedWordCounts_coverEveryKeyAndElement() {
    List<KV<String, Map<String, Integer>>> expected = expectedWordCounts(ELEMENTS);
    assertThat(expected.size(), equalTo(KEYS));
    int total = 0;
    for (KV<String, Map<String, Integer>> kv : expected) {
      total += kv.getValue().values().stream().mapToInt(Integer::intValue).sum();
    }
    assertThat(total, equalTo(ELEMENTS));
    assertThat(new ArrayList<>(expected.get(0).getValue().keySet()), contains("w0", "w1", "w2", "w3", "w4", "w5", "w6"));
  }

  /** Counts each key's words in map state; emits each key's counts when its window expires. */
  static class CountWords extends DoFn<KV<String, String>, KV<String, Map<String, Integer>>> {
    @StateId("counts")
    private final StateSpec<MapState<String, Integer>> countsSpec = StateSpecs.map(StringUtf8Coder.of(), VarIntCoder.of());

    @ProcessElement
    public void process(@Element KV<String, String> element, @StateId("counts") MapState<String, Integer> counts) {
      Integer before = counts.get(element.getValue()).read();
      counts.put(element.getValue(), before == null ? 1 : before + 1);
    }

    @OnWindowExpiration
    public void expire(
        @Key String key, @StateId("counts") MapState<String, Integer> counts, OutputReceiver<KV<String, Map<String, Integer>>> out) {
      Map<String, Integer> sorted = new TreeMap<>();
      for (Map.Entry<String, Integer> entry : counts.entries().read()) {
        sorted.put(entry.getKey(), entry.getValue());
      }
      out.output(KV.of(key, sorted));
    }
  }

  /** {@link CountWords} per window: emits "key@windowStart" and the window's counts at its expiry. */
  static class CountWordsPerWindow extends DoFn<KV<String, String>, KV<String, Map<String, Integer>>> {
    @StateId("counts")
    private final StateSpec<MapState<String, Integer>> countsSpec = StateSpecs.map(StringUtf8Coder.of(), VarIntCoder.of());

    @ProcessElement
    public void process(@Element KV<String, String> element, @StateId("counts") MapState<String, Integer> counts) {
      Integer before = counts.get(element.getValue()).read();
      counts.put(element.getValue(), before == null ? 1 : before + 1);
    }

    @OnWindowExpiration
    public void expire(
        @Key String key,
        BoundedWindow window,
        @StateId("counts") MapState<String, Integer> counts,
        OutputReceiver<KV<String, Map<String, Integer>>> out) {
      Map<String, Integer> sorted = new TreeMap<>();
      for (Map.Entry<String, Integer> entry : counts.entries().read()) {
        sorted.put(entry.getKey(), entry.getValue());
      }
      out.output(KV.of(key + "@" + ((IntervalWindow) window).start().getMillis(), sorted));
    }
  }

  /** Collects each key's distinct values in set state; emits them sorted when the window expires. */
  static class CollectDistinct extends DoFn<KV<String, Integer>, KV<String, List<Integer>>> {
    @StateId("seen")
    private final StateSpec<SetState<Integer>> seenSpec = StateSpecs.set(VarIntCoder.of());

    @ProcessElement
    public void process(@Element KV<String, Integer> element, @StateId("seen") SetState<Integer> seen) {
      seen.add(element.getValue());
    }

    @OnWindowExpiration
    public void expire(@Key String key, @StateId("seen") SetState<Integer> seen, OutputReceiver<KV<String, List<Integer>>> out) {
      List<Integer> sorted = new ArrayList<>();
      for (Integer value : seen.read()) {
        // contains() reads the value's entry from the runner: its Void payload must count as present.
        if (!seen.contains(value).read()) {
          throw new IllegalStateException("set state of " + key + " lists " + value + " but does not contain it");
        }
        sorted.add(value);
      }
      if (seen.contains(-1).read()) {
        throw new IllegalStateException("set state of " + key + " contains a value never added");
      }
      sorted.sort(null);
      out.output(KV.of(key, sorted));
    }
  }

  /**
   * Adds each value with sort key {@code value % 13}; at window expiry clears the sort keys [5, 9)
   * and emits the list read back, each run of equal sort keys sorted (their order is the order of
   * the appends, which varies).
   */
  static class OrderBySortKey extends DoFn<KV<String, Long>, KV<String, List<String>>> {
    @StateId("list")
    private final StateSpec<OrderedListState<String>> listSpec = StateSpecs.orderedList(StringUtf8Coder.of());

    @ProcessElement
    public void process(@Element KV<String, Long> element, @StateId("list") OrderedListState<String> list) {
      long sortKey = element.getValue() % 13;
      list.add(TimestampedValue.of(sortKey + ":" + element.getValue(), Instant.ofEpochMilli(sortKey)));
    }

    @OnWindowExpiration
    public void expire(@Key String key, @StateId("list") OrderedListState<String> list, OutputReceiver<KV<String, List<String>>> out) {
      list.clearRange(Instant.ofEpochMilli(5), Instant.ofEpochMilli(9));
      Map<Long, List<String>> runs = new HashMap<>();
      List<Long> order = new ArrayList<>();
      long last = Long.MIN_VALUE;
      for (TimestampedValue<String> value : list.read()) {
        long sortKey = value.getTimestamp().getMillis();
        if (sortKey < last) {
          throw new IllegalStateException("ordered list of " + key + " read " + sortKey + " after " + last);
        }
        if (sortKey != last) {
          order.add(sortKey);
        }
        last = sortKey;
        runs.computeIfAbsent(sortKey, s -> new ArrayList<>()).add(value.getValue());
      }
      List<String> flat = new ArrayList<>();
      Set<Long> checked = new HashSet<>();
      for (Long sortKey : order) {
        if (!checked.add(sortKey)) {
          throw new IllegalStateException("sort key " + sortKey + " of " + key + " read in two runs");
        }
        List<String> run = runs.get(sortKey);
        run.sort(null);
        flat.addAll(run);
      }
      out.output(KV.of(key, flat));
    }
  }
}
