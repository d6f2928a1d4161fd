package io.ainative.benchmarks;

import io.ainative.multimodal.types.DType;
import io.ainative.multimodal.types.Embedding;
import io.ainative.multimodal.types.Image;
import io.ainative.multimodal.types.ImageFormat;
import io.ainative.multimodal.types.Tensor;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;

/** The benchmark payloads, generated deterministically (nothing is downloaded). */
final class Payloads {
  /** Payload kinds, also the JMH {@code @Param} values. */
  static final String TENSOR = "tensor_224x224x3_u8";

  static final String IMAGE = "image_png_1MiB";
  static final String EMBEDDING = "embedding_16KiB";

  private Payloads() {}

  static Tensor tensor(int seed) {
    byte[] px = new byte[224 * 224 * 3];
    new SplittableRandom(seed).nextBytes(px);
    return Tensor.wrap(DType.UINT8, new long[] {224, 224, 3}, ByteBuffer.wrap(px));
  }

  /** A PNG of noise (so it does not compress) of about 1 MiB. */
  static Image image(int seed) {
    byte[] px = new byte[592 * 592 * 3];
    new SplittableRandom(seed).nextBytes(px);
    return Image.encode(
        Tensor.wrap(DType.UINT8, new long[] {592, 592, 3}, ByteBuffer.wrap(px)), ImageFormat.PNG);
  }

  /** 4096 float32 values: 16 KiB. */
  static Embedding embedding(int seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] v = new float[4096];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) r.nextDouble(-1, 1);
    }
    return Embedding.of(v, "bench-model");
  }

  /** The payload bytes of one element of a kind (what MB/s is computed from). */
  static long payloadBytes(String kind) {
    switch (kind) {
      case TENSOR:
        return 224 * 224 * 3;
      case IMAGE:
        return image(0).encodedSize();
      case EMBEDDING:
        return 4096 * 4;
      default:
        throw new IllegalArgumentException("unknown payload kind " + kind);
    }
  }
}
