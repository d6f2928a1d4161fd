package io.ainative.runner.translation.service;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.sameInstance;
import static org.junit.Assert.assertThrows;

import io.ainative.harness.stage.StageCalls;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.CrashingRunner;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.View;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.beam.sdk.util.construction.PipelineTranslation;
import org.apache.beam.sdk.util.construction.graph.GreedyPipelineFuser;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.apache.beam.vendor.grpc.v1p60p1.com.google.protobuf.ByteString;
import org.junit.Test;

/** The plan of served stages: which composites leave the data DAG, and which are refused and why. */
public class ServedStagesTest {

  /** Two maps, the kind of contents a served composite has. */
  private static final class TwoMaps extends PTransform<PCollection<Integer>, PCollection<String>> {
    @Override
    public PCollection<String> expand(PCollection<Integer> input) {
      return input
          .apply("Double", MapElements.into(TypeDescriptors.integers()).via((Integer x) -> 2 * x))
          .apply("Format", MapElements.into(TypeDescriptors.strings()).via((Integer x) -> "v" + x));
    }
  }

  /** A grouping inside: not servable. */
  private static final class Grouping extends PTransform<PCollection<Integer>, PCollection<String>> {
    @Override
    public PCollection<String> expand(PCollection<Integer> input) {
      return input
          .apply("Key", WithKeys.of(1))
          .apply("Group", GroupByKey.create())
          .apply("Format", MapElements.into(TypeDescriptors.strings()).via(kv -> "g" + kv.getKey()));
    }
  }

  /** A side input inside: not servable. */
  private static final class WithSide extends PTransform<PCollection<Integer>, PCollection<String>> {
    private final PCollectionView<Integer> side;

    WithSide(Pipeline p) {
      this.side = p.apply("Side", Create.of(7)).apply("AsSingleton", View.asSingleton());
    }

    @Override
    public PCollection<String> expand(PCollection<Integer> input) {
      return input.apply(
          "UseSide",
          org.apache.beam.sdk.transforms.ParDo.of(
                  new org.apache.beam.sdk.transforms.DoFn<Integer, String>() {
                    @ProcessElement
                    public void process(ProcessContext c) {
                      c.output(c.element() + ":" + c.sideInput(side));
                    }
                  })
              .withSideInputs(side));
    }
  }

  /**
   * The pipeline with {@code composite} as "Served", marked with {@code settings} unless null. The
   * mark is put on the proto, as the Python SDK sends it: Beam Java writes annotations only for
   * transforms with a URN of their own.
   */
  private static RunnerApi.Pipeline proto(PTransform<PCollection<Integer>, PCollection<String>> composite, String settings) {
    return proto(p -> composite, settings);
  }

  private static RunnerApi.Pipeline proto(
      java.util.function.Function<Pipeline, PTransform<PCollection<Integer>, PCollection<String>>> composite, String settings) {
    org.apache.beam.sdk.options.PipelineOptions options = PipelineOptionsFactory.create();
    // Only built and translated, never run.
    options.setRunner(CrashingRunner.class);
    Pipeline p = Pipeline.create(options);
    p.apply("Inputs", Create.of(1, 2, 3).withCoder(VarIntCoder.of()))
        .apply("Served", composite.apply(p))
        .apply("After", MapElements.into(TypeDescriptors.strings()).via((String s) -> s + "!"));
    RunnerApi.Pipeline proto = PipelineTranslation.toProto(p);
    if (settings == null) {
      return proto;
    }
    Map.Entry<String, RunnerApi.PTransform> served = named(proto, "Served");
    RunnerApi.Pipeline.Builder marked = proto.toBuilder();
    marked.getComponentsBuilder().putTransforms(
        served.getKey(),
        served.getValue().toBuilder().putAnnotations(ServedStages.ANNOTATION, ByteString.copyFromUtf8(settings)).build());
    return marked.build();
  }

  private static Map.Entry<String, RunnerApi.PTransform> named(RunnerApi.Pipeline pipeline, String uniqueName) {
    return pipeline.getComponents().getTransformsMap().entrySet().stream()
        .filter(e -> e.getValue().getUniqueName().equals(uniqueName))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no transform " + uniqueName));
  }

  @Test
  public void markedComposite_becomesOneServedStage_withItsLeavesInThePayload() throws Exception {
    RunnerApi.Pipeline original = proto(new TwoMaps(), "instances=3;max_batch_size=8");
    RunnerApi.Pipeline rewritten = ServedStages.rewrite(original);

    RunnerApi.PTransform served = named(rewritten, "Served").getValue();
    assertThat(served.getSpec().getUrn(), equalTo(ServedStages.URN));
    assertThat(served.getSubtransformsCount(), equalTo(0));
    assertThat(served.getEnvironmentId(), equalTo(""));
    assertThat(ServedStages.settingsOf(served).instances(), equalTo(3));
    assertThat(ServedStages.settingsOf(served).maxBatchSize(), equalTo(8));
    RunnerApi.ExecutableStagePayload stage = RunnerApi.ExecutableStagePayload.parseFrom(served.getSpec().getPayload());
    List<String> inside = new ArrayList<>();
    for (String id : stage.getTransformsList()) {
      inside.add(stage.getComponents().getTransformsOrThrow(id).getUniqueName());
    }
    assertThat(inside, containsInAnyOrder("Served/Double/Map/ParMultiDo(Anonymous)", "Served/Format/Map/ParMultiDo(Anonymous)"));
    assertThat(stage.getInput(), equalTo(served.getInputsMap().values().iterator().next()));
    assertThat(stage.getOutputsList(), equalTo(List.copyOf(served.getOutputsMap().values())));
    for (RunnerApi.PTransform t : rewritten.getComponents().getTransformsMap().values()) {
      assertThat("left the pipeline: " + t.getUniqueName(), t.getUniqueName().startsWith("Served/"), equalTo(false));
    }
    // The fuser takes the rest as before and leaves the served stage alone.
    RunnerApi.Pipeline fused = GreedyPipelineFuser.fuse(rewritten).toPipeline();
    assertThat(named(fused, "Served").getValue().getSpec().getUrn(), equalTo(ServedStages.URN));
    assertThat(ServedStages.slotsNeeded(fused), equalTo(3));
  }

  /** {@code pipeline} with the accelerator hint on the environment of every transform {@code hinted} accepts. */
  private static RunnerApi.Pipeline withAcceleratorHint(RunnerApi.Pipeline pipeline, java.util.function.Predicate<RunnerApi.PTransform> hinted) {
    RunnerApi.Pipeline.Builder b = pipeline.toBuilder();
    RunnerApi.Components.Builder c = b.getComponentsBuilder();
    pipeline.getComponents().getTransformsMap().forEach((id, t) -> {
      if (hinted.test(t) && !t.getEnvironmentId().isEmpty()) {
        String hintedEnv = t.getEnvironmentId() + "-with-accelerator";
        c.putEnvironments(
            hintedEnv,
            pipeline.getComponents().getEnvironmentsOrThrow(t.getEnvironmentId()).toBuilder()
                .putResourceHints(ServedStages.ACCELERATOR_HINT, ByteString.copyFromUtf8("type:nvidia-l4;count:1"))
                .build());
        c.putTransforms(id, t.toBuilder().setEnvironmentId(hintedEnv).build());
      }
    });
    return b.build();
  }

  @Test
  public void acceleratorHint_onAComposite_servesIt_withDefaultSettings() throws Exception {
    RunnerApi.Pipeline hinted = withAcceleratorHint(proto(new TwoMaps(), null), t -> t.getUniqueName().startsWith("Served"));
    RunnerApi.Pipeline rewritten = ServedStages.rewrite(hinted);
    RunnerApi.PTransform served = named(rewritten, "Served").getValue();
    assertThat(served.getSpec().getUrn(), equalTo(ServedStages.URN));
    assertThat(ServedStages.settingsOf(served).instances(), equalTo(1));
    RunnerApi.ExecutableStagePayload stage = RunnerApi.ExecutableStagePayload.parseFrom(served.getSpec().getPayload());
    assertThat(stage.getEnvironment().getResourceHintsMap().containsKey(ServedStages.ACCELERATOR_HINT), equalTo(true));
    assertThat(stage.getTransformsCount(), equalTo(2));
  }

  @Test
  public void acceleratorHint_onTheWholePipeline_servesNothing() {
    RunnerApi.Pipeline hinted = withAcceleratorHint(proto(new TwoMaps(), null), t -> true);
    assertThat(ServedStages.rewrite(hinted), sameInstance(hinted));
  }

  @Test
  public void unmarkedPipeline_isReturnedUnchanged() {
    RunnerApi.Pipeline original = proto(new TwoMaps(), null);
    assertThat(ServedStages.rewrite(original), sameInstance(original));
    assertThat(ServedStages.slotsNeeded(original), equalTo(0));
  }

  @Test
  public void groupByKeyInside_isRefused_namingIt() {
    UnsupportedOperationException e =
        assertThrows(UnsupportedOperationException.class, () -> ServedStages.rewrite(proto(new Grouping(), "instances=1")));
    assertThat(e.getMessage(), containsString("Served stage 'Served'"));
    assertThat(e.getMessage(), containsString("'Served/Group'"));
  }

  @Test
  public void sideInputInside_isRefused_namingIt() {
    UnsupportedOperationException e =
        assertThrows(UnsupportedOperationException.class, () -> ServedStages.rewrite(proto(WithSide::new, "")));
    assertThat(e.getMessage(), containsString("'Served/UseSide"));
    assertThat(e.getMessage(), containsString("side inputs"));
  }

  @Test
  public void badSettings_areRefused_namingTheKey() {
    IllegalArgumentException unknown =
        assertThrows(IllegalArgumentException.class, () -> ServedStages.rewrite(proto(new TwoMaps(), "instance=2")));
    assertThat(unknown.getMessage(), containsString("unknown setting 'instance'"));
    IllegalArgumentException zero =
        assertThrows(IllegalArgumentException.class, () -> ServedStages.rewrite(proto(new TwoMaps(), "instances=0")));
    assertThat(zero.getMessage(), containsString("instances must be a positive integer"));
  }

  @Test
  public void stageCalls_body_hasVersionCountAndElements_andRoundTrips() throws Exception {
    @SuppressWarnings({"unchecked", "rawtypes"})
    org.apache.beam.sdk.coders.Coder<WindowedValue<Object>> coder =
        (org.apache.beam.sdk.coders.Coder) WindowedValue.getFullCoder(StringUtf8Coder.of(), GlobalWindow.Coder.INSTANCE);
    List<WindowedValue<Object>> elements = List.of(WindowedValue.valueInGlobalWindow("a"), WindowedValue.valueInGlobalWindow("bc"));
    byte[] body = StageCalls.encode(elements, coder);
    // Golden: version, count, then per element timestamp, window count (the global window has no
    // bytes), pane, value. A change of the format must be deliberate (and bump VERSION).
    assertThat(
        org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.io.BaseEncoding.base16().encode(body),
        equalTo("01" + "00000002" + "7FDF3B645A1CAC09" + "00000001" + "0F" + "0161" + "7FDF3B645A1CAC09" + "00000001" + "0F" + "026263"));
    assertThat(body[0], equalTo(StageCalls.VERSION));
    assertThat(java.nio.ByteBuffer.wrap(body, 1, 4).getInt(), equalTo(2));
    assertThat(StageCalls.decode(body, coder), equalTo(elements));
    byte[] future = body.clone();
    future[0] = 2;
    assertThat(
        assertThrows(java.io.IOException.class, () -> StageCalls.decode(future, coder)).getMessage(),
        containsString("version 2"));
    byte[] longer = java.util.Arrays.copyOf(body, body.length + 1);
    assertThat(
        assertThrows(java.io.IOException.class, () -> StageCalls.decode(longer, coder)).getMessage(),
        containsString("1 byte(s) after"));
  }
}
