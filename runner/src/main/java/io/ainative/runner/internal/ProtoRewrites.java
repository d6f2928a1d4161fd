package io.ainative.runner.internal;

import java.util.Map;
import io.ainative.runner.translation.NativeUrns;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.sdk.util.construction.PTransformTranslation;
import org.apache.beam.sdk.util.construction.graph.ExecutableStage;

/** Rewrites of the portable pipeline applied before fusion. */
final class ProtoRewrites {

  private ProtoRewrites() {}

  /**
   * Turns every Flatten that has inputs into {@link NativeUrns#FLATTEN_AS_UNION} without an SDK
   * environment, so that it stays out of fusion and Flink unions the streams itself.
   *
   * <p>Why: Beam 2.62's greedy fuser fuses a Flatten into its producers' stages whatever its
   * environment; when a flattened input is also consumed elsewhere in that stage and the Flatten's
   * output feeds a further GroupByKey (e.g. a PAssert on a Flatten), the fused pipeline it builds
   * consumes a PCollection that no stage produces ("consumed but never produced"). A URN the fuser
   * does not know is never fused. Flink's union is also cheaper than a trip through the harness.
   * Flattens without inputs keep Beam's own translation (an empty source), and so do Flattens
   * whose inputs are encoded differently from their output (Python's often are): a Flink union
   * needs one element type, and only the SDK can re-encode.
   */
  static RunnerApi.Pipeline runnerExecutedFlattens(RunnerApi.Pipeline pipeline) {
    RunnerApi.Pipeline.Builder builder = pipeline.toBuilder();
    RunnerApi.Components.Builder components = builder.getComponentsBuilder();
    for (Map.Entry<String, RunnerApi.PTransform> e : pipeline.getComponents().getTransformsMap().entrySet()) {
      RunnerApi.PTransform transform = e.getValue();
      if (PTransformTranslation.FLATTEN_TRANSFORM_URN.equals(transform.getSpec().getUrn())
          && transform.getSubtransformsCount() == 0
          && transform.getInputsCount() > 0
          && sameEncoding(transform, pipeline.getComponents())) {
        RunnerApi.PTransform.Builder union = transform.toBuilder().clearEnvironmentId();
        union.getSpecBuilder().setUrn(NativeUrns.FLATTEN_AS_UNION);
        components.putTransforms(e.getKey(), union.build());
      }
    }
    return builder.build();
  }

  /**
   * Renames every fused executable stage to {@link NativeUrns#EXECUTABLE_STAGE} and every TestStream
   * to {@link NativeUrns#TEST_STREAM}, so the runner's own translations run instead of Beam's (see
   * {@code ExecutableStageTranslator}, {@code TestStreamTranslator}).
   */
  static RunnerApi.Pipeline ownExecutableStages(RunnerApi.Pipeline fused) {
    RunnerApi.Pipeline.Builder builder = fused.toBuilder();
    RunnerApi.Components.Builder components = builder.getComponentsBuilder();
    for (String id : fused.getRootTransformIdsList()) {
      RunnerApi.PTransform transform = fused.getComponents().getTransformsOrThrow(id);
      String ownUrn =
          ExecutableStage.URN.equals(transform.getSpec().getUrn())
              ? NativeUrns.EXECUTABLE_STAGE
              : PTransformTranslation.TEST_STREAM_TRANSFORM_URN.equals(transform.getSpec().getUrn()) ? NativeUrns.TEST_STREAM : null;
      if (ownUrn != null) {
        RunnerApi.PTransform.Builder own = transform.toBuilder();
        own.getSpecBuilder().setUrn(ownUrn);
        components.putTransforms(id, own.build());
      }
    }
    return builder.build();
  }

  /** Whether every input of a transform has its output's coder and windowing strategy. */
  private static boolean sameEncoding(RunnerApi.PTransform transform, RunnerApi.Components components) {
    RunnerApi.PCollection output =
        components.getPcollectionsOrThrow(transform.getOutputsMap().values().iterator().next());
    for (String inputId : transform.getInputsMap().values()) {
      RunnerApi.PCollection input = components.getPcollectionsOrThrow(inputId);
      if (!input.getCoderId().equals(output.getCoderId())
          || !input.getWindowingStrategyId().equals(output.getWindowingStrategyId())) {
        return false;
      }
    }
    return true;
  }
}
