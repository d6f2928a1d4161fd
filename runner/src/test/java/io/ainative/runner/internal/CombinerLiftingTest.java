package io.ainative.runner.internal;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;

import io.ainative.runner.AiNativeFlinkRunner;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.options.PortablePipelineOptions;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.CombineWithContext;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.Max;
import org.apache.beam.sdk.transforms.Sum;
import org.apache.beam.sdk.transforms.View;
import org.apache.beam.sdk.transforms.windowing.AfterPane;
import org.apache.beam.sdk.transforms.windowing.AfterProcessingTime;
import org.apache.beam.sdk.transforms.windowing.AfterWatermark;
import org.apache.beam.sdk.transforms.windowing.FixedWindows;
import org.apache.beam.sdk.transforms.windowing.Repeatedly;
import org.apache.beam.sdk.transforms.windowing.Sessions;
import org.apache.beam.sdk.transforms.windowing.TimestampCombiner;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.util.construction.PTransformTranslation;
import org.apache.beam.sdk.util.construction.PipelineTranslation;
import org.apache.beam.sdk.util.construction.SdkComponents;
import org.apache.beam.sdk.util.construction.graph.ExecutableStage;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;
import org.joda.time.Duration;
import org.junit.Test;

public class CombinerLiftingTest {

  private static final String PRECOMBINE = PTransformTranslation.COMBINE_PER_KEY_PRECOMBINE_TRANSFORM_URN;
  private static final String MERGE = PTransformTranslation.COMBINE_PER_KEY_MERGE_ACCUMULATORS_TRANSFORM_URN;
  private static final String EXTRACT = PTransformTranslation.COMBINE_PER_KEY_EXTRACT_OUTPUTS_TRANSFORM_URN;

  /** A pipeline of keyed ints, shaped by {@code window}, summed per key by {@code combine}. */
  private static RunnerApi.Pipeline keyedSum(
      Function<PCollection<KV<String, Integer>>, PCollection<KV<String, Integer>>> window,
      Function<PCollection<KV<String, Integer>>, ?> combine) {
    PortablePipelineOptions options = PipelineOptionsFactory.create().as(PortablePipelineOptions.class);
    options.setRunner(AiNativeFlinkRunner.class);
    options.setDefaultEnvironmentType("EMBEDDED");
    Pipeline p = Pipeline.create(options);
    PCollection<KV<String, Integer>> keyed = p.apply("Numbers", Create.of(KV.of("a", 1), KV.of("b", 2), KV.of("a", 3)));
    combine.apply(window.apply(keyed));
    return PipelineTranslation.toProto(p, SdkComponents.create(options));
  }

  private static RunnerApi.PTransform named(RunnerApi.Pipeline pipeline, String uniqueName) {
    return pipeline.getComponents().getTransformsMap().values().stream()
        .filter(t -> t.getUniqueName().equals(uniqueName))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no transform " + uniqueName));
  }

  private static List<String> subtransformUrns(RunnerApi.Pipeline pipeline, String uniqueName) {
    return named(pipeline, uniqueName).getSubtransformsList().stream()
        .map(id -> pipeline.getComponents().getTransformsOrThrow(id).getSpec().getUrn())
        .collect(Collectors.toList());
  }

  @Test
  public void sumPerKey_isLifted_intoAPrecombineBeforeTheShuffle_andAMergeAfterIt() throws Exception {
    RunnerApi.Pipeline pipeline = keyedSum(in -> in, in -> in.apply("Sum", Sum.integersPerKey()));

    RunnerApi.Pipeline lifted = CombinerLifting.lift(pipeline);

    assertThat(
        subtransformUrns(lifted, "Sum"),
        contains(PRECOMBINE, PTransformTranslation.GROUP_BY_KEY_TRANSFORM_URN, MERGE, EXTRACT));
    RunnerApi.PTransform precombine = named(lifted, "Sum/Precombine");
    RunnerApi.PCollection accumulators =
        lifted.getComponents().getPcollectionsOrThrow(precombine.getOutputsOrThrow("output"));
    RunnerApi.Coder kvOfAccumulator = lifted.getComponents().getCodersOrThrow(accumulators.getCoderId());
    RunnerApi.CombinePayload payload = RunnerApi.CombinePayload.parseFrom(precombine.getSpec().getPayload());
    assertThat(kvOfAccumulator.getComponentCoderIds(1), equalTo(payload.getAccumulatorCoderId()));
    // The composite's own expansion is gone, its output kept.
    assertThat(
        lifted.getComponents().getTransformsMap().values().stream().map(RunnerApi.PTransform::getUniqueName).collect(Collectors.toSet()),
        not(hasItem("Sum/GroupByKey")));
    assertThat(
        named(lifted, "Sum/ExtractOutputs").getOutputsOrThrow("output"),
        equalTo(named(pipeline, "Sum").getOutputsMap().values().iterator().next()));

    // The whole launch path accepts it: the precombine fuses with its producer, merge and extract
    // with the consumer of the shuffle.
    RunnerApi.Pipeline fused = new JobLauncher().prepare(pipeline, "lifting");
    List<Set<String>> stageUrns =
        fused.getRootTransformIdsList().stream()
            .map(id -> fused.getComponents().getTransformsOrThrow(id))
            .filter(t -> t.getSpec().getUrn().equals(io.ainative.runner.translation.NativeUrns.EXECUTABLE_STAGE))
            .map(t -> stageTransformUrns(fused, t))
            .collect(Collectors.toList());
    assertThat(stageUrns.stream().anyMatch(s -> s.contains(PRECOMBINE) && !s.contains(MERGE)), is(true));
    assertThat(stageUrns.stream().anyMatch(s -> s.contains(MERGE) && s.contains(EXTRACT)), is(true));
  }

  private static Set<String> stageTransformUrns(RunnerApi.Pipeline fused, RunnerApi.PTransform stage) {
    try {
      RunnerApi.ExecutableStagePayload payload = RunnerApi.ExecutableStagePayload.parseFrom(stage.getSpec().getPayload());
      return payload.getTransformsList().stream()
          .map(id -> fused.getComponents().getTransformsOrThrow(id).getSpec().getUrn())
          .collect(Collectors.toSet());
    } catch (org.apache.beam.vendor.grpc.v1p60p1.com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(ExecutableStage.URN + " payload", e);
    }
  }

  @Test
  public void fixedWindows_areLifted() {
    RunnerApi.Pipeline lifted =
        CombinerLifting.lift(
            keyedSum(
                in -> in.apply(Window.into(FixedWindows.of(Duration.standardMinutes(1)))),
                in -> in.apply("Max", Max.integersPerKey())));
    assertThat(subtransformUrns(lifted, "Max").get(0), equalTo(PRECOMBINE));
  }

  private static void assertNotLifted(RunnerApi.Pipeline pipeline, String combine) {
    RunnerApi.Pipeline after = CombinerLifting.lift(pipeline);
    assertThat(named(after, combine), equalTo(named(pipeline, combine)));
    assertThat(subtransformUrns(after, combine), not(hasItem(PRECOMBINE)));
  }

  @Test
  public void sessions_andEarlyFiringsByProcessingTime_areLifted() {
    RunnerApi.Pipeline lifted =
        CombinerLifting.lift(
            keyedSum(
                in ->
                    in.apply(
                        Window.<KV<String, Integer>>into(Sessions.withGapDuration(Duration.standardMinutes(1)))
                            .triggering(
                                AfterWatermark.pastEndOfWindow()
                                    .withEarlyFirings(AfterProcessingTime.pastFirstElementInPane().plusDelayOf(Duration.standardSeconds(1))))
                            .accumulatingFiredPanes()
                            .withAllowedLateness(Duration.ZERO)),
                in -> in.apply("Sum", Sum.integersPerKey())));
    assertThat(subtransformUrns(lifted, "Sum").get(0), equalTo(PRECOMBINE));
  }

  @Test
  public void lateFiringsByCount_areNotLifted() {
    assertNotLifted(
        keyedSum(
            in ->
                in.apply(
                    Window.<KV<String, Integer>>configure()
                        .triggering(AfterWatermark.pastEndOfWindow().withLateFirings(AfterPane.elementCountAtLeast(3)))
                        .discardingFiredPanes()
                        .withAllowedLateness(Duration.standardMinutes(1))),
            in -> in.apply("Sum", Sum.integersPerKey())),
        "Sum");
  }

  @Test
  public void countTriggers_areNotLifted() {
    assertNotLifted(
        keyedSum(
            in ->
                in.apply(
                    Window.<KV<String, Integer>>configure()
                        .triggering(Repeatedly.forever(AfterPane.elementCountAtLeast(2)))
                        .discardingFiredPanes()
                        .withAllowedLateness(Duration.ZERO)),
            in -> in.apply("Sum", Sum.integersPerKey())),
        "Sum");
  }

  @Test
  public void earliestTimestampCombiner_isNotLifted() {
    assertNotLifted(
        keyedSum(
            in -> in.apply(Window.<KV<String, Integer>>configure().withTimestampCombiner(TimestampCombiner.EARLIEST)),
            in -> in.apply("Sum", Sum.integersPerKey())),
        "Sum");
  }

  @Test
  public void combineFnWithContext_isNotLifted() {
    assertNotLifted(keyedSum(in -> in, in -> in.apply("Sum", Combine.perKey(new SumWithContext()))), "Sum");
  }

  @Test
  public void combineWithSideInputs_isNotLifted() {
    RunnerApi.Pipeline pipeline =
        keyedSum(
            in -> in,
            in -> {
              PCollectionView<Integer> offset = in.getPipeline().apply("Offset", Create.of(1)).apply(View.asSingleton());
              return in.apply("Sum", Combine.<String, Integer, Integer>perKey(new SumWithContext()).withSideInputs(offset));
            });
    assertNotLifted(pipeline, "Sum");
  }

  /** Sums, through the context-taking interface that the harness's precombine cannot call. */
  private static final class SumWithContext extends CombineWithContext.CombineFnWithContext<Integer, int[], Integer> {
    @Override
    public int[] createAccumulator(CombineWithContext.Context c) {
      return new int[1];
    }

    @Override
    public int[] addInput(int[] accumulator, Integer input, CombineWithContext.Context c) {
      accumulator[0] += input;
      return accumulator;
    }

    @Override
    public int[] mergeAccumulators(Iterable<int[]> accumulators, CombineWithContext.Context c) {
      int[] sum = new int[1];
      for (int[] a : accumulators) {
        sum[0] += a[0];
      }
      return sum;
    }

    @Override
    public Integer extractOutput(int[] accumulator, CombineWithContext.Context c) {
      return accumulator[0];
    }

    @Override
    public org.apache.beam.sdk.coders.Coder<int[]> getAccumulatorCoder(
        org.apache.beam.sdk.coders.CoderRegistry registry, org.apache.beam.sdk.coders.Coder<Integer> inputCoder) {
      return org.apache.beam.sdk.coders.SerializableCoder.of(int[].class);
    }
  }
}
