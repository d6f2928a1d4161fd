package io.ainative.multimodal.coders;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.Assert.assertThrows;

import io.ainative.multimodal.testing.CoderContract;
import io.ainative.multimodal.types.Embedding;
import java.io.ByteArrayInputStream;
import java.util.HexFormat;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderException;
import org.junit.Test;

public class EmbeddingCoderTest extends CoderContract<Embedding> {
  @Override
  protected Coder<Embedding> coder() {
    return EmbeddingCoder.of();
  }

  @Override
  protected List<Embedding> samples() {
    float[] big = new float[4096];
    for (int i = 0; i < big.length; i++) {
      big[i] = i / 7f;
    }
    return List.of(
        goldenValue(),
        Embedding.of(new float[] {1f}),
        Embedding.of(big, "clip-vit-b32"),
        Embedding.of(new float[] {Float.NaN, -0.0f}, "m\u00fcnchen"));
  }

  @Override
  protected Embedding goldenValue() {
    return Embedding.of(new float[] {1f, -2f, 0.25f}, "m1");
  }

  @Override
  protected String goldenHex() {
    return "0103" + "0000803f000000c00000803e" + "01" + "02" + "6d31";
  }

  @Test
  public void decode_rejectsZeroDimension() {
    CoderException e =
        assertThrows(
            CoderException.class,
            () -> EmbeddingCoder.of().decode(new ByteArrayInputStream(new byte[] {1, 0, 0})));
    assertThat(e.getMessage(), containsString("embedding.dimension must be >= 1"));
  }

  @Test
  public void decode_rejectsBadModelIdFlag() {
    byte[] bytes = HexFormat.of().parseHex("0101" + "0000803f" + "07");
    CoderException e =
        assertThrows(
            CoderException.class, () -> EmbeddingCoder.of().decode(new ByteArrayInputStream(bytes)));
    assertThat(e.getMessage(), containsString("embedding.model_id flag must be 0 or 1, got 7"));
  }
}
