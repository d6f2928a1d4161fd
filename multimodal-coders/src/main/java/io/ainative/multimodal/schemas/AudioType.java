package io.ainative.multimodal.schemas;

import io.ainative.multimodal.types.Audio;
import io.ainative.multimodal.types.DType;
import io.ainative.multimodal.types.Tensor;
import java.nio.ByteBuffer;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;

/**
 * Beam logical type for {@link Audio}: URN {@value #IDENTIFIER}, no argument.
 *
 * <p>Base representation: {@code ROW<sample_rate: INT32, channels: INT32, samples: BYTES>}, where
 * {@code samples} is interleaved float32 little-endian PCM ({@code numpy.frombuffer(samples,
 * '<f4').reshape(-1, channels)}).
 */
public final class AudioType extends FixedRowLogicalType<Audio> {
  public static final String IDENTIFIER = "beam:logical_type:ainative:audio:v1";

  public static final Schema BASE_SCHEMA =
      Schema.builder()
          .addInt32Field("sample_rate")
          .addInt32Field("channels")
          .addByteArrayField("samples")
          .build();

  private static final long serialVersionUID = 1L;

  public AudioType() {
    super(IDENTIFIER, BASE_SCHEMA);
  }

  @Override
  public Row toBaseType(Audio input) {
    return Row.withSchema(BASE_SCHEMA)
        .addValues(input.sampleRate(), input.channels(), input.samples().toByteArray())
        .build();
  }

  @Override
  public Audio toInputType(Row base) {
    return fromParts(base.getInt32("sample_rate"), base.getInt32("channels"), base.getBytes("samples"));
  }

  /**
   * Builds audio from its base fields.
   *
   * @throws IllegalArgumentException naming the field when one is null or inconsistent
   */
  static Audio fromParts(Integer sampleRate, Integer channels, byte[] samples) {
    if (sampleRate == null || channels == null || samples == null) {
      throw new IllegalArgumentException("audio sample_rate, channels and samples must be non-null");
    }
    if (channels < 1) {
      throw new IllegalArgumentException("audio channels must be >= 1, got " + channels);
    }
    long frameBytes = 4L * channels;
    if (samples.length % frameBytes != 0) {
      throw new IllegalArgumentException(
          "audio samples has "
              + samples.length
              + " bytes, not whole float32 frames of "
              + channels
              + " channels");
    }
    Tensor t =
        Tensor.wrap(
            DType.FLOAT32,
            new long[] {samples.length / frameBytes, channels},
            ByteBuffer.wrap(samples));
    return Audio.of(sampleRate, t);
  }
}
