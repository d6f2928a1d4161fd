package io.ainative.runner.translation;

import java.util.Set;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.beam.sdk.util.construction.NativeTransforms;

/** URNs of the transforms ainative's Flink translation executes itself. */
@Internal
public final class NativeUrns {

  /**
   * A Flatten with inputs, taken out of fusion and run as a Flink union. The runner rewrites
   * Flattens to it before fusing; see {@code ProtoRewrites}.
   */
  public static final String FLATTEN_AS_UNION = "beam:transform:ainative:flatten_as_union:v1";

  /**
   * A fused executable stage, translated by the runner's own {@link ExecutableStageTranslator}
   * instead of Beam's. The runner renames stages to it after fusion (Beam's translator map cannot
   * be given a second translation for Beam's own URN).
   */
  public static final String EXECUTABLE_STAGE = "beam:transform:ainative:executable_stage:v1";

  /**
   * RunInference, served by RpcOperators: an async client in the data DAG and a disconnected
   * service sub-graph ({@link RunInferenceTranslator}). The composite's inline expansion is dropped
   * before fusion.
   */
  public static final String RUN_INFERENCE = io.ainative.transforms.RunInferencePayload.URN;

  /**
   * An SDK's composite marked for a service ({@code ainative_beam.Served} in Python), run by
   * RpcOperators that host the SDK's worker ({@link ServedStageTranslator}). The runner makes it a
   * leaf whose payload is the executable stage of the composite's contents before fusion; see
   * {@code io.ainative.runner.translation.service.ServedStages}.
   */
  public static final String SERVED_STAGE = io.ainative.runner.translation.service.ServedStages.URN;

  /**
   * A TestStream, translated by the runner's own {@link TestStreamTranslator} instead of Beam's,
   * which emits elements in the SDK's representation where the runner's is expected. The runner
   * renames TestStreams to it after fusion.
   */
  public static final String TEST_STREAM = "beam:transform:ainative:test_stream:v1";

  static final Set<String> ALL = Set.of(FLATTEN_AS_UNION, EXECUTABLE_STAGE, RUN_INFERENCE, SERVED_STAGE, TEST_STREAM);

  private NativeUrns() {}

  /**
   * Tells Beam's pipeline graph that these URNs are primitives the runner executes, so the fuser
   * leaves them out of every stage. Registered in {@code META-INF/services}.
   */
  public static final class IsAiNativeTransform implements NativeTransforms.IsNativeTransform {
    @Override
    public boolean test(RunnerApi.PTransform transform) {
      return ALL.contains(transform.getSpec().getUrn());
    }
  }
}
