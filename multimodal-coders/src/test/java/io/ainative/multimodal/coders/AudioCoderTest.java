package io.ainative.multimodal.coders;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.Assert.assertThrows;

import io.ainative.multimodal.testing.CoderContract;
import io.ainative.multimodal.types.Audio;
import java.io.ByteArrayInputStream;
import java.util.HexFormat;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderException;
import org.junit.Test;

public class AudioCoderTest extends CoderContract<Audio> {
  @Override
  protected Coder<Audio> coder() {
    return AudioCoder.of();
  }

  @Override
  protected List<Audio> samples() {
    float[] sine = new float[2 * 480];
    for (int i = 0; i < sine.length; i++) {
      sine[i] = (float) Math.sin(i * 0.05);
    }
    return List.of(
        goldenValue(),
        Audio.of(48000, 2, sine),
        Audio.of(8000, 1, new float[0]),
        Audio.of(22050, 1, new float[] {Float.NaN, -0.0f, 1f}));
  }

  @Override
  protected Audio goldenValue() {
    return Audio.of(16000, 2, new float[] {0.5f, -0.5f, 1f, -1f});
  }

  @Override
  protected String goldenHex() {
    // version, sample rate 16000, then a tensor body: float32 [2, 2], 16 bytes
    return "01807d" + "08020202" + "10" + "0000003f000000bf0000803f000080bf";
  }

  @Test
  public void decode_rejectsSamplesThatAreNotFloat32Frames_namingTheField() {
    // a tensor body of int32 [2] instead of float32 [frames, channels]
    byte[] bytes = HexFormat.of().parseHex("01807d" + "050102" + "08" + "0000000000000000");
    CoderException e =
        assertThrows(
            CoderException.class, () -> AudioCoder.of().decode(new ByteArrayInputStream(bytes)));
    assertThat(e.getMessage(), containsString("audio samples must be float32 [frames, channels >= 1]"));
  }

  @Test
  public void decode_rejectsZeroSampleRate() {
    byte[] bytes = HexFormat.of().parseHex("0100" + "08020100" + "00");
    CoderException e =
        assertThrows(
            CoderException.class, () -> AudioCoder.of().decode(new ByteArrayInputStream(bytes)));
    assertThat(e.getMessage(), containsString("audio sample_rate must be > 0"));
  }
}
