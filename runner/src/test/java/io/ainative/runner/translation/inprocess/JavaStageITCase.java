package io.ainative.runner.translation.inprocess;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertThrows;

import io.ainative.runner.TestAiNativeFlinkRunner;
import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import java.io.Serializable;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.transforms.windowing.FixedWindows;
import org.apache.beam.sdk.transforms.windowing.IntervalWindow;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TimestampedValue;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Duration;
import org.joda.time.Instant;
import org.junit.Test;

/**
 * Stages of a Java pipeline run by the runner in its task thread: multiple outputs, window
 * assignment, a flatten, a value whose coder only the SDK knows, user metrics, lifecycle methods
 * and a failing DoFn, each compared with the same pipeline run through the SDK harness.
 */
public class JavaStageITCase {
  static final AtomicLong SETUPS = new AtomicLong();
  static final AtomicLong TEARDOWNS = new AtomicLong();

  /** A value whose coder ({@link SerializableCoder}) the runner does not know: it sees its bytes. */
  static final class Reading implements Serializable {
    private static final long serialVersionUID = 1L;
    final String sensor;
    final long value;

    Reading(String sensor, long value) {
      this.sensor = sensor;
      this.value = value;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Reading && ((Reading) o).sensor.equals(sensor) && ((Reading) o).value == value;
    }

    @Override
    public int hashCode() {
      return Objects.hash(sensor, value);
    }
  }

  static final TupleTag<Reading> EVEN = new TupleTag<Reading>() {};
  static final TupleTag<String> ODD = new TupleTag<String>() {};

  /** Splits readings by parity, counting them; its lifecycle is counted too. */
  static final class Split extends DoFn<Long, Reading> {
    private final Counter seen = Metrics.counter("JavaStageITCase", "seen");

    @Setup
    public void setup() {
      SETUPS.incrementAndGet();
    }

    @ProcessElement
    public void process(@Element Long x, MultiOutputReceiver out) {
      seen.inc();
      if (x % 2 == 0) {
        out.get(EVEN).output(new Reading("s" + (x % 3), x));
      } else {
        out.get(ODD).output("odd-" + x);
      }
    }

    @Teardown
    public void teardown() {
      TEARDOWNS.incrementAndGet();
    }
  }

  static final class Fail extends DoFn<Long, Long> {
    @ProcessElement
    public void process(@Element Long x, OutputReceiver<Long> out) {
      if (x == 7) {
        throw new IllegalArgumentException("element 7 is not welcome");
      }
      out.output(x);
    }
  }

  private static AiNativeFlinkPipelineOptions options(boolean inProcess) {
    AiNativeFlinkPipelineOptions options = PipelineOptionsFactory.create().as(AiNativeFlinkPipelineOptions.class);
    options.setRunner(TestAiNativeFlinkRunner.class);
    options.setFlinkMaster("[local]");
    options.setParallelism(2);
    options.setInProcessJavaStages(inProcess);
    return options;
  }

  /** Builds the pipeline, asserts its results with PAssert, runs it; returns the result. */
  private static PipelineResult runMixedPipeline(boolean inProcess) {
    Pipeline p = Pipeline.create(options(inProcess));
    PCollection<Long> numbers =
        p.apply(
            Create.timestamped(
                java.util.stream.LongStream.range(0, 100)
                    .mapToObj(i -> TimestampedValue.of(i, new Instant(i * 1000)))
                    .collect(java.util.stream.Collectors.toList())))
            // A bounded read's splittable stage stays in the harness; what follows the shuffle does not.
            .apply(Reshuffle.viaRandomKey());
    PCollectionTuple split = numbers.apply("Split", ParDo.of(new Split()).withOutputTags(EVEN, TupleTagList.of(ODD)));
    PCollection<Reading> even = split.get(EVEN).setCoder(SerializableCoder.of(Reading.class));
    PCollection<String> evenNames =
        even.apply("Name even", MapElements.into(TypeDescriptors.strings()).via((Reading r) -> r.sensor + ":" + r.value));
    PCollection<String> all = PCollectionList.of(evenNames).and(split.get(ODD)).apply(Flatten.pCollections());
    PAssert.that(all.apply("Count all", Count.globally())).containsInAnyOrder(100L);
    PAssert.that(
            even.apply("By sensor", MapElements.into(TypeDescriptors.strings()).via((Reading r) -> r.sensor))
                .apply(Count.perElement()))
        .containsInAnyOrder(KV.of("s0", 17L), KV.of("s1", 16L), KV.of("s2", 17L));
    // Windows of 10 s over the timestamps 0..99 s: ten windows of five even readings each.
    PCollection<Long> perWindow =
        even.apply(Window.into(FixedWindows.of(Duration.standardSeconds(10))))
            .apply("Values", MapElements.into(TypeDescriptors.longs()).via((Reading r) -> r.value))
            .apply(org.apache.beam.sdk.transforms.Combine.globally(Count.<Long>combineFn()).withoutDefaults());
    PAssert.that(perWindow)
        .inWindow(new IntervalWindow(new Instant(30_000), new Instant(40_000)))
        .containsInAnyOrder(5L);
    return p.run();
  }

  private static long seen(PipelineResult result) {
    long total = 0;
    for (MetricResult<Long> counter :
        result.metrics().queryMetrics(
                MetricsFilter.builder().addNameFilter(MetricNameFilter.named("JavaStageITCase", "seen")).addStep("Split").build())
            .getCounters()) {
      total += counter.getAttempted();
    }
    return total;
  }

  @Test
  public void javaStages_runInTheRunner_withTheHarnessResults() {
    long before = JavaStageOperator.ELEMENTS.get();
    JavaStageOperator.TRANSFORMS.clear();
    SETUPS.set(0);
    TEARDOWNS.set(0);
    PipelineResult inProcess = runMixedPipeline(true);
    assertThat(inProcess.getState(), is(PipelineResult.State.DONE));
    assertThat("elements taken by in-process stages", JavaStageOperator.ELEMENTS.get() - before >= 100, is(true));
    assertThat(JavaStageOperator.TRANSFORMS, hasItems("Split", "Name even/Map/ParMultiDo(Anonymous)", "Window.Into()/Window.Assign"));
    assertThat("Split's counter, kept per transform", seen(inProcess), is(100L));
    assertThat("@Setup calls", SETUPS.get() > 0, is(true));
    assertThat("@Teardown calls match @Setup", TEARDOWNS.get(), is(SETUPS.get()));

    long between = JavaStageOperator.ELEMENTS.get();
    PipelineResult harness = runMixedPipeline(false);
    assertThat(harness.getState(), is(PipelineResult.State.DONE));
    assertThat("nothing ran in the runner with the option off", JavaStageOperator.ELEMENTS.get(), is(between));
    assertThat("Split's counter through the harness", seen(harness), is(100L));
  }

  @Test
  public void failingDoFn_inTheRunner_failsThePipelineWithTheUsersException() {
    Pipeline p = Pipeline.create(options(true));
    p.apply(Create.of(java.util.stream.LongStream.range(0, 20).boxed().collect(java.util.stream.Collectors.toList())))
        .apply(Reshuffle.viaRandomKey())
        .apply("Fail on 7", ParDo.of(new Fail()));
    Pipeline.PipelineExecutionException e = assertThrows(Pipeline.PipelineExecutionException.class, p::run);
    assertThat(e.getCause().getClass().getName(), is(IllegalArgumentException.class.getName()));
    assertThat(e.getCause().getMessage(), containsString("element 7 is not welcome"));
    assertThat(JavaStageOperator.TRANSFORMS, hasItem("Fail on 7/ParMultiDo(Fail)"));
  }

  @Test
  public void boundedRead_runsInTheRunner_withEveryElement() {
    JavaStageOperator.TRANSFORMS.clear();
    Pipeline p = Pipeline.create(options(true));
    PCollection<Long> sum =
        p.apply("Numbers", org.apache.beam.sdk.io.GenerateSequence.from(0).to(100_000))
            .apply("Sum", org.apache.beam.sdk.transforms.Sum.longsGlobally());
    PAssert.thatSingleton(sum).isEqualTo(100_000L * 99_999L / 2);
    assertThat(p.run().getState(), is(PipelineResult.State.DONE));
    assertThat(
        JavaStageOperator.TRANSFORMS.toString(),
        JavaStageOperator.TRANSFORMS.stream().anyMatch(t -> t.startsWith("Numbers/") && t.contains("SizedElementsAndRestrictions")),
        is(true));
  }
}
