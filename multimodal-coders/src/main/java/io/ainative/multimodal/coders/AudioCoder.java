package io.ainative.multimodal.coders;

import io.ainative.multimodal.internal.Wire;
import io.ainative.multimodal.types.Audio;
import io.ainative.multimodal.types.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.apache.beam.sdk.util.VarInt;

/**
 * Coder for {@link Audio}. Wire format version 1:
 *
 * <pre>
 * u8      version = 1
 * varint  sample rate (Hz)
 * ...     the samples as a {@link TensorCoder} body (no version byte): float32 [frames, channels]
 * </pre>
 */
public final class AudioCoder extends VersionedCoder<Audio> {
  private static final AudioCoder INSTANCE = new AudioCoder();

  private AudioCoder() {
    super("audio", 1);
  }

  public static AudioCoder of() {
    return INSTANCE;
  }

  @Override
  void encodeBody(Audio audio, OutputStream out) throws IOException {
    VarInt.encode(audio.sampleRate(), out);
    TensorCoder.writeBody(audio.samples(), out);
  }

  @Override
  Audio decodeBody(InputStream in) throws IOException {
    int rate = Wire.readVarInt(in, "audio.sample_rate", Integer.MAX_VALUE);
    Tensor samples = TensorCoder.readBody(in, "audio.samples");
    return Audio.of(rate, samples);
  }

  @Override
  long bodySize(Audio audio) {
    return VarInt.getLength(audio.sampleRate()) + TensorCoder.bodySizeOf(audio.samples());
  }
}
