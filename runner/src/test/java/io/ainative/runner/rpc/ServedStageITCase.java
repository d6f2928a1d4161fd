package io.ainative.runner.rpc;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import io.ainative.runner.AiNativeFlinkPipelineOptions;
import io.ainative.runner.AiNativeFlinkRunner;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.options.PortablePipelineOptions;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.resourcehints.ResourceHints;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * A served stage in the Java SDK harness (EMBEDDED): a Java composite with Beam's accelerator
 * resource hint runs in two service instances, each with its own in-process harness. The fast,
 * Python-free check of the served-stage path; the Python model-handler tests are in {@code
 * jobserver.ServedModelHandlerITCase}.
 */
public class ServedStageITCase {

  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  private static final Map<Integer, Integer> RESULTS = new ConcurrentHashMap<>();
  private static final AtomicInteger DELIVERIES = new AtomicInteger();
  private static final AtomicBoolean FAILED_ONCE = new AtomicBoolean();

  @Before
  public void reset() {
    RESULTS.clear();
    DELIVERIES.set(0);
    FAILED_ONCE.set(false);
  }

  /** x -> 2x + 1, in two steps; the first fails once (one whole bundle) when asked to. */
  private static final class Affine extends PTransform<PCollection<Integer>, PCollection<Integer>> {
    private final int failAt;

    Affine(int failAt) {
      this.failAt = failAt;
    }

    @Override
    public PCollection<Integer> expand(PCollection<Integer> input) {
      int fail = failAt;
      return input
          .apply("Double", MapElements.into(TypeDescriptors.integers()).via((Integer x) -> {
            if (x == fail && FAILED_ONCE.compareAndSet(false, true)) {
              throw new IllegalStateException("failing the bundle with " + x + " once, on purpose");
            }
            return 2 * x;
          }))
          .apply("PlusOne", MapElements.into(TypeDescriptors.integers()).via((Integer x) -> x + 1));
    }
  }

  static final class Collect extends DoFn<Integer, Void> {
    @ProcessElement
    public void process(@Element Integer y) {
      RESULTS.merge((y - 1) / 2, 1, Integer::sum);
      DELIVERIES.incrementAndGet();
    }
  }

  private AiNativeFlinkPipelineOptions options(Path conf) {
    List<String> args = new ArrayList<>(List.of("--flinkMaster=[local]", "--parallelism=2", "--flinkConfDir=" + conf));
    AiNativeFlinkPipelineOptions options =
        PipelineOptionsFactory.fromArgs(args.toArray(new String[0])).as(AiNativeFlinkPipelineOptions.class);
    options.setRunner(AiNativeFlinkRunner.class);
    options.as(PortablePipelineOptions.class).setDefaultEnvironmentType("EMBEDDED");
    return options;
  }

  private static long counter(PipelineResult result, String name) {
    long sum = 0;
    for (MetricResult<Long> c :
        result.metrics()
            .queryMetrics(MetricsFilter.builder().addNameFilter(MetricNameFilter.named(StageClientOperator.METRICS_NAMESPACE, name)).build())
            .getCounters()) {
      sum += c.getAttempted();
    }
    return sum;
  }

  @Test
  public void acceleratorHintedJavaComposite_isServed_andABundleThatFailsOnce_isRetried_withEveryElementOnce() throws Exception {
    int n = 2000;
    Path conf = tmp.newFolder().toPath();
    io.ainative.runner.testing.JobVertices.restPortIn(conf);
    Pipeline p = Pipeline.create(options(conf));
    p.apply("Inputs", Create.of(java.util.stream.IntStream.range(0, n).boxed().collect(java.util.stream.Collectors.toList()))
            .withCoder(VarIntCoder.of()))
        .apply("Served", new Affine(n / 2).setResourceHints(ResourceHints.create().withAccelerator("type:test;count:1")))
        .apply("Collect", ParDo.of(new Collect()));

    PipelineResult result = p.run();
    assertThat(result.waitUntilFinish(), equalTo(PipelineResult.State.DONE));

    assertThat("the stage failed a bundle once", FAILED_ONCE.get(), equalTo(true));
    assertThat("every input has a result", RESULTS.size(), equalTo(n));
    assertThat("none has two", DELIVERIES.get(), equalTo(n));
    for (int x = 0; x < n; x++) {
      assertThat("input " + x, RESULTS.get(x), equalTo(1));
    }
    assertThat("the client answered every element", counter(result, StageClientOperator.ANSWERED_ELEMENTS), equalTo((long) n));
    assertThat("the failed batch was tried again", counter(result, StageClientOperator.RETRIED_REQUESTS), equalTo(1L));
    assertThat("no instance was lost", counter(result, StageClientOperator.REROUTED_REQUESTS), equalTo(0L));
  }
}
