package io.ainative.multimodal.testing;

import io.ainative.multimodal.types.DType;
import io.ainative.multimodal.types.Tensor;
import java.nio.ByteBuffer;

/** Deterministic pixel tensors for tests (no files, no downloads). */
public final class TestImages {
  private TestImages() {}

  /** An {@code [h, w, c]} uint8 gradient with a square, deterministic for given arguments. */
  public static Tensor pattern(int h, int w, int c, int seed) {
    byte[] px = new byte[h * w * c];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        boolean square = x > w / 4 && x < 3 * w / 4 && y > h / 4 && y < 3 * h / 4;
        for (int k = 0; k < c; k++) {
          int v = square ? 200 + 20 * k : (x * 7 + y * 3 + k * 50 + seed) & 0xFF;
          px[(y * w + x) * c + k] = (byte) v;
        }
      }
    }
    return Tensor.wrap(DType.UINT8, new long[] {h, w, c}, ByteBuffer.wrap(px));
  }
}
