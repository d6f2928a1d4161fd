package io.ainative.transforms.runtime;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.greaterThan;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import io.ainative.transforms.InferenceFailedException;
import io.ainative.transforms.InferenceFailure;
import io.ainative.transforms.InferenceMetrics;
import io.ainative.transforms.InferenceOptions;
import io.ainative.transforms.InferenceResult;
import io.ainative.transforms.InferenceStep;
import io.ainative.transforms.ModelSpec;
import io.ainative.transforms.RetryPolicy;
import io.ainative.transforms.TinyModels;
import java.io.Closeable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.beam.runners.core.DoFnRunner;
import org.apache.beam.runners.core.DoFnRunners;
import org.apache.beam.runners.core.NullSideInputReader;
import org.apache.beam.runners.core.StateInternals;
import org.apache.beam.runners.core.StepContext;
import org.apache.beam.runners.core.TimerInternals;
import org.apache.beam.runners.core.metrics.MetricsContainerImpl;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.metrics.MetricName;
import org.apache.beam.sdk.metrics.MetricsEnvironment;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.DoFnSchemaInformation;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.transforms.windowing.IntervalWindow;
import org.apache.beam.sdk.transforms.windowing.PaneInfo;
import org.apache.beam.sdk.util.SerializableUtils;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.WindowingStrategy;
import org.joda.time.Instant;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The inline expansion's DoFn, driven by Beam's own {@code SimpleDoFnRunner} (the DoFn contract,
 * timestamp-skew checks included) against the real PyTorch engine.
 */
public class InferenceDoFnTest {
  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  private final TupleTag<InferenceResult<Float, Float>> mainTag = new TupleTag<>("main");
  private final TupleTag<InferenceFailure<Float>> failureTag = new TupleTag<>("failures");
  private final Map<TupleTag<?>, List<WindowedValue<?>>> outputs = new HashMap<>();
  private final MetricsContainerImpl metrics = new MetricsContainerImpl("infer");
  private Closeable metricsScope;
  private ModelSpec<Float, Float> spec;

  @Before
  public void setUp() {
    spec = TinyModels.doublerSpec(TinyModels.saveDoubler(tmp.getRoot().toPath())).build();
    metricsScope = MetricsEnvironment.scopedMetricsContainer(metrics);
  }

  @After
  public void tearDown() throws Exception {
    metricsScope.close();
  }

  private InferenceDoFn<Float, Float, Float, InferenceResult<Float, Float>> fn(
      InferenceOptions options, boolean withFailures) {
    // serialized and back, as a runner ships it
    return SerializableUtils.clone(
        new InferenceDoFn<>(
            spec,
            options,
            ElementAdapter.unkeyed(),
            mainTag,
            withFailures ? failureTag : null,
            InferenceMetrics.DEFAULT_NAMESPACE));
  }

  private <E, R> DoFnRunner<E, R> runner(DoFn<E, R> fn, TupleTag<R> main, boolean withFailures) {
    List<TupleTag<?>> additional =
        withFailures ? Collections.singletonList(failureTag) : Collections.emptyList();
    return DoFnRunners.simpleRunner(
        PipelineOptionsFactory.create(),
        fn,
        NullSideInputReader.empty(),
        new DoFnRunners.OutputManager() {
          @Override
          public <T> void output(TupleTag<T> tag, WindowedValue<T> value) {
            outputs.computeIfAbsent(tag, t -> new ArrayList<>()).add(value);
          }
        },
        main,
        additional,
        new StepContext() {
          @Override
          public StateInternals stateInternals() {
            throw new UnsupportedOperationException("stateless");
          }

          @Override
          public TimerInternals timerInternals() {
            throw new UnsupportedOperationException("no timers");
          }
        },
        (Coder<E>) null,
        Collections.emptyMap(),
        WindowingStrategy.globalDefault(),
        DoFnSchemaInformation.create(),
        Collections.emptyMap());
  }

  private static <T> WindowedValue<T> at(T value, long millis, BoundedWindow window) {
    return WindowedValue.of(value, new Instant(millis), window, PaneInfo.NO_FIRING);
  }

  private <T> List<WindowedValue<T>> output(TupleTag<T> tag) {
    @SuppressWarnings("unchecked")
    List<WindowedValue<T>> values =
        (List<WindowedValue<T>>) (List<?>) outputs.getOrDefault(tag, Collections.emptyList());
    return values;
  }

  private long counter(String name) {
    return metrics
        .getCounter(MetricName.named(InferenceMetrics.DEFAULT_NAMESPACE, name))
        .getCumulative();
  }

  private org.apache.beam.runners.core.metrics.DistributionData distribution(String name) {
    return metrics
        .getDistribution(MetricName.named(InferenceMetrics.DEFAULT_NAMESPACE, name))
        .getCumulative();
  }

  @Test
  public void fullBatch_runsMidBundle_andEveryResultKeepsItsTimestampAndWindow() throws Exception {
    InferenceDoFn<Float, Float, Float, InferenceResult<Float, Float>> fn =
        fn(InferenceOptions.defaults().withBatchSize(1, 2)
            .withMaxBatchingDelay(org.joda.time.Duration.standardHours(1)), false);
    fn.setup();
    try {
      DoFnRunner<Float, InferenceResult<Float, Float>> runner = runner(fn, mainTag, false);
      IntervalWindow w1 = new IntervalWindow(new Instant(0), new Instant(100));
      IntervalWindow w2 = new IntervalWindow(new Instant(100), new Instant(200));
      runner.startBundle();
      runner.processElement(at(1f, 10, w1));
      runner.processElement(at(2f, 110, w2));
      runner.processElement(at(3f, 20, w1)); // w1 now holds 2: runs here, with 1f's older timestamp
      assertEquals(2, output(mainTag).size());
      runner.processElement(at(4f, 30, GlobalWindow.INSTANCE));
      runner.finishBundle();

      Map<Float, WindowedValue<InferenceResult<Float, Float>>> byInput =
          output(mainTag).stream()
              .collect(Collectors.toMap(v -> v.getValue().getInput(), v -> v));
      assertEquals(4, byInput.size());
      assertEquals(2f, byInput.get(1f).getValue().getOutput(), 0f);
      assertEquals(8f, byInput.get(4f).getValue().getOutput(), 0f);
      assertEquals(new Instant(10), byInput.get(1f).getTimestamp());
      assertEquals(Collections.singletonList(w1), new ArrayList<>(byInput.get(1f).getWindows()));
      assertEquals(new Instant(110), byInput.get(2f).getTimestamp());
      assertEquals(Collections.singletonList(w2), new ArrayList<>(byInput.get(2f).getWindows()));
      assertEquals(new Instant(20), byInput.get(3f).getTimestamp());
      assertEquals(GlobalWindow.INSTANCE, byInput.get(4f).getWindows().iterator().next());
    } finally {
      fn.teardown();
    }
  }

  @Test
  public void elementOlderThanTheBatchingDelay_runsWhenTheNextOneArrives() throws Exception {
    InferenceDoFn<Float, Float, Float, InferenceResult<Float, Float>> fn =
        fn(InferenceOptions.defaults().withBatchSize(1, 64)
            .withMaxBatchingDelay(org.joda.time.Duration.ZERO), false);
    fn.setup();
    try {
      DoFnRunner<Float, InferenceResult<Float, Float>> runner = runner(fn, mainTag, false);
      runner.startBundle();
      runner.processElement(at(1f, 0, GlobalWindow.INSTANCE));
      assertEquals(1, output(mainTag).size()); // no waiting: it did not stay for the bundle's end
      runner.processElement(at(2f, 0, GlobalWindow.INSTANCE));
      assertEquals(2, output(mainTag).size());
      runner.finishBundle();
      assertEquals(2, output(mainTag).size());
    } finally {
      fn.teardown();
    }
  }

  @Test
  public void oneBadElement_goesToTheFailureOutputAtInference_andTheRestOfItsBatchSucceeds()
      throws Exception {
    InferenceDoFn<Float, Float, Float, InferenceResult<Float, Float>> fn =
        fn(InferenceOptions.defaults().withBatchSize(1, 8)
            .withRetryPolicy(RetryPolicy.noRetries()), true);
    fn.setup();
    try {
      DoFnRunner<Float, InferenceResult<Float, Float>> runner = runner(fn, mainTag, true);
      runner.startBundle();
      for (float x : new float[] {1f, 2f, -5f, 3f}) {
        runner.processElement(at(x, 0, GlobalWindow.INSTANCE));
      }
      runner.finishBundle();

      List<Float> inputs =
          output(mainTag).stream().map(v -> v.getValue().getInput()).collect(Collectors.toList());
      assertThat(inputs, containsInAnyOrder(1f, 2f, 3f));
      List<WindowedValue<InferenceFailure<Float>>> failures = output(failureTag);
      assertEquals(1, failures.size());
      InferenceFailure<Float> failure = failures.get(0).getValue();
      assertEquals(-5f, failure.getElement(), 0f);
      assertEquals(InferenceStep.INFERENCE, failure.getStep());
      assertThat(failure.getErrorMessage(), containsString("negative input"));
      // the batch of 4, its half [2, -5], and [-5] alone
      assertEquals(3, counter(InferenceMetrics.FAILED_BATCHES_COUNTER));
      assertEquals(3, counter(InferenceMetrics.NUM_INFERENCES));
    } finally {
      fn.teardown();
    }
  }

  @Test
  public void preAndPostProcessingFailures_areReportedWithTheirStep() throws Exception {
    InferenceDoFn<Float, Float, Float, InferenceResult<Float, Float>> fn =
        fn(InferenceOptions.defaults(), true);
    fn.setup();
    try {
      DoFnRunner<Float, InferenceResult<Float, Float>> runner = runner(fn, mainTag, true);
      runner.startBundle();
      runner.processElement(at(Float.NaN, 0, GlobalWindow.INSTANCE));
      runner.processElement(at(600f, 0, GlobalWindow.INSTANCE)); // 1200 > 1000 in post
      runner.processElement(at(7f, 0, GlobalWindow.INSTANCE));
      runner.finishBundle();

      Map<InferenceStep, Float> stepOf =
          output(failureTag).stream()
              .collect(
                  Collectors.toMap(v -> v.getValue().getStep(), v -> v.getValue().getElement()));
      assertTrue(Float.isNaN(stepOf.get(InferenceStep.PRE_PROCESS)));
      assertEquals(600f, stepOf.get(InferenceStep.POST_PROCESS), 0f);
      assertEquals(1, output(mainTag).size());
      assertEquals(14f, output(mainTag).get(0).getValue().getOutput(), 0f);
    } finally {
      fn.teardown();
    }
  }

  @Test
  public void withoutFailureOutput_aFailingElementFailsTheBundle_namingStepAndElement()
      throws Exception {
    InferenceDoFn<Float, Float, Float, InferenceResult<Float, Float>> fn =
        fn(InferenceOptions.defaults().withRetryPolicy(RetryPolicy.noRetries()), false);
    fn.setup();
    try {
      DoFnRunner<Float, InferenceResult<Float, Float>> runner = runner(fn, mainTag, false);
      runner.startBundle();
      runner.processElement(at(-1.5f, 0, GlobalWindow.INSTANCE));
      Exception e = assertThrows(Exception.class, runner::finishBundle);
      Throwable cause = e;
      while (!(cause instanceof InferenceFailedException) && cause.getCause() != null) {
        cause = cause.getCause();
      }
      assertThat(cause, org.hamcrest.Matchers.instanceOf(InferenceFailedException.class));
      assertEquals(InferenceStep.INFERENCE, ((InferenceFailedException) cause).getStep());
      assertThat(cause.getMessage(), containsString("at step inference for element -1.5"));
      assertThat(cause.getMessage(), containsString("withFailures()"));
    } finally {
      fn.teardown();
    }
  }

  @Test
  public void metrics_carryBeamPythonNames_andTheLoadIsReportedOnce() throws Exception {
    InferenceDoFn<Float, Float, Float, InferenceResult<Float, Float>> fn =
        fn(InferenceOptions.defaults().withBatchSize(1, 3), false);
    fn.setup();
    try {
      DoFnRunner<Float, InferenceResult<Float, Float>> runner = runner(fn, mainTag, false);
      for (int bundle = 0; bundle < 2; bundle++) {
        runner.startBundle();
        for (int i = 0; i < 4; i++) {
          runner.processElement(at((float) i, 0, GlobalWindow.INSTANCE));
        }
        runner.finishBundle();
      }
      assertEquals(8, counter(InferenceMetrics.NUM_INFERENCES));
      // per bundle: a full batch of 3 in processElement, 1 left for finishBundle
      assertEquals(4, distribution(InferenceMetrics.INFERENCE_REQUEST_BATCH_SIZE).count());
      assertEquals(8, distribution(InferenceMetrics.INFERENCE_REQUEST_BATCH_SIZE).sum());
      assertEquals(3, distribution(InferenceMetrics.INFERENCE_REQUEST_BATCH_SIZE).max());
      assertEquals(4, distribution(InferenceMetrics.INFERENCE_BATCH_LATENCY_MICRO_SECS).count());
      assertEquals(1, distribution(InferenceMetrics.LOAD_MODEL_LATENCY_MILLI_SECS).count());
      assertEquals(1, distribution(InferenceMetrics.MODEL_BYTE_SIZE).count());
      assertEquals(0, counter(InferenceMetrics.FAILED_BATCHES_COUNTER));
    } finally {
      fn.teardown();
    }
  }

  @Test
  public void doFnInstancesOfOneSpec_shareOneLoadedModel_closedWithTheLastTeardown()
      throws Exception {
    int before = SharedModels.loadedCount();
    InferenceDoFn<Float, Float, Float, InferenceResult<Float, Float>> a =
        fn(InferenceOptions.defaults(), false);
    InferenceDoFn<Float, Float, Float, InferenceResult<Float, Float>> b =
        fn(InferenceOptions.defaults(), false);
    a.setup();
    b.setup();
    assertEquals(before + 1, SharedModels.loadedCount());
    a.teardown();
    assertEquals(before + 1, SharedModels.loadedCount());
    b.teardown();
    assertEquals(before, SharedModels.loadedCount());
  }

  @Test
  public void modelCopies_loadOneModelPerCopy() throws Exception {
    int before = SharedModels.loadedCount();
    List<InferenceDoFn<Float, Float, Float, InferenceResult<Float, Float>>> fns = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      fns.add(fn(InferenceOptions.defaults().withModelCopies(2), false));
      fns.get(i).setup();
    }
    try {
      assertEquals(before + 2, SharedModels.loadedCount());
    } finally {
      fns.forEach(InferenceDoFn::teardown);
    }
    assertEquals(before, SharedModels.loadedCount());
  }

  @Test
  public void keyedElements_keepTheirKeys() throws Exception {
    TupleTag<KV<String, InferenceResult<Float, Float>>> keyedTag = new TupleTag<>("keyed");
    InferenceDoFn<KV<String, Float>, Float, Float, KV<String, InferenceResult<Float, Float>>> fn =
        new InferenceDoFn<>(
            spec,
            InferenceOptions.defaults(),
            ElementAdapter.keyed(),
            keyedTag,
            null,
            InferenceMetrics.DEFAULT_NAMESPACE);
    fn.setup();
    try {
      DoFnRunner<KV<String, Float>, KV<String, InferenceResult<Float, Float>>> runner =
          runner(fn, keyedTag, false);
      runner.startBundle();
      runner.processElement(at(KV.of("a", 1f), 0, GlobalWindow.INSTANCE));
      runner.processElement(at(KV.of("b", 5f), 0, GlobalWindow.INSTANCE));
      runner.finishBundle();
      Map<String, Float> byKey =
          output(keyedTag).stream()
              .collect(
                  Collectors.toMap(v -> v.getValue().getKey(), v -> v.getValue().getValue().getOutput()));
      assertEquals(2f, byKey.get("a"), 0f);
      assertEquals(10f, byKey.get("b"), 0f);
      assertThat(counter(InferenceMetrics.NUM_INFERENCES), greaterThan(0L));
    } finally {
      fn.teardown();
    }
  }
}
