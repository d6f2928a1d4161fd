package io.ainative.multimodal.types;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * PCM audio: float32 samples in {@code [-1, 1]} (not clamped), interleaved by channel, and a
 * sample rate. The samples are a {@link Tensor} of shape {@code [frames, channels]}.
 *
 * <p>Immutable and safe to share between threads. Memory follows {@link Tensor}: {@link
 * #of(int, Tensor)} keeps the tensor (a view), {@link #of(int, int, float[])} copies.
 */
public final class Audio {
  private final int sampleRate;
  private final Tensor samples;

  private Audio(int sampleRate, Tensor samples) {
    this.sampleRate = sampleRate;
    this.samples = samples;
  }

  /**
   * Audio from a float32 {@code [frames, channels]} tensor.
   *
   * @throws IllegalArgumentException naming the field when the sample rate is not positive, or the
   *     tensor is not float32 of rank 2 with at least one channel
   */
  public static Audio of(int sampleRate, Tensor samples) {
    Objects.requireNonNull(samples, "samples");
    if (sampleRate <= 0) {
      throw new IllegalArgumentException("audio sample_rate must be > 0, got " + sampleRate);
    }
    if (samples.dtype() != DType.FLOAT32 || samples.rank() != 2 || samples.dim(1) < 1) {
      throw new IllegalArgumentException(
          "audio samples must be float32 [frames, channels >= 1], got " + samples);
    }
    if (samples.dim(1) > 65535) {
      throw new IllegalArgumentException("audio channels " + samples.dim(1) + " exceeds 65535");
    }
    return new Audio(sampleRate, samples);
  }

  /** Audio holding a copy of interleaved samples; {@code interleaved.length} must be a multiple of {@code channels}. */
  public static Audio of(int sampleRate, int channels, float[] interleaved) {
    if (channels < 1) {
      throw new IllegalArgumentException("audio channels must be >= 1, got " + channels);
    }
    if (interleaved.length % channels != 0) {
      throw new IllegalArgumentException(
          "audio has " + interleaved.length + " samples, not a multiple of " + channels + " channels");
    }
    return of(sampleRate, Tensor.ofFloats(new long[] {interleaved.length / channels, channels}, interleaved));
  }

  /**
   * Reads a RIFF/WAVE file: PCM 8, 16, 24 or 32 bit integer, or IEEE float 32/64 bit, also in
   * WAVE_FORMAT_EXTENSIBLE. Integer samples are scaled to {@code [-1, 1)}.
   *
   * @throws IllegalArgumentException naming the chunk or field when the file is truncated or
   *     not a supported WAV
   */
  public static Audio fromWav(byte[] wav) {
    return Wav.read(wav);
  }

  /** Writes a RIFF/WAVE file in the given sample encoding. */
  public byte[] toWav(WavEncoding encoding) {
    return Wav.write(this, encoding);
  }

  /** Sample encodings for {@link #toWav}. */
  public enum WavEncoding {
    /** 16-bit signed integer PCM; samples are clamped to [-1, 1] and rounded. */
    PCM_16,
    /** 32-bit IEEE float; lossless. */
    FLOAT_32
  }

  public int sampleRate() {
    return sampleRate;
  }

  public int channels() {
    return (int) samples.dim(1);
  }

  public long frames() {
    return samples.dim(0);
  }

  public double durationSeconds() {
    return (double) frames() / sampleRate;
  }

  /** The float32 {@code [frames, channels]} samples (a view, no copy). */
  public Tensor samples() {
    return samples;
  }

  /** A copy of the interleaved samples. */
  public float[] toFloatArray() {
    float[] out = new float[Math.toIntExact(samples.numElements())];
    samples.asFloatBuffer().get(out);
    return out;
  }

  static ByteBuffer littleEndian(int bytes) {
    return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Equal when sample rate and every sample's bit pattern are equal. */
  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof Audio)) {
      return false;
    }
    Audio a = (Audio) o;
    return sampleRate == a.sampleRate && samples.equals(a.samples);
  }

  @Override
  public int hashCode() {
    return 31 * sampleRate + samples.hashCode();
  }

  @Override
  public String toString() {
    return "Audio{" + sampleRate + " Hz, " + channels() + " ch, " + frames() + " frames}";
  }
}
