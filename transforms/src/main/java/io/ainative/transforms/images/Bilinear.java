package io.ainative.transforms.images;

/**
 * Bilinear resizing with half-pixel centers ({@code align_corners=False}): output pixel {@code x}
 * samples the source at {@code (x + 0.5) * sourceWidth / width - 0.5}, clamped to the image, and
 * likewise for rows. Each value is {@code a + (b - a) * t} along a row, then between rows, so equal
 * neighbours give exactly their value.
 */
final class Bilinear {
  private Bilinear() {}

  /**
   * @param source {@code [h, w, stride]} bytes
   * @param pick for each output channel, the index of its sample within a source pixel
   * @return {@code [height, width, pick.length]} samples in 0..255
   */
  static float[] resize(byte[] source, int h, int w, int stride, int[] pick, int height, int width) {
    int channels = pick.length;
    int[] x0 = new int[width];
    int[] x1 = new int[width];
    float[] fx = new float[width];
    axis(w, width, x0, x1, fx);
    int[] y0 = new int[height];
    int[] y1 = new int[height];
    float[] fy = new float[height];
    axis(h, height, y0, y1, fy);
    float[] out = new float[height * width * channels];
    int o = 0;
    for (int y = 0; y < height; y++) {
      int top = y0[y] * w;
      int bottom = y1[y] * w;
      float ty = fy[y];
      for (int x = 0; x < width; x++) {
        int a = (top + x0[x]) * stride;
        int b = (top + x1[x]) * stride;
        int c = (bottom + x0[x]) * stride;
        int d = (bottom + x1[x]) * stride;
        float tx = fx[x];
        for (int k = 0; k < channels; k++) {
          int s = pick[k];
          float va = source[a + s] & 0xFF;
          float vb = source[b + s] & 0xFF;
          float vc = source[c + s] & 0xFF;
          float vd = source[d + s] & 0xFF;
          float upper = va + (vb - va) * tx;
          float lower = vc + (vd - vc) * tx;
          out[o++] = upper + (lower - upper) * ty;
        }
      }
    }
    return out;
  }

  /** The two source indices and the weight of the second, for each output index on one axis. */
  private static void axis(int sourceSize, int size, int[] i0, int[] i1, float[] t) {
    double ratio = (double) sourceSize / size;
    for (int i = 0; i < size; i++) {
      double s = Math.max(0, (i + 0.5) * ratio - 0.5);
      int lo = Math.min((int) s, sourceSize - 1);
      i0[i] = lo;
      i1[i] = Math.min(lo + 1, sourceSize - 1);
      t[i] = (float) (s - lo);
    }
  }
}
