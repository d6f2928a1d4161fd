package io.ainative.multimodal.coders;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.instanceOf;
import static org.junit.Assert.assertThrows;

import io.ainative.multimodal.testing.CoderContract;
import io.ainative.multimodal.types.Audio;
import io.ainative.multimodal.types.Embedding;
import io.ainative.multimodal.types.Image;
import io.ainative.multimodal.types.ObjectRef;
import io.ainative.multimodal.types.Tensor;
import java.io.ByteArrayInputStream;
import java.util.HexFormat;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.junit.Test;

public class ObjectRefCoderTest extends CoderContract<ObjectRef<Image>> {
  private static final byte[] SHA = HexFormat.of().parseHex("00".repeat(31) + "ab");

  @Override
  protected Coder<ObjectRef<Image>> coder() {
    return ObjectRefCoder.of();
  }

  @Override
  protected List<ObjectRef<Image>> samples() {
    return List.of(
        goldenValue(),
        ObjectRef.of("job-2", new byte[32], 1L << 40, "", "gs://bucket/x/y"),
        ObjectRef.of("j\u00f6b", SHA, 0, "application/octet-stream", "file:///tmp/a b"));
  }

  @Override
  protected ObjectRef<Image> goldenValue() {
    return ObjectRef.of("j1", SHA, 1048576, "img", "file:///s/j1/ab");
  }

  @Override
  protected String goldenHex() {
    return "01"
        + "026a31"
        + "00".repeat(31)
        + "ab"
        + "808040"
        + "03696d67"
        + "0f"
        + HexFormat.of().formatHex("file:///s/j1/ab".getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  @Test
  public void decode_rejectsNegativeSize_namingTheField() {
    String hex =
        "01" + "026a31" + "00".repeat(32) + "ffffffffffffffffff01" + "00" + "0178";
    CoderException e =
        assertThrows(
            CoderException.class,
            () -> ObjectRefCoder.of().decode(new ByteArrayInputStream(HexFormat.of().parseHex(hex))));
    assertThat(e.getMessage(), containsString("object ref size must be >= 0"));
  }

  @Test
  public void defaultRegistry_providesTheAinativeCoders() throws Exception {
    CoderRegistry registry = CoderRegistry.createDefault();
    assertThat(registry.getCoder(Tensor.class), instanceOf(TensorCoder.class));
    assertThat(registry.getCoder(Image.class), instanceOf(ImageCoder.class));
    assertThat(registry.getCoder(Audio.class), instanceOf(AudioCoder.class));
    assertThat(registry.getCoder(Embedding.class), instanceOf(EmbeddingCoder.class));
    assertThat(
        registry.getCoder(new TypeDescriptor<ObjectRef<Image>>() {}),
        instanceOf(ObjectRefCoder.class));
  }
}
