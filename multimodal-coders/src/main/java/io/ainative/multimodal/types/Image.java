package io.ainative.multimodal.types;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * An encoded image (PNG or JPEG) with lazy decoding to an {@code H x W x C} {@link DType#UINT8}
 * {@link Tensor}.
 *
 * <p>Width, height and channels come from the container header, read when the image is made; the
 * container is also checked for completeness then (a truncated file is rejected with an {@link
 * IllegalArgumentException}). Pixels are decoded on the first {@link #decode()} and kept; the
 * image is immutable and safe to share between threads (decoding may run twice under a race,
 * with the same result).
 *
 * <p>Channels: 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA). 16-bit PNG samples are reduced to
 * their high byte.
 */
public final class Image {
  private final ImageFormat format;
  private final byte[] encoded; // never modified after construction
  private final ImageHeader header;
  private volatile Tensor decoded;

  private Image(ImageFormat format, byte[] encoded) {
    this.format = Objects.requireNonNull(format, "format");
    this.encoded = Objects.requireNonNull(encoded, "encoded");
    this.header = ImageHeader.parse(format, encoded);
  }

  /** An image holding a copy of {@code encoded}. */
  public static Image of(ImageFormat format, byte[] encoded) {
    return new Image(format, Objects.requireNonNull(encoded, "encoded").clone());
  }

  /**
   * An image that takes ownership of {@code encoded} without a copy: the caller must not modify
   * the array afterwards.
   */
  public static Image wrap(ImageFormat format, byte[] encoded) {
    return new Image(format, encoded);
  }

  /**
   * Encodes an {@code H x W x C} uint8 tensor (C = 1, 3 or 4; JPEG has no alpha, so 1 or 3).
   *
   * @throws IllegalArgumentException naming the dtype or shape when the tensor is not an image
   */
  public static Image encode(Tensor pixels, ImageFormat format) {
    if (pixels.dtype() != DType.UINT8 || pixels.rank() != 3) {
      throw new IllegalArgumentException(
          "image pixels must be uint8 [H, W, C], got " + pixels);
    }
    int h = Math.toIntExact(pixels.dim(0));
    int w = Math.toIntExact(pixels.dim(1));
    int c = Math.toIntExact(pixels.dim(2));
    int type;
    if (c == 1) {
      type = BufferedImage.TYPE_BYTE_GRAY;
    } else if (c == 3) {
      type = BufferedImage.TYPE_3BYTE_BGR;
    } else if (c == 4 && format == ImageFormat.PNG) {
      type = BufferedImage.TYPE_4BYTE_ABGR;
    } else {
      throw new IllegalArgumentException(
          "cannot encode " + c + " channels as " + format.typeName());
    }
    BufferedImage img = new BufferedImage(w, h, type);
    byte[] dst = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
    ByteBuffer src = pixels.data();
    for (int p = 0; p < h * w; p++) {
      int o = p * c;
      if (c == 1) {
        dst[o] = src.get(o);
      } else if (c == 3) {
        dst[o] = src.get(o + 2);
        dst[o + 1] = src.get(o + 1);
        dst[o + 2] = src.get(o);
      } else {
        dst[o] = src.get(o + 3);
        dst[o + 1] = src.get(o + 2);
        dst[o + 2] = src.get(o + 1);
        dst[o + 3] = src.get(o);
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      if (!ImageIO.write(img, format.typeName(), out)) {
        throw new IllegalStateException("no ImageIO writer for " + format.typeName());
      }
    } catch (IOException e) {
      throw new IllegalStateException("encoding " + pixels + " as " + format.typeName(), e);
    }
    return wrap(format, out.toByteArray());
  }

  public ImageFormat format() {
    return format;
  }

  public int width() {
    return header.width;
  }

  public int height() {
    return header.height;
  }

  public int channels() {
    return header.channels;
  }

  public int encodedSize() {
    return encoded.length;
  }

  /** A read-only view of the encoded bytes; no copy. */
  public ByteBuffer encoded() {
    return ByteBuffer.wrap(encoded).asReadOnlyBuffer();
  }

  /** A copy of the encoded bytes. */
  public byte[] toByteArray() {
    return encoded.clone();
  }

  /** Writes the encoded bytes to {@code out} without an intermediate copy. */
  public void writeEncodedTo(OutputStream out) throws IOException {
    out.write(encoded);
  }

  /**
   * The pixels as an {@code [height, width, channels]} uint8 tensor, decoded once.
   *
   * @throws IllegalArgumentException when the bytes cannot be decoded (corrupt data); the
   *     message names the image's format and size
   */
  public Tensor decode() {
    Tensor t = decoded;
    if (t == null) {
      t = decodePixels();
      decoded = t;
    }
    return t;
  }

  private Tensor decodePixels() {
    BufferedImage img;
    List<String> warnings = new ArrayList<>();
    try (MemoryCacheImageInputStream in =
        new MemoryCacheImageInputStream(new ByteArrayInputStream(encoded))) {
      Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(format.typeName());
      if (!readers.hasNext()) {
        throw new IllegalStateException("no ImageIO reader for " + format.typeName());
      }
      ImageReader reader = readers.next();
      try {
        reader.setInput(in, true, true);
        // The JPEG reader reports corrupt data as a warning and returns gray pixels.
        reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
        img = reader.read(0);
      } finally {
        reader.dispose();
      }
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("cannot decode " + this + ": " + e.getMessage(), e);
    }
    if (!warnings.isEmpty()) {
      throw new IllegalArgumentException("cannot decode " + this + ": " + warnings);
    }
    if (img.getWidth() != header.width || img.getHeight() != header.height) {
      throw new IllegalArgumentException(
          "decoded " + img.getWidth() + "x" + img.getHeight() + " pixels from " + this);
    }
    return Tensor.wrap(
        DType.UINT8,
        new long[] {header.height, header.width, header.channels},
        ByteBuffer.wrap(toHwc(img, header.channels)));
  }

  private static byte[] toHwc(BufferedImage img, int c) {
    int w = img.getWidth();
    int h = img.getHeight();
    byte[] out = new byte[w * h * c];
    int type = img.getType();
    if (type == BufferedImage.TYPE_3BYTE_BGR && c == 3) {
      byte[] bgr = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
      for (int i = 0; i < out.length; i += 3) {
        out[i] = bgr[i + 2];
        out[i + 1] = bgr[i + 1];
        out[i + 2] = bgr[i];
      }
      return out;
    }
    if (type == BufferedImage.TYPE_4BYTE_ABGR && c == 4) {
      byte[] abgr = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
      for (int i = 0; i < out.length; i += 4) {
        out[i] = abgr[i + 3];
        out[i + 1] = abgr[i + 2];
        out[i + 2] = abgr[i + 1];
        out[i + 3] = abgr[i];
      }
      return out;
    }
    if (type == BufferedImage.TYPE_BYTE_GRAY && c == 1) {
      byte[] g = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
      System.arraycopy(g, 0, out, 0, out.length);
      return out;
    }
    Raster raster = img.getRaster();
    if (!(img.getColorModel() instanceof IndexColorModel)
        && raster.getNumBands() == c
        && uniformSampleSize(raster) <= 16) {
      int bits = uniformSampleSize(raster);
      int max = (1 << bits) - 1;
      int[] px = new int[c];
      int o = 0;
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          raster.getPixel(x, y, px);
          for (int k = 0; k < c; k++) {
            out[o++] = (byte) (bits == 8 ? px[k] : (px[k] * 255 + max / 2) / max);
          }
        }
      }
      return out;
    }
    // Palettes and packed layouts: go through sRGB.
    int o = 0;
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int argb = img.getRGB(x, y);
        int a = argb >>> 24;
        int r = (argb >> 16) & 0xFF;
        int g = (argb >> 8) & 0xFF;
        int b = argb & 0xFF;
        switch (c) {
          case 1:
            out[o++] = (byte) r;
            break;
          case 2:
            out[o++] = (byte) r;
            out[o++] = (byte) a;
            break;
          case 3:
            out[o++] = (byte) r;
            out[o++] = (byte) g;
            out[o++] = (byte) b;
            break;
          default:
            out[o++] = (byte) r;
            out[o++] = (byte) g;
            out[o++] = (byte) b;
            out[o++] = (byte) a;
        }
      }
    }
    return out;
  }

  private static int uniformSampleSize(Raster raster) {
    int[] sizes = raster.getSampleModel().getSampleSize();
    for (int s : sizes) {
      if (s != sizes[0]) {
        return Integer.MAX_VALUE;
      }
    }
    return sizes[0];
  }

  /** Equal when format and encoded bytes are equal. */
  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof Image)) {
      return false;
    }
    Image i = (Image) o;
    return format == i.format && Arrays.equals(encoded, i.encoded);
  }

  @Override
  public int hashCode() {
    return 31 * format.hashCode() + Arrays.hashCode(encoded);
  }

  @Override
  public String toString() {
    return "Image{"
        + format.typeName()
        + " "
        + header.width
        + "x"
        + header.height
        + "x"
        + header.channels
        + ", "
        + encoded.length
        + " bytes}";
  }
}
