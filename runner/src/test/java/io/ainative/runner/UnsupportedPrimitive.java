package io.ainative.runner;

import java.util.Map;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.runners.AppliedPTransform;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.util.construction.PTransformTranslation;
import org.apache.beam.sdk.util.construction.SdkComponents;
import org.apache.beam.sdk.util.construction.TransformPayloadTranslatorRegistrar;
import org.apache.beam.sdk.values.PCollection;

/** A primitive whose URN neither the runner nor the Java SDK harness implements (test fixture). */
public final class UnsupportedPrimitive extends PTransform<PCollection<String>, PCollection<String>> {

  public static final String URN = "beam:transform:ainative:test:unsupported:v1";

  @Override
  public PCollection<String> expand(PCollection<String> input) {
    return PCollection.createPrimitiveOutputInternal(
        input.getPipeline(), input.getWindowingStrategy(), input.isBounded(), StringUtf8Coder.of());
  }

  /** Gives the primitive its URN in the portable proto; listed in test META-INF/services. */
  @SuppressWarnings("rawtypes")
  public static final class Registrar implements TransformPayloadTranslatorRegistrar {
    @Override
    public Map<? extends Class<? extends PTransform>, ? extends PTransformTranslation.TransformPayloadTranslator>
        getTransformPayloadTranslators() {
      return Map.of(UnsupportedPrimitive.class, new Translator());
    }
  }

  private static final class Translator implements PTransformTranslation.TransformPayloadTranslator<UnsupportedPrimitive> {
    @Override
    public String getUrn() {
      return URN;
    }

    @Override
    public RunnerApi.FunctionSpec translate(
        AppliedPTransform<?, ?, UnsupportedPrimitive> application, SdkComponents components) {
      return RunnerApi.FunctionSpec.newBuilder().setUrn(URN).build();
    }
  }
}
