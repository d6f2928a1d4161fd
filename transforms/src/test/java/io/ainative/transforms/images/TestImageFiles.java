package io.ainative.transforms.images;

import io.ainative.multimodal.types.DType;
import io.ainative.multimodal.types.Image;
import io.ainative.multimodal.types.ImageFormat;
import io.ainative.multimodal.types.Tensor;
import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.util.Arrays;

/** Images made in the test (encoded by javax.imageio through {@link Image#encode}), no downloads. */
final class TestImageFiles {
  private TestImageFiles() {}

  /** An image of {@code h x w} pixels, every one {@code pixel} (1, 3 or 4 samples). */
  static Image solid(int h, int w, ImageFormat format, int... pixel) {
    byte[] px = new byte[h * w * pixel.length];
    for (int i = 0; i < px.length; i++) {
      px[i] = (byte) pixel[i % pixel.length];
    }
    return pixels(h, w, pixel.length, format, px);
  }

  /** An image of {@code h x w x c} with the given samples, row-major. */
  static Image of(int h, int w, int c, ImageFormat format, int... samples) {
    byte[] px = new byte[samples.length];
    for (int i = 0; i < px.length; i++) {
      px[i] = (byte) samples[i];
    }
    return pixels(h, w, c, format, px);
  }

  private static Image pixels(int h, int w, int c, ImageFormat format, byte[] px) {
    return Image.encode(Tensor.wrap(DType.UINT8, new long[] {h, w, c}, ByteBuffer.wrap(px)), format);
  }

  /** A PNG whose chunks are whole but whose pixel data (IDAT) does not inflate. */
  static byte[] pngWithCorruptPixelData(Image png) {
    byte[] b = png.toByteArray();
    for (int pos = 8; pos + 8 <= b.length; ) {
      int len = ByteBuffer.wrap(b, pos, 4).getInt(); // big-endian, as PNG is
      if (b[pos + 4] == 'I' && b[pos + 5] == 'D' && b[pos + 6] == 'A' && b[pos + 7] == 'T') {
        Arrays.fill(b, pos + 8, pos + 8 + len, (byte) 0xFF); // not a zlib stream
        return b;
      }
      pos += 12 + len;
    }
    throw new IllegalStateException("no IDAT chunk in " + png);
  }

  static File write(File dir, String name, Image image) throws IOException {
    return write(dir, name, image.toByteArray());
  }

  static File write(File dir, String name, byte[] bytes) throws IOException {
    File f = new File(dir, name);
    Files.write(f.toPath(), bytes);
    return f;
  }
}
