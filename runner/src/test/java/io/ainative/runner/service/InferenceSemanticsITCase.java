package io.ainative.runner.service;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import io.ainative.harness.testing.FloatArrayCoder;
import io.ainative.harness.testing.IdentityModel;
import io.ainative.multimodal.store.FileSystemObjectStore;
import io.ainative.multimodal.store.OffloadPolicy;
import io.ainative.multimodal.store.Payload;
import io.ainative.multimodal.store.PayloadCoder;
import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import io.ainative.runner.TestAiNativeFlinkRunner;
import io.ainative.transforms.InferenceFailure;
import io.ainative.transforms.InferenceOptions.Ordering;
import io.ainative.transforms.InferenceResult;
import io.ainative.transforms.InferenceStep;
import io.ainative.transforms.ModelSpec;
import io.ainative.transforms.RetryPolicy;
import io.ainative.transforms.RunInference;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.DoubleCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.transforms.windowing.FixedWindows;
import org.apache.beam.sdk.transforms.windowing.IntervalWindow;
import org.apache.beam.sdk.transforms.windowing.PaneInfo;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TimestampedValue;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Duration;
import org.joda.time.Instant;
import org.junit.BeforeClass;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * What RunInference promises about the elements that pass through it, when the runner serves it
 * from RpcOperators: each result keeps its element's timestamp,
 * window, pane and key; ordered mode keeps the order per key; unordered mode loses nothing; empty,
 * single, very large and null elements; and the client inside a windowed, keyed streaming pipeline
 * with a GroupByKey after it, which only sees complete windows if the client holds the watermark
 * back correctly. The model is the identity (floats in, the same floats out), so every result is
 * checked against its own input. Every test runs on the embedded cluster with two instances.
 */
public class InferenceSemanticsITCase {
  private static final int WIDTH = 4;

  private static Path identity;

  @BeforeClass
  public static void saveModel() {
    identity = IdentityModel.saved(Path.of("target/test-models"));
  }

  /** TestPipeline options on the embedded cluster, parallelism 2 (also used by other rpc tests). */
  static AiNativeFlinkPipelineOptions embeddedOptions() {
    AiNativeFlinkPipelineOptions options = PipelineOptionsFactory.create().as(AiNativeFlinkPipelineOptions.class);
    options.setRunner(TestAiNativeFlinkRunner.class);
    options.setFlinkMaster("[local]");
    options.setParallelism(2);
    return options;
  }

  private static TestPipeline pipeline(boolean streaming) {
    AiNativeFlinkPipelineOptions options = embeddedOptions();
    options.setStreaming(streaming);
    return TestPipeline.fromOptions(options).enableAbandonedNodeEnforcement(false);
  }

  /** Identity with per-element processing: a null element fails in pre-processing, alone. */
  private static ModelSpec<float[], float[]> perElementIdentity() {
    return perElementIdentity(v -> v == null ? "a null element has no pixels" : null);
  }

  /**
   * Identity with per-element processing: an element for which {@code rejection} names a reason
   * fails in pre-processing with that message, alone.
   */
  private static ModelSpec<float[], float[]> perElementIdentity(SerializableFunction<float[], String> rejection) {
    return ModelSpec.<float[], float[]>builder()
        .setModelUri(identity.toString())
        .optModelName(IdentityModel.MODEL_NAME)
        .optBlock(IdentityModel::newBlock)
        .setProcessing(
            (manager, v) -> {
              String reason = rejection.apply(v);
              if (reason != null) {
                throw new IllegalArgumentException(reason);
              }
              return new NDList(manager.create(v, new Shape(v.length)));
            },
            output -> output.singletonOrThrow().toFloatArray())
        .build();
  }

  static float[] vector(float first) {
    float[] v = new float[WIDTH];
    Arrays.fill(v, first);
    return v;
  }

  /** "key@timestamp in window, pane timing: value" for a keyed result, checked against its input. */
  static final class Describe extends DoFn<KV<String, InferenceResult<float[], float[]>>, String> {
    @ProcessElement
    public void process(
        @Element KV<String, InferenceResult<float[], float[]>> result,
        @Timestamp Instant timestamp,
        BoundedWindow window,
        PaneInfo pane,
        OutputReceiver<String> out) {
      if (!Arrays.equals(result.getValue().getInput(), result.getValue().getOutput())) {
        throw new AssertionError("the identity changed " + Arrays.toString(result.getValue().getInput()));
      }
      IntervalWindow w = (IntervalWindow) window;
      out.output(
          result.getKey()
              + "@" + timestamp.getMillis()
              + " in [" + w.start().getMillis() + "," + w.end().getMillis() + ")"
              + " pane " + pane.getTiming() + (pane.isFirst() ? " first" : "") + (pane.isLast() ? " last" : "")
              + ": " + result.getValue().getOutput()[0]);
    }
  }

  /** Sums a window's vectors per key: a GroupByKey's result, with its ON_TIME pane. */
  static final class Sum extends DoFn<KV<String, Iterable<float[]>>, KV<String, float[]>> {
    @ProcessElement
    public void process(@Element KV<String, Iterable<float[]>> group, OutputReceiver<KV<String, float[]>> out) {
      float[] sum = new float[WIDTH];
      for (float[] v : group.getValue()) {
        for (int i = 0; i < WIDTH; i++) {
          sum[i] += v[i];
        }
      }
      out.output(KV.of(group.getKey(), sum));
    }
  }

  @Test
  public void keyedResults_keepTheirElementsTimestampWindowPaneAndKey() {
    TestPipeline p = pipeline(false);
    List<TimestampedValue<KV<String, float[]>>> inputs = new ArrayList<>();
    // Keys a and b over three 10 s windows; the value is 1 per element, so a window's sum counts them.
    for (int i = 0; i < 30; i++) {
      inputs.add(TimestampedValue.of(KV.of(i % 3 == 0 ? "a" : "b", vector(1f)), new Instant(i * 1000L)));
    }
    PCollection<String> described =
        p.apply(Create.timestamped(inputs).withCoder(KvCoder.of(StringUtf8Coder.of(), FloatArrayCoder.of())))
            .apply(Window.into(FixedWindows.of(Duration.standardSeconds(10))))
            .apply(GroupByKey.create())
            .apply(ParDo.of(new Sum()))
            .apply(
                RunInference.<String, float[], float[]>keyed(IdentityModel.spec(identity, WIDTH))
                    .withOutputCoder(FloatArrayCoder.of())
                    .withInstances(2)
                    .withBatchSize(1, 2))
            .apply(ParDo.of(new Describe()));

    // After a GroupByKey each sum is stamped with its window's end minus 1 ms, in an ON_TIME pane
    // that is the window's first and last.
    List<String> expected = new ArrayList<>();
    for (int start = 0; start < 30_000; start += 10_000) {
      String window = " in [" + start + "," + (start + 10_000) + ") pane ON_TIME first last: ";
      expected.add("a@" + (start + 9_999) + window + (start == 0 ? 4.0f : 3.0f));
      expected.add("b@" + (start + 9_999) + window + (start == 0 ? 6.0f : 7.0f));
    }
    PAssert.that(described).containsInAnyOrder(expected);
    p.run();
  }

  /** Gives each element the next number of its key, in the order the key's elements arrive. */
  static final class Number extends DoFn<KV<Integer, Integer>, KV<Integer, float[]>> {
    @StateId("next")
    private final StateSpec<ValueState<Integer>> next = StateSpecs.value(VarIntCoder.of());

    @ProcessElement
    public void process(@Element KV<Integer, Integer> element, @StateId("next") ValueState<Integer> next, OutputReceiver<KV<Integer, float[]>> out) {
      int n = next.read() == null ? 0 : next.read();
      next.write(n + 1);
      out.output(KV.of(element.getKey(), vector(n)));
    }
  }

  /** Emits "key: n after m" for every result of a key that arrives after a higher number. */
  static final class OutOfOrder extends DoFn<KV<Integer, float[]>, String> {
    @StateId("last")
    private final StateSpec<ValueState<Integer>> last = StateSpecs.value(VarIntCoder.of());

    @ProcessElement
    public void process(@Element KV<Integer, float[]> result, @StateId("last") ValueState<Integer> last, OutputReceiver<String> out) {
      int n = (int) result.getValue()[0];
      Integer before = last.read();
      if (before != null && n != before + 1) {
        out.output(result.getKey() + ": " + n + " after " + before);
      }
      last.write(n);
    }
  }

  /** The model's output for a keyed result. */
  static final class Output extends DoFn<KV<Integer, InferenceResult<float[], float[]>>, KV<Integer, float[]>> {
    @ProcessElement
    public void process(@Element KV<Integer, InferenceResult<float[], float[]>> result, OutputReceiver<KV<Integer, float[]>> out) {
      out.output(KV.of(result.getKey(), result.getValue().getOutput()));
    }
  }

  private static void orderCheck(Ordering ordering) {
    TestPipeline p = pipeline(false);
    List<KV<Integer, Integer>> inputs = new ArrayList<>();
    for (int i = 0; i < 1200; i++) {
      inputs.add(KV.of(i % 6, i));
    }
    // Numbering per key (keyed state), then the client on the same subtask (a forward edge), then a
    // keyed check: each hop keeps a key's order, so a gap or a step back can only come from the
    // client. Batches of at most 3 over two instances complete out of order, so a client that
    // emitted by completion would reorder (checked: the order check fails in UNORDERED mode).
    PCollection<KV<Integer, float[]>> results =
        p.apply(Create.of(inputs))
            .apply(ParDo.of(new Number()))
            .setCoder(KvCoder.of(VarIntCoder.of(), FloatArrayCoder.of()))
            .apply(
                RunInference.<Integer, float[], float[]>keyed(IdentityModel.spec(identity, WIDTH))
                    .withOutputCoder(FloatArrayCoder.of())
                    .withInstances(2)
                    .withBatchSize(1, 3)
                    .withOrdering(ordering))
            .apply(ParDo.of(new Output()))
            .setCoder(KvCoder.of(VarIntCoder.of(), FloatArrayCoder.of()));
    if (ordering == Ordering.ORDERED) {
      PAssert.that(results.apply(ParDo.of(new OutOfOrder()))).empty();
    }
    // Nothing lost, nothing twice: every key has the numbers 0..199, each once.
    List<KV<Integer, Integer>> expected = new ArrayList<>();
    for (int key = 0; key < 6; key++) {
      for (int n = 0; n < 200; n++) {
        expected.add(KV.of(key, n));
      }
    }
    PAssert.that(
            results.apply(
                MapElements.into(TypeDescriptors.kvs(TypeDescriptors.integers(), TypeDescriptors.integers()))
                    .via((KV<Integer, float[]> r) -> KV.of(r.getKey(), (int) r.getValue()[0]))))
        .containsInAnyOrder(expected);
    p.run();
  }

  @Test
  public void orderedMode_keepsTheOrderOfEachKey() {
    orderCheck(Ordering.ORDERED);
  }

  @Test
  public void unorderedMode_losesNothing_andDuplicatesNothing() {
    orderCheck(Ordering.UNORDERED);
  }

  @Test
  public void emptyInput_finishes_withNoResults() {
    TestPipeline p = pipeline(false);
    PCollection<InferenceResult<float[], float[]>> results =
        p.apply(Create.empty(FloatArrayCoder.of()))
            .apply(RunInference.of(IdentityModel.spec(identity, WIDTH)).withOutputCoder(FloatArrayCoder.of()).withInstances(2));
    PAssert.that(results.apply(Count.globally())).containsInAnyOrder(0L);
    assertThat(p.run().getState(), is(PipelineResult.State.DONE));
  }

  @Test
  public void singleElement_getsItsResult() {
    TestPipeline p = pipeline(false);
    PCollection<InferenceResult<float[], float[]>> results =
        p.apply(Create.of(vector(7f)).withCoder(FloatArrayCoder.of()))
            .apply(
                RunInference.of(IdentityModel.spec(identity, WIDTH))
                    .withOutputCoder(FloatArrayCoder.of())
                    .withInstances(2)
                    // a batch that never fills: the element must leave at the batching delay or at the end
                    .withBatchSize(1, 64));
    PAssert.that(results.apply(MapElements.into(TypeDescriptors.strings()).via(r -> Arrays.toString(r.getOutput()))))
        .containsInAnyOrder(Arrays.toString(vector(7f)));
    p.run();
  }

  @Test
  public void veryLargeElements_travelWhole() {
    // 8 MiB per element (2 Mi floats), two per batch: above gRPC's default 4 MiB message.
    int floats = 2 << 20;
    List<float[]> inputs = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      float[] v = new float[floats];
      for (int j = 0; j < floats; j += 4096) {
        v[j] = i + j;
      }
      v[floats - 1] = -i;
      inputs.add(v);
    }
    TestPipeline p = pipeline(false);
    PCollection<InferenceResult<float[], float[]>> results =
        p.apply(Create.of(inputs).withCoder(FloatArrayCoder.of()))
            .apply(
                RunInference.of(IdentityModel.spec(identity, floats))
                    .withOutputCoder(FloatArrayCoder.of())
                    .withInstances(2)
                    .withBatchSize(1, 2));
    PAssert.that(
            results.apply(
                MapElements.into(TypeDescriptors.booleans()).via(r -> Arrays.equals(r.getInput(), r.getOutput()) && r.getOutput().length == floats)))
        .containsInAnyOrder(true, true, true);
    p.run();
  }

  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  private static FileSystemObjectStore store(String root) throws IOException {
    return FileSystemObjectStore.builder().setRoot(root).setJobId("semantics").build();
  }

  @Test
  public void veryLargeElementsByReference_areResolvedNextToTheModel() throws Exception {
    // 8 MiB per element, above the offload threshold (1 MiB): the pipeline carries a reference of
    // a few dozen bytes, and the service's pre-processing reads the value from the object store.
    String root = tmp.newFolder("objects").toURI().toString();
    int floats = 2 << 20;
    Coder<Payload<float[]>> payloadCoder =
        PayloadCoder.of(FloatArrayCoder.of());
    List<Payload<float[]>> inputs = new ArrayList<>();
    List<Double> sums = new ArrayList<>();
    try (FileSystemObjectStore store = store(root)) {
      for (int i = 0; i < 3; i++) {
        float[] v = new float[floats];
        double sum = 0;
        for (int j = 0; j < floats; j += 1024) {
          v[j] = i + j % 7;
          sum += v[j];
        }
        Payload<float[]> p =
            OffloadPolicy.defaults().apply(v, FloatArrayCoder.of(), store);
        assertThat("element " + i + " travels by reference", p.isRef(), is(true));
        assertThat(
            "the reference is small",
            CoderUtils.encodeToByteArray(payloadCoder, p).length < 1024,
            is(true));
        inputs.add(p);
        sums.add(sum);
      }
    }
    ModelSpec<Payload<float[]>, Double> spec =
        ModelSpec.<Payload<float[]>, Double>builder()
            .setModelUri(identity.toString())
            .optModelName(IdentityModel.MODEL_NAME)
            .optBlock(IdentityModel::newBlock)
            .setProcessing(
                (manager, payload) -> {
                  try (FileSystemObjectStore store = store(root)) {
                    float[] v = payload.resolve(store, FloatArrayCoder.of());
                    return new NDList(manager.create(v, new Shape(v.length)));
                  }
                },
                output -> {
                  double sum = 0;
                  for (float f : output.singletonOrThrow().toFloatArray()) {
                    sum += f;
                  }
                  return sum;
                })
            .build();
    TestPipeline p = pipeline(false);
    PCollection<InferenceResult<Payload<float[]>, Double>> results =
        p.apply(Create.of(inputs).withCoder(payloadCoder))
            .apply(RunInference.of(spec).withOutputCoder(DoubleCoder.of()).withInstances(2).withBatchSize(1, 2));
    PAssert.that(results.apply(MapElements.into(TypeDescriptors.doubles()).via(r -> r.getOutput()))).containsInAnyOrder(sums);
    p.run();
  }

  @Test
  public void nullElement_goesToTheFailureOutputAtPreProcess_andTheOthersSucceed() {
    TestPipeline p = pipeline(false);
    List<float[]> inputs = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      inputs.add(i == 7 ? null : vector(i));
    }
    WithFailures.Result<PCollection<InferenceResult<float[], float[]>>, InferenceFailure<float[]>> result =
        p.apply(Create.of(inputs).withCoder(NullableCoder.of(FloatArrayCoder.of())))
            .apply(
                RunInference.of(perElementIdentity())
                    .withOutputCoder(FloatArrayCoder.of())
                    .withInstances(2)
                    .withBatchSize(1, 8)
                    .withRetryPolicy(RetryPolicy.noRetries())
                    .withFailures());
    List<Float> expected = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      if (i != 7) {
        expected.add((float) i);
      }
    }
    PAssert.that(result.output().apply(MapElements.into(TypeDescriptors.floats()).via(r -> r.getOutput()[0])))
        .containsInAnyOrder(expected);
    PAssert.that(
            result.failures()
                .apply(
                    MapElements.into(TypeDescriptors.strings())
                        .via(f -> (f.getElement() == null ? "null" : "not null") + " at " + f.getStep() + ": " + f.getErrorMessage())))
        .containsInAnyOrder("null at " + InferenceStep.PRE_PROCESS + ": a null element has no pixels");
    p.run();
  }

  /**
   * The input coder here is one the runner does not know, so the client sends the runner's bytes of
   * each input as they are and builds the results from them (WireBytes); a failed element is
   * decoded for the failure output, and must arrive whole.
   */
  @Test
  public void failedElement_ofAnInputSentAsItsBytes_reachesTheFailureOutputDecoded() {
    TestPipeline p = pipeline(false);
    List<float[]> inputs = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      inputs.add(vector(i == 5 ? -5f : i));
    }
    ModelSpec<float[], float[]> refusesNegatives = perElementIdentity(v -> v[0] < 0 ? "a negative pixel " + v[0] : null);
    WithFailures.Result<PCollection<InferenceResult<float[], float[]>>, InferenceFailure<float[]>> result =
        p.apply(Create.of(inputs).withCoder(FloatArrayCoder.of()))
            .apply(
                RunInference.of(refusesNegatives)
                    .withOutputCoder(FloatArrayCoder.of())
                    .withInstances(2)
                    .withBatchSize(1, 8)
                    .withRetryPolicy(RetryPolicy.noRetries())
                    .withFailures());
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      if (i != 5) {
        expected.add(i + " -> " + i + " of " + WIDTH);
      }
    }
    PAssert.that(
            result.output()
                .apply(
                    MapElements.into(TypeDescriptors.strings())
                        .via(r -> (int) r.getInput()[0] + " -> " + (int) r.getOutput()[0] + " of " + r.getInput().length)))
        .containsInAnyOrder(expected);
    PAssert.that(
            result.failures()
                .apply(
                    MapElements.into(TypeDescriptors.strings())
                        .via(f -> f.getElement()[0] + " x" + f.getElement().length + " at " + f.getStep() + ": " + f.getErrorMessage())))
        .containsInAnyOrder("-5.0 x" + WIDTH + " at " + InferenceStep.PRE_PROCESS + ": a negative pixel -5.0");
    p.run();
  }

  @Test
  public void windowedKeyedStreaming_withAGroupByKeyAfter_seesEveryResultInItsWindow() {
    TestPipeline p = pipeline(true);
    Instant base = new Instant(0);
    TestStream.Builder<KV<String, float[]>> stream =
        TestStream.create(KvCoder.of(StringUtf8Coder.of(), FloatArrayCoder.of())).advanceWatermarkTo(base);
    // Two one-minute windows, 40 elements each, and the watermark passes each window right after
    // its elements: the GroupByKey closes a window when the watermark passes it, so a client that
    // let the watermark overtake its in-flight elements would drop them as late data.
    for (int minute = 0; minute < 2; minute++) {
      List<TimestampedValue<KV<String, float[]>>> batch = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        batch.add(TimestampedValue.of(KV.of(i % 2 == 0 ? "even" : "odd", vector(1f)), base.plus(Duration.standardMinutes(minute)).plus(i * 1000L)));
      }
      stream = stream.addElements(batch.get(0), batch.subList(1, batch.size()).toArray(new TimestampedValue[0]));
      stream = stream.advanceWatermarkTo(base.plus(Duration.standardMinutes(minute + 1)));
    }
    PCollection<KV<String, Long>> counts =
        p.apply(stream.advanceWatermarkToInfinity())
            .apply(Window.into(FixedWindows.of(Duration.standardMinutes(1))))
            .apply(
                RunInference.<String, float[], float[]>keyed(IdentityModel.spec(identity, WIDTH))
                    .withOutputCoder(FloatArrayCoder.of())
                    .withInstances(2)
                    .withBatchSize(1, 4))
            .apply(Count.perKey());
    IntervalWindow first = new IntervalWindow(base, Duration.standardMinutes(1));
    IntervalWindow second = new IntervalWindow(base.plus(Duration.standardMinutes(1)), Duration.standardMinutes(1));
    PAssert.that(counts).inOnTimePane(first).containsInAnyOrder(KV.of("even", 20L), KV.of("odd", 20L));
    PAssert.that(counts).inOnTimePane(second).containsInAnyOrder(KV.of("even", 20L), KV.of("odd", 20L));
    p.run();
  }
}
