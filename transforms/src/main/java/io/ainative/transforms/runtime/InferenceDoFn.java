package io.ainative.transforms.runtime;

import io.ainative.transforms.InferenceFailedException;
import io.ainative.transforms.InferenceFailure;
import io.ainative.transforms.InferenceMetrics;
import io.ainative.transforms.InferenceOptions;
import io.ainative.transforms.ModelSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Distribution;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.values.TupleTag;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * The inline expansion of RunInference: buffers elements per window within a bundle, runs a batch
 * when it reaches the maximum size (or its oldest element has waited the maximum batching delay
 * when the next one arrives), and runs what is left when the bundle finishes. Runs on any Beam
 * runner.
 *
 * <p>The model is loaded once per JVM per model copy ({@link SharedModels}) in {@code @Setup} and
 * shared by every instance of this DoFn; each instance has its own {@link InferenceSession}, so
 * the threads of a runner call the model in parallel without locking.
 *
 * <p>Each result keeps its input's timestamp and window. A batch flushed from
 * {@code @ProcessElement} holds only elements of the current element's window but may hold
 * earlier timestamps; that is why the allowed timestamp skew is unbounded. Elements are buffered
 * only within a bundle, and runners hold the watermark until a bundle finishes, so no result is
 * late because of the buffering.
 */
@Internal
public final class InferenceDoFn<ElementT, InputT, OutputT, ResultT> extends DoFn<ElementT, ResultT> {
  private static final long serialVersionUID = 1L;
  private static final int MAX_ELEMENT_TEXT = 200;

  private final ModelSpec<InputT, OutputT> spec;
  private final InferenceOptions options;
  private final ElementAdapter<ElementT, InputT, OutputT, ResultT> adapter;
  private final TupleTag<ResultT> mainTag;
  private final @Nullable TupleTag<InferenceFailure<ElementT>> failureTag;
  private final String metricsNamespace;

  private transient SharedModels.Handle<InputT, OutputT> handle;
  private transient InferenceSession<InputT, OutputT> session;
  private transient boolean loadMetricsPending;
  private transient Map<BoundedWindow, List<Buffered<ElementT, InputT>>> buffers;
  private transient Counter numInferences;
  private transient Counter failedBatches;
  private transient Distribution batchSize;
  private transient Distribution batchLatencyMicros;

  public InferenceDoFn(
      ModelSpec<InputT, OutputT> spec,
      InferenceOptions options,
      ElementAdapter<ElementT, InputT, OutputT, ResultT> adapter,
      TupleTag<ResultT> mainTag,
      @Nullable TupleTag<InferenceFailure<ElementT>> failureTag,
      String metricsNamespace) {
    this.spec = spec;
    this.options = options;
    this.adapter = adapter;
    this.mainTag = mainTag;
    this.failureTag = failureTag;
    this.metricsNamespace = metricsNamespace;
  }

  @Setup
  public void setup() throws Exception {
    numInferences = Metrics.counter(metricsNamespace, InferenceMetrics.NUM_INFERENCES);
    failedBatches = Metrics.counter(metricsNamespace, InferenceMetrics.FAILED_BATCHES_COUNTER);
    batchSize = Metrics.distribution(metricsNamespace, InferenceMetrics.INFERENCE_REQUEST_BATCH_SIZE);
    batchLatencyMicros =
        Metrics.distribution(metricsNamespace, InferenceMetrics.INFERENCE_BATCH_LATENCY_MICRO_SECS);
    int copy = SharedModels.nextCopyIndex(spec, options.modelCopies());
    handle = SharedModels.acquire(spec, copy);
    loadMetricsPending = handle.loadedHere();
    session = handle.model().newSession(this::onModelCall, options.retryPolicy());
  }

  private void onModelCall(int size, long micros, boolean succeeded) {
    if (succeeded) {
      numInferences.inc(size);
      batchSize.update(size);
      batchLatencyMicros.update(micros);
    } else {
      failedBatches.inc();
    }
  }

  @StartBundle
  public void startBundle() {
    buffers = new LinkedHashMap<>();
    if (loadMetricsPending) {
      // metrics are only collected inside bundles, so the load is reported by the first one
      Metrics.distribution(metricsNamespace, InferenceMetrics.LOAD_MODEL_LATENCY_MILLI_SECS)
          .update(handle.model().loadMillis());
      Metrics.distribution(metricsNamespace, InferenceMetrics.MODEL_BYTE_SIZE)
          .update(handle.model().parameterBytes());
      loadMetricsPending = false;
    }
  }

  @ProcessElement
  public void processElement(
      @Element ElementT element,
      @Timestamp Instant timestamp,
      BoundedWindow window,
      MultiOutputReceiver out) {
    List<Buffered<ElementT, InputT>> buffer =
        buffers.computeIfAbsent(window, w -> new ArrayList<>());
    long now = System.nanoTime();
    buffer.add(new Buffered<>(element, adapter.input(element), timestamp, window, now));
    boolean full = buffer.size() >= options.maxBatchSize();
    boolean waitedEnough =
        now - buffer.get(0).arrivalNanos >= options.maxBatchingDelay().getMillis() * 1_000_000L;
    if (full || waitedEnough) {
      buffers.remove(window);
      run(
          buffer,
          new Emitter<ElementT, ResultT>() {
            @Override
            public void main(ResultT value, Instant ts, BoundedWindow w) {
              out.get(mainTag).outputWithTimestamp(value, ts);
            }

            @Override
            public void failure(InferenceFailure<ElementT> value, Instant ts, BoundedWindow w) {
              out.get(failureTag).outputWithTimestamp(value, ts);
            }
          });
    }
  }

  @FinishBundle
  public void finishBundle(FinishBundleContext context) {
    Emitter<ElementT, ResultT> emitter =
        new Emitter<ElementT, ResultT>() {
          @Override
          public void main(ResultT value, Instant ts, BoundedWindow w) {
            context.output(mainTag, value, ts, w);
          }

          @Override
          public void failure(InferenceFailure<ElementT> value, Instant ts, BoundedWindow w) {
            context.output(failureTag, value, ts, w);
          }
        };
    for (List<Buffered<ElementT, InputT>> buffer : buffers.values()) {
      run(buffer, emitter);
    }
    buffers.clear();
  }

  private void run(List<Buffered<ElementT, InputT>> buffer, Emitter<ElementT, ResultT> emitter) {
    List<InputT> inputs = new ArrayList<>(buffer.size());
    for (Buffered<ElementT, InputT> b : buffer) {
      inputs.add(b.input);
    }
    List<Outcome<OutputT>> outcomes = session.run(inputs);
    for (int i = 0; i < buffer.size(); i++) {
      Buffered<ElementT, InputT> b = buffer.get(i);
      Outcome<OutputT> outcome = outcomes.get(i);
      if (outcome.isSuccess()) {
        emitter.main(adapter.result(b.element, outcome.output()), b.timestamp, b.window);
      } else if (failureTag != null) {
        emitter.failure(
            InferenceFailure.of(b.element, outcome.failedStep(), outcome.error()),
            b.timestamp,
            b.window);
      } else {
        throw new InferenceFailedException(
            outcome.failedStep(),
            "RunInference failed at step " + outcome.failedStep().label() + " for element "
                + describe(b.element) + " of model " + spec.modelUri()
                + " (use withFailures() to route failed elements to a failure output): "
                + outcome.error(),
            outcome.error());
      }
    }
  }

  private static String describe(Object element) {
    String text = String.valueOf(element);
    return text.length() <= MAX_ELEMENT_TEXT ? text : text.substring(0, MAX_ELEMENT_TEXT) + "...";
  }

  @Teardown
  public void teardown() {
    if (session != null) {
      session.close();
      session = null;
    }
    if (handle != null) {
      handle.close();
      handle = null;
    }
  }

  @Override
  @SuppressWarnings("deprecation") // the supported way to emit earlier timestamps of a batch
  public Duration getAllowedTimestampSkew() {
    return Duration.millis(Long.MAX_VALUE);
  }

  private interface Emitter<ElementT, ResultT> {
    void main(ResultT value, Instant timestamp, BoundedWindow window);

    void failure(InferenceFailure<ElementT> value, Instant timestamp, BoundedWindow window);
  }

  private static final class Buffered<ElementT, InputT> {
    final ElementT element;
    final InputT input;
    final Instant timestamp;
    final BoundedWindow window;
    final long arrivalNanos;

    Buffered(ElementT element, InputT input, Instant timestamp, BoundedWindow window, long nanos) {
      this.element = element;
      this.input = input;
      this.timestamp = timestamp;
      this.window = window;
      this.arrivalNanos = nanos;
    }
  }
}
