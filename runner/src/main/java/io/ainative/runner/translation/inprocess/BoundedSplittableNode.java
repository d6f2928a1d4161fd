package io.ainative.runner.translation.inprocess;

import java.io.IOException;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.runners.core.NullSideInputReader;
import org.apache.beam.runners.core.OutputAndTimeBoundedSplittableProcessElementInvoker;
import org.apache.beam.runners.core.OutputWindowedValue;
import org.apache.beam.runners.core.SplittableProcessElementInvoker;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.reflect.DoFnInvoker;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;
import org.apache.beam.sdk.transforms.splittabledofn.WatermarkEstimator;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.transforms.windowing.PaneInfo;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.beam.sdk.util.construction.ParDoTranslation;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.TupleTag;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * The process step of a bounded splittable DoFn ({@code
 * beam:transform:sdf_process_sized_element_and_restrictions:v1}): each element's restriction is
 * processed to its end in one call, with Beam's {@link
 * OutputAndTimeBoundedSplittableProcessElementInvoker} given no output or time bound, as a bounded
 * read would be in one bundle of the SDK harness. When the DoFn asks to resume (returns a
 * residual), the residual runs at once after the delay it asked for, until nothing is left.
 * {@link InProcessStages} admits only DoFns whose outputs are bounded and that have no bundle
 * methods.
 */
final class BoundedSplittableNode extends DoFnNode {

  /** Schedules nothing that runs: the invoker's time bound is never reached. */
  private static final ScheduledExecutorService NEVER =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "ainative-bounded-sdf");
            t.setDaemon(true);
            return t;
          });

  private final String name;
  private final SplittableProcessElementInvoker<Object, Object, Object, Object, Object> processor;

  @SuppressWarnings("unchecked")
  BoundedSplittableNode(RunnerApi.PTransform transform, PipelineOptions options, Map<String, StageNode.Receiver> outputs)
      throws IOException {
    this(transform, RunnerApi.ParDoPayload.parseFrom(transform.getSpec().getPayload()), options, outputs);
  }

  @SuppressWarnings("unchecked")
  private BoundedSplittableNode(
      RunnerApi.PTransform transform, RunnerApi.ParDoPayload payload, PipelineOptions options, Map<String, StageNode.Receiver> outputs)
      throws IOException {
    super((DoFn<Object, Object>) ParDoTranslation.getDoFn(payload), options);
    this.name = transform.getUniqueName();
    TupleTag<?> mainTag = ParDoTranslation.getMainOutputTag(payload);
    Map<String, StageNode.Receiver> byTag = new HashMap<>(outputs);
    StageNode.Receiver main = byTag.get(mainTag.getId());
    OutputWindowedValue<Object> output =
        new OutputWindowedValue<Object>() {
          @Override
          public void outputWindowedValue(Object value, Instant timestamp, Collection<? extends BoundedWindow> windows, PaneInfo pane) {
            main.accept(WindowedValue.of(value, timestamp, windows, pane));
          }

          @Override
          public <AdditionalOutputT> void outputWindowedValue(
              TupleTag<AdditionalOutputT> tag, AdditionalOutputT value, Instant timestamp,
              Collection<? extends BoundedWindow> windows, PaneInfo pane) {
            StageNode.Receiver receiver = byTag.get(tag.getId());
            if (receiver == null) {
              throw new IllegalArgumentException("'" + name + "' has no output " + tag.getId());
            }
            receiver.accept(WindowedValue.of(value, timestamp, windows, pane));
          }
        };
    this.processor =
        new OutputAndTimeBoundedSplittableProcessElementInvoker<>(
            fn, options, output, NullSideInputReader.empty(), NEVER, Integer.MAX_VALUE, Duration.standardDays(3650),
            () -> {
              throw new UnsupportedOperationException("'" + name + "' asked for a bundle finalizer");
            });
  }

  /** The element: {@code KV<KV<element, KV<restriction, watermark estimator state>>, size>}. */
  @Override
  @SuppressWarnings("unchecked")
  void accept(WindowedValue<Object> value) {
    KV<KV<Object, KV<Object, Object>>, Double> sized = (KV<KV<Object, KV<Object, Object>>, Double>) value.getValue();
    Object element = sized.getKey().getKey();
    for (WindowedValue<Object> one : value.explodeWindows()) {
      Object restriction = sized.getKey().getValue().getKey();
      Object estimatorState = sized.getKey().getValue().getValue();
      while (true) {
        SplittableProcessElementInvoker<Object, Object, Object, Object, Object>.Result result =
            process(element, restriction, estimatorState, one);
        if (result.getResidualRestriction() == null) {
          break;
        }
        // The DoFn asked to resume later: the rest of the restriction runs now, after the delay it asked for.
        long delay = result.getContinuation().resumeDelay().getMillis();
        if (delay > 0) {
          try {
            Thread.sleep(delay);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while '" + name + "' waited to resume", e);
          }
        }
        restriction = result.getResidualRestriction();
        estimatorState = result.getFutureWatermarkEstimatorState();
      }
    }
  }

  @SuppressWarnings("unchecked")
  private SplittableProcessElementInvoker<Object, Object, Object, Object, Object>.Result process(
      Object element, Object restriction, Object estimatorState, WindowedValue<Object> one) {
    BoundedWindow window = one.getWindows().iterator().next();
    DoFnInvoker.BaseArgumentProvider<Object, Object> arguments =
        new DoFnInvoker.BaseArgumentProvider<Object, Object>() {
          @Override
          public Object element(DoFn<Object, Object> doFn) {
            return element;
          }

          @Override
          public Object restriction() {
            return restriction;
          }

          @Override
          public Object watermarkEstimatorState() {
            return estimatorState;
          }

          @Override
          public Instant timestamp(DoFn<Object, Object> doFn) {
            return one.getTimestamp();
          }

          @Override
          public BoundedWindow window() {
            return window;
          }

          @Override
          public PaneInfo paneInfo(DoFn<Object, Object> doFn) {
            return one.getPane();
          }

          @Override
          public PipelineOptions pipelineOptions() {
            return options;
          }

          @Override
          public String getErrorContext() {
            return "the bounded splittable DoFn of '" + name + "'";
          }
        };
    RestrictionTracker<Object, Object> tracker = (RestrictionTracker<Object, Object>) invoker.invokeNewTracker(arguments);
    WatermarkEstimator<Object> estimator = (WatermarkEstimator<Object>) invoker.invokeNewWatermarkEstimator(arguments);
    return processor.invokeProcessElement(
        invoker, WindowedValue.of(element, one.getTimestamp(), window, one.getPane()), tracker, estimator, Collections.emptyMap());
  }
}
