package io.ainative.runner.translation.inprocess;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.options.PortablePipelineOptions;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.io.GenerateSequence;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.Impulse;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Sum;
import org.apache.beam.sdk.transforms.View;
import org.apache.beam.sdk.util.construction.Environments;
import org.apache.beam.sdk.util.construction.PTransformTranslation;
import org.apache.beam.sdk.util.construction.PipelineTranslation;
import org.apache.beam.sdk.util.construction.graph.ProtoOverrides;
import org.apache.beam.sdk.util.construction.graph.SplittableParDoExpander;
import org.apache.beam.sdk.util.construction.graph.ExecutableStage;
import org.apache.beam.sdk.util.construction.graph.GreedyPipelineFuser;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.Test;

/** Which fused stages of a Java pipeline the runner takes, and why it leaves the others to the harness. */
public class InProcessStagesTest {

  static final class ToKv extends DoFn<byte[], KV<String, Long>> {
    @ProcessElement
    public void process(OutputReceiver<KV<String, Long>> out) {
      out.output(KV.of("a", 1L));
    }
  }

  static final class Stateful extends DoFn<KV<String, Long>, Long> {
    @StateId("seen")
    private final StateSpec<ValueState<Long>> seen = StateSpecs.value(VarLongCoder.of());

    @ProcessElement
    public void process(@Element KV<String, Long> kv, @StateId("seen") ValueState<Long> state, OutputReceiver<Long> out) {
      state.write(kv.getValue());
      out.output(kv.getValue());
    }
  }

  static final class WithSideInput extends DoFn<KV<String, Iterable<Long>>, Long> {
    private final PCollectionView<Long> view;

    WithSideInput(PCollectionView<Long> view) {
      this.view = view;
    }

    @ProcessElement
    public void process(ProcessContext c) {
      c.output(c.sideInput(view));
    }
  }

  static final class Finalizing extends DoFn<KV<String, Iterable<Long>>, Long> {
    @ProcessElement
    public void process(BundleFinalizer finalizer, OutputReceiver<Long> out) {
      finalizer.afterBundleCommit(org.joda.time.Instant.now().plus(60_000), () -> {});
      out.output(1L);
    }
  }

  /** The fused stages of a pipeline, each with its transforms' unique names and the verdict. */
  private static List<String> verdicts(Pipeline p) throws Exception {
    // As the runner prepares a pipeline: splittable ParDos expanded so their process step is a primitive.
    RunnerApi.Pipeline expanded =
        ProtoOverrides.updateTransform(
            PTransformTranslation.PAR_DO_TRANSFORM_URN, PipelineTranslation.toProto(p), SplittableParDoExpander.createSizedReplacement());
    RunnerApi.Pipeline fused = GreedyPipelineFuser.fuse(expanded).toPipeline();
    List<String> out = new ArrayList<>();
    for (RunnerApi.PTransform t : fused.getComponents().getTransformsMap().values()) {
      if (!ExecutableStage.URN.equals(t.getSpec().getUrn())) {
        continue;
      }
      RunnerApi.ExecutableStagePayload stage = RunnerApi.ExecutableStagePayload.parseFrom(t.getSpec().getPayload());
      List<String> names = new ArrayList<>();
      for (String id : stage.getTransformsList()) {
        names.add(stage.getComponents().getTransformsOrThrow(id).getUniqueName());
      }
      Optional<String> why = InProcessStages.whyNot(stage);
      out.add(names + " -> " + why.orElse("IN PROCESS"));
    }
    return out;
  }

  private static Pipeline pipeline(String environment) {
    PortablePipelineOptions options = PipelineOptionsFactory.create().as(PortablePipelineOptions.class);
    options.setDefaultEnvironmentType(environment);
    options.setRunner(io.ainative.runner.AiNativeFlinkRunner.class);
    return Pipeline.create(options);
  }

  private static String verdictOf(List<String> verdicts, String transform) {
    return verdicts.stream().filter(v -> v.contains(transform)).findFirst().orElseThrow(() -> new AssertionError(transform + " in " + verdicts));
  }

  @Test
  public void statelessJavaStages_andLiftedCombines_areTaken_othersSayWhy() throws Exception {
    Pipeline p = pipeline(Environments.ENVIRONMENT_EMBEDDED);
    PCollection<KV<String, Long>> kvs =
        p.apply(Impulse.create()).apply("ToKv", ParDo.of(new ToKv())).setCoder(KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of()));
    kvs.apply("Stateful", ParDo.of(new Stateful()));
    PCollectionView<Long> view = kvs.apply("Count", Sum.longsPerKey()).apply(org.apache.beam.sdk.transforms.Values.create())
        .apply(View.asSingleton());
    PCollection<KV<String, Iterable<Long>>> grouped = kvs.apply(GroupByKey.create());
    grouped.apply("WithSideInput", ParDo.of(new WithSideInput(view)).withSideInputs(view));
    grouped.apply("Finalizing", ParDo.of(new Finalizing()));

    List<String> verdicts = verdicts(p);
    assertThat(verdicts.toString(), verdictOf(verdicts, "ToKv").endsWith("IN PROCESS"), is(true));
    assertThat(verdictOf(verdicts, "Stateful"), containsString("user state or timers"));
    assertThat(verdictOf(verdicts, "WithSideInput"), containsString("side inputs"));
    assertThat(verdictOf(verdicts, "Finalizing"), containsString("bundle finalizer"));
  }

  @Test
  public void stagesOfAnotherEnvironment_stayInTheHarness() throws Exception {
    Pipeline p = pipeline("DOCKER");
    p.apply(Impulse.create()).apply("ToKv", ParDo.of(new ToKv()));
    assertThat(verdictOf(verdicts(p), "ToKv"), containsString("its environment is beam:env:docker:v1"));
  }

  @Test
  public void boundedReadsProcessStep_isTaken_unboundedOneIsNot() throws Exception {
    Pipeline p = pipeline(Environments.ENVIRONMENT_EMBEDDED);
    p.apply("Bounded", GenerateSequence.from(0).to(10)).apply("AfterBounded", MapElements.into(TypeDescriptors.longs()).via((Long x) -> x));
    p.apply("Unbounded", GenerateSequence.from(0)).apply("AfterUnbounded", MapElements.into(TypeDescriptors.longs()).via((Long x) -> x));
    List<String> verdicts = verdicts(p);
    assertThat(verdicts.toString(), verdictOf(verdicts, "AfterBounded").endsWith("IN PROCESS"), is(true));
    assertThat(verdictOf(verdicts, "AfterUnbounded"), containsString("is unbounded"));
  }
}
