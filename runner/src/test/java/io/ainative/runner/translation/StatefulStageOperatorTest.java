package io.ainative.runner.translation;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import io.ainative.runner.AiNativeFlinkRunner;
import io.ainative.runner.translation.state.UserStateKinds;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.runners.flink.translation.wrappers.streaming.ExecutableStageDoFnOperator;
import org.apache.beam.runners.fnexecution.control.TimerReceiverFactory;
import org.apache.beam.runners.fnexecution.state.StateRequestHandler;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.state.BagState;
import org.apache.beam.sdk.state.MapState;
import org.apache.beam.sdk.state.OrderedListState;
import org.apache.beam.sdk.state.SetState;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.util.construction.PipelineTranslation;
import org.apache.beam.sdk.util.construction.graph.ExecutableStage;
import org.apache.beam.sdk.util.construction.graph.GreedyPipelineFuser;
import org.apache.beam.sdk.values.KV;
import org.junit.Test;

/** What the runner reads from a fused stage to decide which state and timers it serves itself. */
public class StatefulStageOperatorTest {

  static class EveryKind extends DoFn<KV<String, Integer>, Integer> {
    @StateId("bag")
    private final StateSpec<BagState<Integer>> bag = StateSpecs.bag(VarIntCoder.of());

    @StateId("map")
    private final StateSpec<MapState<String, Integer>> map = StateSpecs.map(StringUtf8Coder.of(), VarIntCoder.of());

    @StateId("set")
    private final StateSpec<SetState<Integer>> set = StateSpecs.set(VarIntCoder.of());

    @StateId("list")
    private final StateSpec<OrderedListState<Integer>> list = StateSpecs.orderedList(VarIntCoder.of());

    @ProcessElement
    public void process(
        @StateId("bag") BagState<Integer> bag,
        @StateId("map") MapState<String, Integer> map,
        @StateId("set") SetState<Integer> set,
        @StateId("list") OrderedListState<Integer> list) {}

    @OnWindowExpiration
    public void expire() {}
  }

  static class BagOnly extends DoFn<KV<String, Integer>, Integer> {
    @StateId("bag")
    private final StateSpec<BagState<Integer>> bag = StateSpecs.bag(VarIntCoder.of());

    @ProcessElement
    public void process(@StateId("bag") BagState<Integer> bag) {}
  }

  private static RunnerApi.ExecutableStagePayload statefulStage(DoFn<KV<String, Integer>, Integer> fn) throws Exception {
    PipelineOptions options = PipelineOptionsFactory.create();
    options.setRunner(AiNativeFlinkRunner.class); // only translated to a proto, never run
    Pipeline p = Pipeline.create(options);
    p.apply(Create.of(KV.of("a", 1)).withCoder(KvCoder.of(StringUtf8Coder.of(), VarIntCoder.of()))).apply("Stateful", ParDo.of(fn));
    RunnerApi.Pipeline fused = GreedyPipelineFuser.fuse(PipelineTranslation.toProto(p)).toPipeline();
    List<RunnerApi.ExecutableStagePayload> stateful = new ArrayList<>();
    for (RunnerApi.PTransform transform : fused.getComponents().getTransformsMap().values()) {
      if (ExecutableStage.URN.equals(transform.getSpec().getUrn())) {
        RunnerApi.ExecutableStagePayload stage = RunnerApi.ExecutableStagePayload.parseFrom(transform.getSpec().getPayload());
        if (stage.getUserStatesCount() > 0) {
          stateful.add(stage);
        }
      }
    }
    assertThat(stateful.size(), equalTo(1));
    return stateful.get(0);
  }

  @Test
  public void userStateKinds_sortStatesByTheProtocolTheirSdkSpeaks() throws Exception {
    UserStateKinds kinds = UserStateKinds.of(statefulStage(new EveryKind()));
    assertThat(kinds.multimapStates(), contains("map", "set"));
    assertThat(kinds.orderedListStates(), contains("list"));
    assertThat(kinds.any(), is(true));
  }

  @Test
  public void bagStateOnly_staysWithBeamsOperator() throws Exception {
    RunnerApi.ExecutableStagePayload stage = statefulStage(new BagOnly());
    assertThat(UserStateKinds.of(stage).any(), is(false));
    assertThat(StatefulStageOperator.windowExpirationFamilies(stage), is(empty()));
  }

  @Test
  public void windowExpirationFamilies_nameTheParDoAndItsFamily() throws Exception {
    RunnerApi.ExecutableStagePayload stage = statefulStage(new EveryKind());
    List<String> families = StatefulStageOperator.windowExpirationFamilies(stage);
    assertThat(families.size(), equalTo(1));
    KV<String, String> decoded = TimerReceiverFactory.decodeTimerDataTimerId(families.get(0));
    assertThat(stage.getComponents().getTransformsOrThrow(decoded.getKey()).getUniqueName(), equalTo("Stateful/ParMultiDo(EveryKind)"));
    assertThat(decoded.getValue(), equalTo("onWindowExpiration0"));
  }

  /** The runner replaces this private field of Beam's operator; a Beam upgrade that changes it fails here first. */
  @Test
  public void beamsOperator_keepsItsStateHandlerInTheFieldTheRunnerReplaces() throws Exception {
    Field field = ExecutableStageDoFnOperator.class.getDeclaredField(StatefulStageOperator.BEAM_HANDLER_FIELD);
    assertThat(field.getType(), equalTo(StateRequestHandler.class));
  }
}
