package io.ainative.runner.translation.inprocess;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.runners.core.DoFnRunner;
import org.apache.beam.runners.core.StepContext;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.runners.flink.metrics.FlinkMetricContainer;
import org.apache.beam.runners.flink.translation.wrappers.streaming.DoFnOperator;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.DoFnSchemaInformation;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.WindowingStrategy;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The operator of a fused stage that the runner executes itself ({@link InProcessStages}): Beam's
 * {@link DoFnOperator}, which keeps its bundles, watermarks and checkpoint behaviour, with the
 * stage's transforms run by a {@link JavaStageRunner} in the task thread in place of a single DoFn.
 * Its inputs and outputs are those of the stage's Fn API operator, in the same form, so the two
 * are interchangeable in the job graph.
 */
@Internal
public final class JavaStageOperator extends DoFnOperator<Object, Object> {
  private static final long serialVersionUID = 1L;

  /** Elements the stages of this kind took in, in this JVM (a diagnostic, read by tests). */
  public static final AtomicLong ELEMENTS = new AtomicLong();
  /** The unique names of the transforms that stages of this kind ran, in this JVM (a diagnostic, read by tests). */
  public static final java.util.Set<String> TRANSFORMS = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private final RunnerApi.ExecutableStagePayload stage;
  /** The output tag of each output PCollection of the stage. */
  private final Map<String, TupleTag<?>> outputTags;

  private transient @Nullable JavaStageRunner stageRunner;
  private transient @Nullable FlinkMetricContainer metrics;

  @SuppressWarnings({"unchecked", "rawtypes"})
  public JavaStageOperator(
      String stepName,
      Coder<WindowedValue<Object>> inputCoder,
      @Nullable TupleTag<Object> mainOutputTag,
      List<TupleTag<?>> additionalOutputTags,
      DoFnOperator.MultiOutputOutputManagerFactory<Object> outputManagerFactory,
      WindowingStrategy<?, ?> windowingStrategy,
      PipelineOptions options,
      RunnerApi.ExecutableStagePayload stage,
      Map<String, TupleTag<?>> outputTags) {
    super(
        new Placeholder(),
        stepName,
        inputCoder,
        Collections.emptyMap(),
        mainOutputTag,
        additionalOutputTags,
        outputManagerFactory,
        windowingStrategy,
        Collections.emptyMap(),
        Collections.emptyList(),
        options,
        null,
        null,
        DoFnSchemaInformation.create(),
        Collections.emptyMap());
    this.stage = stage;
    this.outputTags = Map.copyOf(outputTags);
  }

  /** Beam's {@code open} builds a runner for the placeholder and hands it here: the stage's runner replaces it. */
  @Override
  protected DoFnRunner<Object, Object> createWrappingDoFnRunner(DoFnRunner<Object, Object> placeholder, StepContext stepContext) {
    PipelineOptions options = serializedOptions.get();
    FlinkMetricContainer container =
        options.as(FlinkPipelineOptions.class).getDisableMetrics() ? null : new FlinkMetricContainer(getRuntimeContext());
    metrics = container;
    JavaStageRunner runner =
        new JavaStageRunner(
            stage,
            options,
            outputTags,
            (tag, value) -> outputManager.output(cast(tag), value),
            container == null ? null : new Containers(container));
    runner.setup();
    stageRunner = runner;
    for (String id : stage.getTransformsList()) {
      TRANSFORMS.add(stage.getComponents().getTransformsOrThrow(id).getUniqueName());
    }
    return new Counting(runner, placeholder.getFn());
  }

  @SuppressWarnings("unchecked")
  private static TupleTag<Object> cast(TupleTag<?> tag) {
    return (TupleTag<Object>) tag;
  }

  @Override
  public void close() throws Exception {
    try {
      super.close();
    } finally {
      try {
        if (stageRunner != null) {
          stageRunner.teardown();
        }
      } finally {
        if (metrics != null) {
          metrics.registerMetricsForPipelineResult();
        }
      }
    }
  }

  /** The stage's metrics containers, reported to Flink's metric groups as the harness path does. */
  private static final class Containers implements JavaStageRunner.MetricsContainers {
    private final FlinkMetricContainer container;

    Containers(FlinkMetricContainer container) {
      this.container = container;
    }

    @Override
    public org.apache.beam.runners.core.metrics.MetricsContainerImpl forTransform(String transformId) {
      return container.getMetricsContainer(transformId);
    }

    @Override
    public void report(String transformId) {
      // Nothing new to merge: this pushes the container's current values to Flink's metric group.
      container.updateMetrics(transformId, Collections.emptyList());
    }
  }

  /** Counts the stage's input for {@link #ELEMENTS}, per bundle. */
  private static final class Counting implements DoFnRunner<Object, Object> {
    private final JavaStageRunner runner;
    private final DoFn<Object, Object> placeholder;
    private long elements;

    Counting(JavaStageRunner runner, DoFn<Object, Object> placeholder) {
      this.runner = runner;
      this.placeholder = placeholder;
    }

    @Override
    public void startBundle() {
      runner.startBundle();
    }

    @Override
    public void processElement(WindowedValue<Object> element) {
      elements++;
      runner.processElement(element);
    }

    @Override
    public void finishBundle() {
      runner.finishBundle();
      ELEMENTS.addAndGet(elements);
      elements = 0;
    }

    @Override
    public <KeyT> void onTimer(
        String timerId, String timerFamilyId, KeyT key, org.apache.beam.sdk.transforms.windowing.BoundedWindow window,
        org.joda.time.Instant timestamp, org.joda.time.Instant outputTimestamp, org.apache.beam.sdk.state.TimeDomain timeDomain) {
      runner.onTimer(timerId, timerFamilyId, key, window, timestamp, outputTimestamp, timeDomain);
    }

    @Override
    public <KeyT> void onWindowExpiration(
        org.apache.beam.sdk.transforms.windowing.BoundedWindow window, org.joda.time.Instant timestamp, KeyT key) {
      runner.onWindowExpiration(window, timestamp, key);
    }

    @Override
    public DoFn<Object, Object> getFn() {
      return placeholder;
    }
  }

  /** The DoFn Beam's operator is constructed with; the stage's runner replaces its runner in {@code open}. */
  private static final class Placeholder extends DoFn<Object, Object> {
    private static final long serialVersionUID = 1L;

    @ProcessElement
    public void process() {
      throw new IllegalStateException("the placeholder of a stage run in the runner is never called");
    }
  }
}
