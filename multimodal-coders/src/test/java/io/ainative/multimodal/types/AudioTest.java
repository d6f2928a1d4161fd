package io.ainative.multimodal.types;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.Assert.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.junit.Test;

public class AudioTest {
  @Test
  public void wavFloat32_roundTripsLosslessly() {
    Audio a = Audio.of(44100, 2, new float[] {0.1f, -0.2f, 0.99f, -1f, 0f, Float.MIN_VALUE});
    Audio back = Audio.fromWav(a.toWav(Audio.WavEncoding.FLOAT_32));
    assertThat(back, equalTo(a));
    assertThat(back.frames(), equalTo(3L));
  }

  @Test
  public void wavPcm16_roundTripsWithinQuantization() {
    float[] s = {0.5f, -0.5f, 0.25f, 1f};
    Audio back = Audio.fromWav(Audio.of(8000, 1, s).toWav(Audio.WavEncoding.PCM_16));
    float[] got = back.toFloatArray();
    for (int i = 0; i < s.length; i++) {
      assertThat((double) got[i], closeTo(s[i], 1.0 / 32768));
    }
    assertThat(back.sampleRate(), equalTo(8000));
  }

  @Test
  public void handWrittenPcm24Wav_isReadAndScaled() {
    // 1 channel, 24-bit, 2 samples: +0.5 (0x400000) and -1.0 (0x800000), and a LIST chunk before data
    ByteBuffer b = ByteBuffer.allocate(12 + 24 + 12 + 8 + 6).order(ByteOrder.LITTLE_ENDIAN);
    b.put("RIFF".getBytes()).putInt(b.capacity() - 8).put("WAVE".getBytes());
    b.put("fmt ".getBytes()).putInt(16).putShort((short) 1).putShort((short) 1);
    b.putInt(22050).putInt(22050 * 3).putShort((short) 3).putShort((short) 24);
    b.put("LIST".getBytes()).putInt(4).put("INFO".getBytes());
    b.put("data".getBytes()).putInt(6);
    b.put(new byte[] {0, 0, 0x40, 0, 0, (byte) 0x80});
    Audio a = Audio.fromWav(b.array());
    assertThat(a.sampleRate(), equalTo(22050));
    assertThat(Arrays.toString(a.toFloatArray()), equalTo("[0.5, -1.0]"));
  }

  @Test
  public void truncatedWav_isRejected_namingTheChunk() {
    byte[] wav = Audio.of(8000, 1, new float[100]).toWav(Audio.WavEncoding.PCM_16);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> Audio.fromWav(Arrays.copyOf(wav, wav.length - 10)));
    assertThat(e.getMessage(), containsString("truncated 'data' chunk"));
  }

  @Test
  public void nonWavBytes_areRejected() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Audio.fromWav(new byte[20]));
    assertThat(e.getMessage(), containsString("missing the RIFF/WAVE header"));
  }

  @Test
  public void of_rejectsSamplesThatAreNotWholeFrames() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Audio.of(8000, 2, new float[3]));
    assertThat(e.getMessage(), containsString("not a multiple of 2 channels"));
  }
}
