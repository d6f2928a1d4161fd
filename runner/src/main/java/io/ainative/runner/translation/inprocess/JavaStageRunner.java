package io.ainative.runner.translation.inprocess;

import io.ainative.runner.translation.types.Transcoder;
import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.runners.core.DoFnRunner;
import org.apache.beam.runners.core.DoFnRunners;
import org.apache.beam.runners.core.NullSideInputReader;
import org.apache.beam.runners.core.StateInternals;
import org.apache.beam.runners.core.StepContext;
import org.apache.beam.runners.core.TimerInternals;
import org.apache.beam.runners.core.metrics.MetricsContainerImpl;
import org.apache.beam.runners.fnexecution.translation.PipelineTranslatorUtils;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.metrics.MetricsEnvironment;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.state.TimeDomain;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.transforms.windowing.WindowFn;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.beam.sdk.util.construction.PTransformTranslation;
import org.apache.beam.sdk.util.construction.ParDoTranslation;
import org.apache.beam.sdk.util.construction.RehydratedComponents;
import org.apache.beam.sdk.util.construction.WindowingStrategyTranslation;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.WindowingStrategy;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.joda.time.Instant;

/**
 * Runs one fused stage ({@link InProcessStages} says which) in the calling thread: a Beam {@code
 * SimpleDoFnRunner} per ParDo, window assignment and flatten, each element handed from a transform
 * to its consumers as the object it is, as the SDK harness hands it inside a bundle.
 *
 * <p>Elements arrive and leave in the runner's form of their PCollection (the coders it does not
 * know as bytes, see {@link Transcoder}) and are converted to and from the SDK's form at the
 * stage's edges only. User metrics are kept per transform, under the transform's id as the SDK
 * harness reports them. Not thread-safe: the operator's task thread calls it. {@link #setup} and
 * {@link #teardown} call the DoFns' {@code @Setup} and {@code @Teardown}.
 */
final class JavaStageRunner implements DoFnRunner<Object, Object> {

  /** Emits a stage output in the runner's form. */
  interface StageOutput {
    void emit(TupleTag<?> tag, WindowedValue<Object> value);
  }

  /** The metrics containers of the stage's transforms, by transform id. */
  interface MetricsContainers {
    MetricsContainerImpl forTransform(String transformId);

    /** Reports a transform's metrics to Flink's metric system (done at the end of each bundle). */
    void report(String transformId);
  }

  private final List<StageNode> nodes = new ArrayList<>();
  private final StageNode.Receiver input;
  private final Transcoder inputTranscoder;

  /**
   * @param outputTags the stage output each PCollection id is emitted as
   * @param metrics null when metrics are off
   */
  JavaStageRunner(
      RunnerApi.ExecutableStagePayload stage,
      PipelineOptions options,
      Map<String, TupleTag<?>> outputTags,
      StageOutput output,
      @Nullable MetricsContainers metrics) {
    RunnerApi.Components components = stage.getComponents();
    RehydratedComponents rehydrated = RehydratedComponents.forComponents(components);
    Map<String, Fanout> fanouts = new HashMap<>();
    for (String id : topologicalOrder(stage)) {
      RunnerApi.PTransform transform = components.getTransformsOrThrow(id);
      StageNode node = node(id, transform, components, rehydrated, options, fanouts, metrics);
      nodes.add(node);
      for (String in : transform.getInputsMap().values()) {
        fanouts.computeIfAbsent(in, k -> new Fanout()).receivers.add(node::accept);
      }
    }
    for (Map.Entry<String, TupleTag<?>> out : outputTags.entrySet()) {
      TupleTag<?> tag = out.getValue();
      Transcoder toRunner = Transcoder.of(Transcoder.sdkCoder(out.getKey(), components), runnerCoder(out.getKey(), components));
      fanouts.computeIfAbsent(out.getKey(), k -> new Fanout()).receivers.add(v -> output.emit(tag, toRunner(toRunner, v)));
    }
    this.input = fanouts.computeIfAbsent(stage.getInput(), k -> new Fanout()).simplest();
    this.inputTranscoder =
        Transcoder.of(runnerCoder(stage.getInput(), components), Transcoder.sdkCoder(stage.getInput(), components));
  }

  void setup() {
    for (StageNode node : nodes) {
      node.setup();
    }
  }

  void teardown() {
    RuntimeException failure = null;
    for (StageNode node : nodes) {
      try {
        node.teardown();
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  @Override
  public void startBundle() {
    for (StageNode node : nodes) {
      node.startBundle();
    }
  }

  @Override
  public void processElement(WindowedValue<Object> element) {
    WindowedValue<Object> sdk;
    try {
      sdk = inputTranscoder.apply(element);
    } catch (Exception e) {
      throw new IllegalStateException("An element of the stage's input cannot be decoded: " + e.getMessage(), e);
    }
    input.accept(sdk);
  }

  /** Finishes upstream transforms first, so what they emit reaches their consumers in the bundle. */
  @Override
  public void finishBundle() {
    for (StageNode node : nodes) {
      node.finishBundle();
    }
  }

  @Override
  public <KeyT> void onTimer(
      String timerId, String timerFamilyId, KeyT key, BoundedWindow window, Instant timestamp,
      Instant outputTimestamp, TimeDomain timeDomain) {
    throw new UnsupportedOperationException("A stage run in the runner has no timers");
  }

  @Override
  public <KeyT> void onWindowExpiration(BoundedWindow window, Instant timestamp, KeyT key) {
    throw new UnsupportedOperationException("A stage run in the runner has no @OnWindowExpiration");
  }

  @Override
  public DoFn<Object, Object> getFn() {
    throw new UnsupportedOperationException("A stage run in the runner has several DoFns");
  }

  private static WindowedValue<Object> toRunner(Transcoder transcoder, WindowedValue<Object> value) {
    try {
      return transcoder.apply(value);
    } catch (Exception e) {
      throw new IllegalStateException("A stage output cannot be encoded: " + e.getMessage(), e);
    }
  }

  private static StageNode node(
      String id,
      RunnerApi.PTransform transform,
      RunnerApi.Components components,
      RehydratedComponents rehydrated,
      PipelineOptions options,
      Map<String, Fanout> fanouts,
      @Nullable MetricsContainers metrics) {
    String urn = transform.getSpec().getUrn();
    Map<String, StageNode.Receiver> outputs = new HashMap<>();
    for (Map.Entry<String, String> out : transform.getOutputsMap().entrySet()) {
      Fanout fanout = fanouts.computeIfAbsent(out.getValue(), k -> new Fanout());
      outputs.put(out.getKey(), fanout::accept);
    }
    try {
      if (PTransformTranslation.FLATTEN_TRANSFORM_URN.equals(urn)) {
        return new PassThrough(outputs.values().iterator().next());
      }
      if (PTransformTranslation.SPLITTABLE_PROCESS_SIZED_ELEMENTS_AND_RESTRICTIONS_URN.equals(urn)) {
        return new BoundedSplittableNode(transform, options, outputs);
      }
      if (CombinePhases.URNS.contains(urn)) {
        return CombinePhases.of(transform, rehydrated, components, outputs.values().iterator().next());
      }
      if (PTransformTranslation.ASSIGN_WINDOWS_TRANSFORM_URN.equals(urn)) {
        RunnerApi.WindowIntoPayload payload = RunnerApi.WindowIntoPayload.parseFrom(transform.getSpec().getPayload());
        @SuppressWarnings("unchecked")
        WindowFn<Object, BoundedWindow> windowFn =
            (WindowFn<Object, BoundedWindow>) WindowingStrategyTranslation.windowFnFromProto(payload.getWindowFn());
        return new AssignWindows(windowFn, outputs.values().iterator().next());
      }
      return new ParDo(id, transform, components, rehydrated, options, outputs, metrics);
    } catch (IOException e) {
      throw new IllegalArgumentException("Transform '" + transform.getUniqueName() + "' (" + urn + ") cannot be read: " + e.getMessage(), e);
    }
  }

  /** The stage's transforms, each after the transforms whose outputs it reads. */
  static List<String> topologicalOrder(RunnerApi.ExecutableStagePayload stage) {
    RunnerApi.Components components = stage.getComponents();
    Map<String, String> producer = new HashMap<>();
    for (String id : stage.getTransformsList()) {
      for (String out : components.getTransformsOrThrow(id).getOutputsMap().values()) {
        producer.put(out, id);
      }
    }
    Map<String, Integer> waiting = new HashMap<>();
    Map<String, List<String>> consumers = new HashMap<>();
    Deque<String> ready = new ArrayDeque<>();
    for (String id : stage.getTransformsList()) {
      int upstream = 0;
      for (String in : components.getTransformsOrThrow(id).getInputsMap().values()) {
        String from = producer.get(in);
        if (from != null) {
          upstream++;
          consumers.computeIfAbsent(from, k -> new ArrayList<>()).add(id);
        }
      }
      waiting.put(id, upstream);
      if (upstream == 0) {
        ready.add(id);
      }
    }
    List<String> order = new ArrayList<>();
    while (!ready.isEmpty()) {
      String id = ready.poll();
      order.add(id);
      for (String next : consumers.getOrDefault(id, Collections.emptyList())) {
        if (waiting.merge(next, -1, Integer::sum) == 0) {
          ready.add(next);
        }
      }
    }
    if (order.size() != stage.getTransformsCount()) {
      throw new IllegalArgumentException("The transforms of stage " + stage.getTransformsList() + " form a cycle");
    }
    return order;
  }

  private static Coder<WindowedValue<Object>> runnerCoder(String pcollection, RunnerApi.Components components) {
    try {
      return PipelineTranslatorUtils.instantiateCoder(pcollection, components);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("The runner's coder of PCollection " + pcollection + " cannot be built", e);
    }
  }

  /** The receivers of one PCollection. */
  private static final class Fanout {
    final List<StageNode.Receiver> receivers = new ArrayList<>(2);

    void accept(WindowedValue<Object> value) {
      for (int i = 0; i < receivers.size(); i++) {
        receivers.get(i).accept(value);
      }
    }

    StageNode.Receiver simplest() {
      return receivers.size() == 1 ? receivers.get(0) : this::accept;
    }
  }

  private static final class PassThrough extends StageNode {
    private final StageNode.Receiver output;

    PassThrough(StageNode.Receiver output) {
      this.output = output;
    }

    @Override
    void accept(WindowedValue<Object> value) {
      output.accept(value);
    }
  }

  /** {@code Window.into}: each window of the element is given to the window function on its own. */
  private static final class AssignWindows extends StageNode {
    private final WindowFn<Object, BoundedWindow> windowFn;
    private final StageNode.Receiver output;

    AssignWindows(WindowFn<Object, BoundedWindow> windowFn, StageNode.Receiver output) {
      this.windowFn = windowFn;
      this.output = output;
    }

    @Override
    void accept(WindowedValue<Object> value) {
      for (WindowedValue<Object> one : value.explodeWindows()) {
        BoundedWindow window = one.getWindows().iterator().next();
        Collection<BoundedWindow> windows;
        try {
          windows =
              windowFn.assignWindows(
                  windowFn.new AssignContext() {
                    @Override
                    public Object element() {
                      return one.getValue();
                    }

                    @Override
                    public Instant timestamp() {
                      return one.getTimestamp();
                    }

                    @Override
                    public BoundedWindow window() {
                      return window;
                    }
                  });
        } catch (Exception e) {
          throw org.apache.beam.sdk.util.UserCodeException.wrap(e);
        }
        output.accept(WindowedValue.of(one.getValue(), one.getTimestamp(), windows, one.getPane()));
      }
    }
  }

  /** A Java ParDo, run by Beam's {@code SimpleDoFnRunner} with its user metrics in its own container. */
  private static final class ParDo extends DoFnNode {
    private final DoFnRunner<Object, Object> runner;
    private final String id;
    private final @Nullable MetricsContainers containers;
    private final @Nullable MetricsContainerImpl metrics;

    @SuppressWarnings({"unchecked", "rawtypes"})
    ParDo(
        String id,
        RunnerApi.PTransform transform,
        RunnerApi.Components components,
        RehydratedComponents rehydrated,
        PipelineOptions options,
        Map<String, StageNode.Receiver> outputs,
        @Nullable MetricsContainers containers)
        throws IOException {
      this(id, transform, RunnerApi.ParDoPayload.parseFrom(transform.getSpec().getPayload()), components, rehydrated, options, outputs,
          containers);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private ParDo(
        String id,
        RunnerApi.PTransform transform,
        RunnerApi.ParDoPayload payload,
        RunnerApi.Components components,
        RehydratedComponents rehydrated,
        PipelineOptions options,
        Map<String, StageNode.Receiver> outputs,
        @Nullable MetricsContainers containers)
        throws IOException {
      super((DoFn<Object, Object>) ParDoTranslation.getDoFn(payload), options);
      this.id = id;
      this.containers = containers;
      this.metrics = containers == null ? null : containers.forTransform(id);
      TupleTag<Object> mainTag = (TupleTag<Object>) ParDoTranslation.getMainOutputTag(payload);
      List<TupleTag<?>> additionalTags = new ArrayList<>();
      Map<TupleTag<?>, Coder<?>> outputCoders = new HashMap<>();
      Map<TupleTag<?>, StageNode.Receiver> receivers = new HashMap<>();
      for (Map.Entry<String, String> out : transform.getOutputsMap().entrySet()) {
        TupleTag<?> tag = new TupleTag<>(out.getKey());
        if (!tag.equals(mainTag)) {
          additionalTags.add(tag);
        }
        outputCoders.put(tag, coder(rehydrated, components, out.getValue()));
        receivers.put(tag, outputs.get(out.getKey()));
      }
      String mainInput = ParDoTranslation.getMainInputName(transform);
      String inputCollection = transform.getInputsOrThrow(mainInput);
      Coder<Object> inputCoder = (Coder<Object>) coder(rehydrated, components, inputCollection);
      WindowingStrategy<?, ?> windowing =
          rehydrated.getWindowingStrategy(components.getPcollectionsOrThrow(inputCollection).getWindowingStrategyId());
      this.runner =
          DoFnRunners.simpleRunner(
              options,
              fn,
              NullSideInputReader.empty(),
              new DoFnRunners.OutputManager() {
                @Override
                public <T> void output(TupleTag<T> tag, WindowedValue<T> output) {
                  StageNode.Receiver receiver = receivers.get(tag);
                  if (receiver == null) {
                    throw new IllegalArgumentException("'" + transform.getUniqueName() + "' has no output " + tag.getId());
                  }
                  receiver.accept((WindowedValue) output);
                }
              },
              mainTag,
              additionalTags,
              NO_STATE,
              inputCoder,
              outputCoders,
              windowing,
              ParDoTranslation.getSchemaInformation(payload),
              Collections.emptyMap());
    }

    private static Coder<?> coder(RehydratedComponents rehydrated, RunnerApi.Components components, String pcollection)
        throws IOException {
      return rehydrated.getCoder(components.getPcollectionsOrThrow(pcollection).getCoderId());
    }

    @Override
    void accept(WindowedValue<Object> value) {
      try (Closeable ignored = scope()) {
        runner.processElement(value);
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    void startBundle() {
      try (Closeable ignored = scope()) {
        runner.startBundle();
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    void finishBundle() {
      try (Closeable ignored = scope()) {
        runner.finishBundle();
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
      if (containers != null) {
        containers.report(id);
      }
    }

    private Closeable scope() {
      return metrics == null ? NOTHING : MetricsEnvironment.scopedMetricsContainer(metrics);
    }
  }

  private static final Closeable NOTHING = () -> {};

  /** The step context of a DoFn without state or timers. */
  private static final StepContext NO_STATE =
      new StepContext() {
        @Override
        public StateInternals stateInternals() {
          throw new UnsupportedOperationException("A stage run in the runner has no state");
        }

        @Override
        public TimerInternals timerInternals() {
          throw new UnsupportedOperationException("A stage run in the runner has no timers");
        }
      };
}
