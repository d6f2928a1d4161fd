package io.ainative.runner.translation;

import java.util.Map;
import org.apache.beam.runners.flink.FlinkStreamingPortablePipelineTranslator.PTransformTranslator;
import org.apache.beam.runners.flink.FlinkStreamingPortablePipelineTranslator.StreamingTranslationContext;
import org.apache.beam.sdk.annotations.Internal;

/**
 * The one map of ainative's own translations, by URN, that Beam's {@code
 * FlinkStreamingPortablePipelineTranslator} is constructed with next to its own (impulse, GBK,
 * flatten, reshuffle, executable stages, test stream, unbounded read).
 *
 * <p>Each runner-native URN gets one translator class, registered here, and an {@code
 * IsNativeTransform} registration ({@link NativeUrns.IsAiNativeTransform}) so the fuser leaves
 * it alone.
 */
@Internal
public final class NativeTranslators {

  private NativeTranslators() {}

  /** URN to translator; immutable. */
  public static Map<String, PTransformTranslator<StreamingTranslationContext>> byUrn() {
    return Map.of(
        NativeUrns.FLATTEN_AS_UNION, new FlattenAsUnionTranslator(),
        NativeUrns.EXECUTABLE_STAGE, new ExecutableStageTranslator(),
        NativeUrns.RUN_INFERENCE, new RunInferenceTranslator(),
        NativeUrns.SERVED_STAGE, new ServedStageTranslator(),
        NativeUrns.TEST_STREAM, new TestStreamTranslator());
  }
}
