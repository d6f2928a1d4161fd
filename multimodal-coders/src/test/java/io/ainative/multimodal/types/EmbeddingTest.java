package io.ainative.multimodal.types;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.junit.Assert.assertThrows;

import java.util.Optional;
import org.junit.Test;

public class EmbeddingTest {
  @Test
  public void valuesAreCopiedInAndOut() {
    float[] v = {1f, 2f};
    Embedding e = Embedding.of(v, "m");
    v[0] = 9f;
    e.toFloatArray()[1] = 9f;
    assertThat(e.toFloatArray(), equalTo(new float[] {1f, 2f}));
    assertThat(e.modelId(), equalTo(Optional.of("m")));
  }

  @Test
  public void equality_isBitwise_likeTheEncoding() {
    assertThat(Embedding.of(new float[] {Float.NaN}), equalTo(Embedding.of(new float[] {Float.NaN})));
    assertThat(Embedding.of(new float[] {0f}), not(equalTo(Embedding.of(new float[] {-0f}))));
    assertThat(Embedding.of(new float[] {1f}, "a"), not(equalTo(Embedding.of(new float[] {1f}, "b"))));
  }

  @Test
  public void rejectsEmptyVectorAndEmptyModelId() {
    assertThat(
        assertThrows(IllegalArgumentException.class, () -> Embedding.of(new float[0])).getMessage(),
        containsString("dimension >= 1"));
    assertThat(
        assertThrows(IllegalArgumentException.class, () -> Embedding.of(new float[1], ""))
            .getMessage(),
        containsString("model_id"));
  }
}
