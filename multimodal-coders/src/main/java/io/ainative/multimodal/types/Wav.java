package io.ainative.multimodal.types;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/** RIFF/WAVE reading and writing for {@link Audio}. */
final class Wav {
  private static final int FORMAT_PCM = 1;
  private static final int FORMAT_FLOAT = 3;
  private static final int FORMAT_EXTENSIBLE = 0xFFFE;

  private Wav() {}

  static Audio read(byte[] wav) {
    ByteBuffer b = ByteBuffer.wrap(wav).order(ByteOrder.LITTLE_ENDIAN);
    if (wav.length < 12 || b.getInt(0) != fourCc("RIFF") || b.getInt(8) != fourCc("WAVE")) {
      throw bad(wav, "missing the RIFF/WAVE header");
    }
    int format = -1;
    int channels = 0;
    int sampleRate = 0;
    int bits = 0;
    int dataAt = -1;
    int dataLen = 0;
    int pos = 12;
    while (pos + 8 <= wav.length) {
      int id = b.getInt(pos);
      long len = b.getInt(pos + 4) & 0xFFFFFFFFL;
      int body = pos + 8;
      if (id == fourCc("fmt ")) {
        if (len < 16 || body + len > wav.length) {
          throw bad(wav, "truncated 'fmt ' chunk at byte " + pos);
        }
        format = b.getShort(body) & 0xFFFF;
        channels = b.getShort(body + 2) & 0xFFFF;
        sampleRate = b.getInt(body + 4);
        bits = b.getShort(body + 14) & 0xFFFF;
        if (format == FORMAT_EXTENSIBLE) {
          if (len < 40) {
            throw bad(wav, "WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk of " + len + " bytes, needs 40");
          }
          format = b.getShort(body + 24) & 0xFFFF; // first two bytes of the sub-format GUID
        }
      } else if (id == fourCc("data")) {
        if (body + len > wav.length) {
          throw bad(
              wav,
              "truncated 'data' chunk: declares " + len + " bytes, " + (wav.length - body) + " present");
        }
        dataAt = body;
        dataLen = (int) len;
        break;
      }
      pos = (int) Math.min(Integer.MAX_VALUE, body + len + (len & 1));
    }
    if (format < 0) {
      throw bad(wav, "no 'fmt ' chunk");
    }
    if (dataAt < 0) {
      throw bad(wav, "no 'data' chunk");
    }
    if (channels < 1) {
      throw bad(wav, "channels = " + channels);
    }
    if (sampleRate <= 0) {
      throw bad(wav, "sample_rate = " + sampleRate);
    }
    boolean supported =
        (format == FORMAT_PCM && (bits == 8 || bits == 16 || bits == 24 || bits == 32))
            || (format == FORMAT_FLOAT && (bits == 32 || bits == 64));
    if (!supported) {
      throw bad(wav, "unsupported sample format " + format + " with " + bits + " bits");
    }
    int bytesPerSample = bits / 8;
    int frameBytes = bytesPerSample * channels;
    if (dataLen % frameBytes != 0) {
      throw bad(wav, "'data' chunk of " + dataLen + " bytes is not whole frames of " + frameBytes);
    }
    int n = dataLen / bytesPerSample;
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      int at = dataAt + i * bytesPerSample;
      out[i] = sample(b, at, format, bits);
    }
    return Audio.of(sampleRate, channels, out);
  }

  private static float sample(ByteBuffer b, int at, int format, int bits) {
    if (format == FORMAT_FLOAT) {
      return bits == 32 ? b.getFloat(at) : (float) b.getDouble(at);
    }
    switch (bits) {
      case 8:
        return ((b.get(at) & 0xFF) - 128) / 128f;
      case 16:
        return b.getShort(at) / 32768f;
      case 24:
        int v = (b.get(at) & 0xFF) | ((b.get(at + 1) & 0xFF) << 8) | (b.get(at + 2) << 16);
        return v / 8388608f;
      default:
        return (float) (b.getInt(at) / 2147483648.0);
    }
  }

  static byte[] write(Audio audio, Audio.WavEncoding encoding) {
    boolean pcm = encoding == Audio.WavEncoding.PCM_16;
    int bytesPerSample = pcm ? 2 : 4;
    long n = audio.samples().numElements();
    long dataLen = n * bytesPerSample;
    if (dataLen > Integer.MAX_VALUE - 64) {
      throw new IllegalArgumentException(audio + " is too long for a WAV file");
    }
    ByteBuffer out = Audio.littleEndian(44 + (int) dataLen);
    out.putInt(fourCc("RIFF")).putInt(36 + (int) dataLen).putInt(fourCc("WAVE"));
    out.putInt(fourCc("fmt ")).putInt(16);
    out.putShort((short) (pcm ? FORMAT_PCM : FORMAT_FLOAT));
    out.putShort((short) audio.channels());
    out.putInt(audio.sampleRate());
    out.putInt(audio.sampleRate() * audio.channels() * bytesPerSample);
    out.putShort((short) (audio.channels() * bytesPerSample));
    out.putShort((short) (bytesPerSample * 8));
    out.putInt(fourCc("data")).putInt((int) dataLen);
    FloatBuffer in = audio.samples().asFloatBuffer();
    while (in.hasRemaining()) {
      float f = in.get();
      if (pcm) {
        float c = Math.max(-1f, Math.min(1f, f));
        out.putShort((short) Math.max(-32768, Math.min(32767, Math.round(c * 32768f))));
      } else {
        out.putFloat(f);
      }
    }
    return out.array();
  }

  private static int fourCc(String s) {
    return s.charAt(0) | (s.charAt(1) << 8) | (s.charAt(2) << 16) | (s.charAt(3) << 24);
  }

  private static IllegalArgumentException bad(byte[] wav, String why) {
    return new IllegalArgumentException("invalid WAV (" + wav.length + " bytes): " + why);
  }
}
