package io.ainative.transforms;

import java.util.Map;
import org.apache.beam.model.pipeline.v1.RunnerApi.FunctionSpec;
import org.apache.beam.sdk.runners.AppliedPTransform;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.util.construction.PTransformTranslation.TransformPayloadTranslator;
import org.apache.beam.sdk.util.construction.SdkComponents;
import org.apache.beam.sdk.util.construction.TransformPayloadTranslatorRegistrar;
import org.apache.beam.sdk.values.Row;

/**
 * Registers the translation of every RunInference transform to {@value RunInferencePayload#URN}.
 * Found by {@code PipelineTranslation.toProto} through {@code META-INF/services}.
 */
public final class RunInferenceTranslation implements TransformPayloadTranslatorRegistrar {

  @Override
  @SuppressWarnings("rawtypes")
  public Map<? extends Class<? extends PTransform>, ? extends TransformPayloadTranslator>
      getTransformPayloadTranslators() {
    Translator translator = new Translator();
    return Map.of(
        RunInference.class, translator,
        RunInference.Keyed.class, translator,
        RunInference.WithFailureOutput.class, translator);
  }

  /** One translator for the three variants: each describes itself. */
  static final class Translator implements TransformPayloadTranslator<PTransform<?, ?>> {
    @Override
    public String getUrn() {
      return RunInferencePayload.URN;
    }

    @Override
    public FunctionSpec translate(
        AppliedPTransform<?, ?, PTransform<?, ?>> application, SdkComponents components) {
      return describe(application.getTransform()).toFunctionSpec();
    }

    @Override
    public Row toConfigRow(PTransform<?, ?> transform) {
      return describe(transform).toRow();
    }

    private static RunInferencePayload describe(PTransform<?, ?> transform) {
      if (!(transform instanceof RunInferencePayload.Describable)) {
        throw new IllegalArgumentException(
            "not a RunInference transform: " + transform.getClass().getName());
      }
      return ((RunInferencePayload.Describable) transform).describe();
    }
  }
}
