package io.ainative.multimodal.store;

import io.ainative.multimodal.coders.EmbeddingCoder;
import io.ainative.multimodal.testing.CoderContract;
import io.ainative.multimodal.types.Embedding;
import io.ainative.multimodal.types.ObjectRef;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;

public class PayloadCoderTest extends CoderContract<Payload<Embedding>> {
  @Override
  protected Coder<Payload<Embedding>> coder() {
    return PayloadCoder.of(EmbeddingCoder.of());
  }

  @Override
  protected List<Payload<Embedding>> samples() {
    return List.of(
        goldenValue(),
        Payload.byRef(ObjectRef.of("j", new byte[32], 5, "t", "/x")),
        Payload.inline(Embedding.of(new float[300], "m")));
  }

  @Override
  protected Payload<Embedding> goldenValue() {
    return Payload.inline(Embedding.of(new float[] {2f}));
  }

  @Override
  protected String goldenHex() {
    // payload v1, inline, then an embedding (v1, dim 1, 2.0f, no model id)
    return "0100" + "010100000040" + "00";
  }
}
