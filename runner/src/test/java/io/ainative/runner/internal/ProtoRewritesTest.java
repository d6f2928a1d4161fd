package io.ainative.runner.internal;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertThrows;

import io.ainative.runner.AiNativeFlinkRunner;
import io.ainative.runner.translation.NativeUrns;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.runners.flink.FlinkStreamingPortablePipelineTranslator;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.options.PortablePipelineOptions;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.Flatten;
import java.util.Map;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.View;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.transforms.Sum;
import org.apache.beam.sdk.util.construction.PTransformTranslation;
import org.apache.beam.sdk.util.construction.PipelineTranslation;
import org.apache.beam.sdk.util.construction.SdkComponents;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.Test;

public class ProtoRewritesTest {

  /** A Flatten whose input is also consumed elsewhere, asserted on with PAssert. */
  private static RunnerApi.Pipeline flattenOfSharedInput() {
    PortablePipelineOptions options = PipelineOptionsFactory.create().as(PortablePipelineOptions.class);
    options.setRunner(AiNativeFlinkRunner.class);
    options.setDefaultEnvironmentType("EMBEDDED");
    Pipeline p = Pipeline.create(options);
    PCollection<String> words =
        p.apply("Words", Create.of("a", "b")).apply("Upper", MapElements.into(TypeDescriptors.strings()).via(String::toUpperCase));
    words.apply("CountWords", Count.perElement());
    words
        .apply("Lengths", MapElements.into(TypeDescriptors.integers()).via(String::length))
        .apply("TotalLength", Sum.integersGlobally().asSingletonView());
    words
        .apply("KeyByLength", WithKeys.of((String w) -> w.length()).withKeyType(TypeDescriptors.integers()))
        .apply("GroupByLength", GroupByKey.create());
    PCollectionView<Map<String, Long>> counts =
        words.apply("CountsForView", Count.perElement()).apply("AsMap", View.asMap());
    PCollection<String> more = p.apply("More", Create.of("x"));
    more.apply("UseSideInput", ParDo.of(new LookUp(counts)).withSideInputs(counts));
    PCollection<String> flat = PCollectionList.of(words).and(more).apply("Flatten", Flatten.pCollections());
    PAssert.that(flat).containsInAnyOrder("A", "B", "x");
    return PipelineTranslation.toProto(p, SdkComponents.create(options));
  }

  @Test
  public void beamFuser_alone_losesTheFlattenedInput() {
    // The reason for the rewrite. If Beam fixes its fuser this fails, and the rewrite can go.
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new FlinkStreamingPortablePipelineTranslator().prepareForTranslation(flattenOfSharedInput()));
    assertThat(e.getMessage(), containsString("consumed but never produced"));
  }

  @Test
  public void flattensWithInputs_becomeRunnerExecutedUnions_andTheFusedPipelineIsWhole() {
    RunnerApi.Pipeline rewritten = ProtoRewrites.runnerExecutedFlattens(flattenOfSharedInput());
    RunnerApi.PTransform flatten =
        rewritten.getComponents().getTransformsMap().values().stream()
            .filter(t -> t.getUniqueName().equals("Flatten"))
            .findFirst()
            .orElseThrow();
    assertThat(flatten.getSpec().getUrn(), equalTo(NativeUrns.FLATTEN_AS_UNION));
    assertThat(flatten.getEnvironmentId().isEmpty(), is(true));

    RunnerApi.Pipeline fused = new FlinkStreamingPortablePipelineTranslator().prepareForTranslation(rewritten);
    boolean flattenIsARoot =
        fused.getRootTransformIdsList().stream()
            .map(id -> fused.getComponents().getTransformsOrThrow(id))
            .anyMatch(t -> t.getUniqueName().equals("Flatten") && t.getSpec().getUrn().equals(NativeUrns.FLATTEN_AS_UNION));
    assertThat(flattenIsARoot, is(true));
  }

  @Test
  public void emptyFlatten_keepsBeamsTranslation() {
    RunnerApi.PTransform empty =
        RunnerApi.PTransform.newBuilder()
            .setUniqueName("Empty")
            .setSpec(RunnerApi.FunctionSpec.newBuilder().setUrn(PTransformTranslation.FLATTEN_TRANSFORM_URN))
            .putOutputs("out", "pc")
            .setEnvironmentId("env")
            .build();
    RunnerApi.Pipeline pipeline =
        RunnerApi.Pipeline.newBuilder()
            .setComponents(RunnerApi.Components.newBuilder().putTransforms("empty", empty))
            .addRootTransformIds("empty")
            .build();
    assertThat(
        ProtoRewrites.runnerExecutedFlattens(pipeline).getComponents().getTransformsOrThrow("empty"),
        equalTo(empty));
  }

  private static final class LookUp extends DoFn<String, Long> {
    private final PCollectionView<Map<String, Long>> counts;

    LookUp(PCollectionView<Map<String, Long>> counts) {
      this.counts = counts;
    }

    @ProcessElement
    public void process(ProcessContext c) {
      c.output(c.sideInput(counts).getOrDefault(c.element(), 0L));
    }
  }
}
