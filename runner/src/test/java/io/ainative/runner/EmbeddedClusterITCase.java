package io.ainative.runner;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.Assert.assertThrows;

import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.io.GenerateSequence;
import org.apache.beam.sdk.metrics.DistributionResult;
import org.apache.beam.sdk.metrics.GaugeResult;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricQueryResults;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.joda.time.Duration;
import org.junit.Test;

/** Java pipelines on the embedded MiniCluster through the portable path. */
public class EmbeddedClusterITCase {

  private static AiNativeFlinkPipelineOptions options(String... args) {
    AiNativeFlinkPipelineOptions options =
        PipelineOptionsFactory.fromArgs(args).as(AiNativeFlinkPipelineOptions.class);
    options.setRunner(AiNativeFlinkRunner.class);
    options.setFlinkMaster("[local]");
    options.setParallelism(2);
    options.setNumberOfExecutionRetries(0);
    return options;
  }

  @Test
  public void javaPipeline_withEveryFoundationFeature_passesItsAssertions() {
    AiNativeFlinkPipelineOptions options = options();
    options.setRunner(TestAiNativeFlinkRunner.class);
    TestPipeline p = TestPipeline.fromOptions(options).enableAbandonedNodeEnforcement(false);
    CoveragePipeline.apply(p);
    // TestPipeline also checks that every PAssert reported success through the metrics.
    PipelineResult result = p.run();
    assertThat(result.getState(), is(PipelineResult.State.DONE));
  }

  @Test
  public void boundedPipeline_withSideInputsAndCheckpointing_finishesByItself() {
    AiNativeFlinkPipelineOptions options = options();
    options.setRunner(TestAiNativeFlinkRunner.class);
    // Frequent checkpoints while side-input state exists: Beam 2.62's own stage translation
    // failed the first one (ClassCastException snapshotting side-input state).
    options.setCheckpointingInterval(100L);
    TestPipeline p = TestPipeline.fromOptions(options).enableAbandonedNodeEnforcement(false);
    CoveragePipeline.apply(p);
    assertThat(p.run().getState(), is(PipelineResult.State.DONE));
  }

  @Test
  public void failedAssertion_failsTheTestPipeline_withTheAssertionMessage() {
    AiNativeFlinkPipelineOptions options = options();
    options.setRunner(TestAiNativeFlinkRunner.class);
    TestPipeline p = TestPipeline.fromOptions(options).enableAbandonedNodeEnforcement(false);
    PAssert.that(p.apply(Create.of(1, 2, 3))).containsInAnyOrder(1, 2, 4);
    AssertionError error = assertThrows(AssertionError.class, p::run);
    assertThat(error.getMessage(), containsString("4"));
  }

  @Test
  public void userMetrics_counterDistributionAndGauge_areReadableAfterTheJob() {
    Pipeline p = Pipeline.create(options());
    p.apply(Create.of(CoveragePipeline.LINES)).apply(ParDo.of(new CoveragePipeline.SplitWords()));
    PipelineResult result = p.run();
    assertThat(result.waitUntilFinish(), is(PipelineResult.State.DONE));

    MetricQueryResults metrics =
        result
            .metrics()
            .queryMetrics(
                MetricsFilter.builder().addNameFilter(MetricNameFilter.inNamespace(CoveragePipeline.NAMESPACE)).build());
    MetricResult<Long> words = metrics.getCounters().iterator().next();
    assertThat(words.getName().getName(), equalTo("words"));
    assertThat(words.getAttempted(), equalTo(8L));

    DistributionResult lengths = metrics.getDistributions().iterator().next().getAttempted();
    assertThat(lengths.getCount(), equalTo(8L));
    assertThat(lengths.getSum(), equalTo(9L));
    assertThat(lengths.getMin(), equalTo(1L));
    assertThat(lengths.getMax(), equalTo(2L));

    GaugeResult lineLength = metrics.getGauges().iterator().next().getAttempted();
    assertThat(lineLength.getValue(), greaterThanOrEqualTo(2L));
    assertThat(lineLength.getValue(), lessThanOrEqualTo(5L));
  }

  @Test
  public void metricsSink_receivesTheFinalUserMetrics_byStepName() throws Exception {
    RecordingMetricsSink.PUSHED.clear();
    AiNativeFlinkPipelineOptions options = options();
    org.apache.beam.sdk.metrics.MetricsOptions metricsOptions = options.as(org.apache.beam.sdk.metrics.MetricsOptions.class);
    metricsOptions.setMetricsSink(RecordingMetricsSink.class);
    metricsOptions.setMetricsPushPeriod(1L);
    Pipeline p = Pipeline.create(options);
    p.apply(Create.of(CoveragePipeline.LINES)).apply("Split", ParDo.of(new CoveragePipeline.SplitWords()));
    assertThat(p.run().waitUntilFinish(), is(PipelineResult.State.DONE));

    // The push after the job's end carries the final value; pushes while it ran may carry less.
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
    Long words = null;
    while (!Long.valueOf(8L).equals(words) && System.nanoTime() < deadline) {
      MetricQueryResults pushed = RecordingMetricsSink.PUSHED.poll(1, java.util.concurrent.TimeUnit.SECONDS);
      if (pushed == null) {
        continue;
      }
      for (MetricResult<Long> counter : pushed.getCounters()) {
        if (counter.getName().getName().equals("words")) {
          // The harness labels a metric with the id of the primitive it ran in, as for queries.
          assertThat(counter.getKey().stepName(), startsWith("Split-"));
          words = counter.getAttempted();
        }
      }
    }
    assertThat(words, equalTo(8L));
  }

  @Test
  public void metricsSink_thatCannotBeBuilt_failsTheRun_namingTheOption() {
    AiNativeFlinkPipelineOptions options = options();
    options.as(org.apache.beam.sdk.metrics.MetricsOptions.class).setMetricsSink(SinkWithoutOptionsConstructor.class);
    Pipeline p = Pipeline.create(options);
    p.apply(Create.of(CoveragePipeline.LINES));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, p::run);
    assertThat(e.getMessage(), containsString("--metricsSink=" + SinkWithoutOptionsConstructor.class.getName()));
  }

  /** Has no constructor taking MetricsOptions, so the runner cannot build it. */
  public static final class SinkWithoutOptionsConstructor implements org.apache.beam.sdk.metrics.MetricsSink {
    public SinkWithoutOptionsConstructor(String unused) {}

    @Override
    public void writeMetrics(MetricQueryResults metricQueryResults) {}
  }

  /** A metrics sink that keeps what it was sent (built by the runner with the pipeline's options). */
  public static final class RecordingMetricsSink implements org.apache.beam.sdk.metrics.MetricsSink {
    static final java.util.concurrent.BlockingQueue<MetricQueryResults> PUSHED =
        new java.util.concurrent.LinkedBlockingQueue<>();

    public RecordingMetricsSink(org.apache.beam.sdk.metrics.MetricsOptions options) {}

    @Override
    public void writeMetrics(MetricQueryResults metricQueryResults) {
      PUSHED.add(metricQueryResults);
    }
  }

  @Test
  public void failingDoFn_failsTheJob_withTheUserException() {
    Pipeline p = Pipeline.create(options());
    p.apply(Create.of("ok", "poison"))
        .apply(ParDo.of(new RejectPoison()));
    PipelineResult result = p.run();
    Pipeline.PipelineExecutionException e =
        assertThrows(Pipeline.PipelineExecutionException.class, result::waitUntilFinish);
    assertThat(e.getCause().getMessage(), containsString("element 'poison' is not allowed"));
    assertThat(result.getState(), is(PipelineResult.State.FAILED));
  }

  @Test
  public void unboundedJob_runsUntilCancelled_andWaitWithLimitReturnsNullMeanwhile() throws Exception {
    Pipeline p = Pipeline.create(options());
    p.apply(GenerateSequence.from(0).withRate(50, Duration.standardSeconds(1)))
        .apply(ParDo.of(new CoveragePipeline.CountElements()));
    PipelineResult result = p.run();
    try {
      assertThat(result.waitUntilFinish(Duration.millis(1500)), nullValue());
      assertThat(result.getState(), is(PipelineResult.State.RUNNING));
    } finally {
      assertThat(result.cancel(), is(PipelineResult.State.CANCELLED));
    }
    assertThat(result.getState(), is(PipelineResult.State.CANCELLED));
    assertThat(result.waitUntilFinish(), is(PipelineResult.State.CANCELLED));
  }

  private static final class RejectPoison extends DoFn<String, String> {
    @ProcessElement
    public void process(@Element String s, OutputReceiver<String> out) {
      if (s.equals("poison")) {
        throw new IllegalStateException("element 'poison' is not allowed");
      }
      out.output(s);
    }
  }
}
