package io.ainative.transforms.images;

import io.ainative.multimodal.types.ImageFormat;
import java.util.Locale;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Tells an image's format from its first bytes (its magic number), not from the file's name, and
 * says in words why content that is not PNG or JPEG cannot be read.
 */
final class FormatDetector {
  private static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

  private FormatDetector() {}

  /** PNG or JPEG by content; null for anything else. */
  static @Nullable ImageFormat detect(byte[] b) {
    if (startsWith(b, PNG)) {
      return ImageFormat.PNG;
    }
    if (b.length >= 3 && (b[0] & 0xFF) == 0xFF && (b[1] & 0xFF) == 0xD8 && (b[2] & 0xFF) == 0xFF) {
      return ImageFormat.JPEG;
    }
    return null;
  }

  /** Why {@code b}, read from {@code fileName}, is not a PNG or JPEG image. */
  static String whyUnsupported(byte[] b, String fileName) {
    if (b.length == 0) {
      return "empty file (0 bytes), not a PNG or JPEG image";
    }
    String other = otherImageFormat(b);
    if (other != null) {
      return "unsupported image format " + other + " (from the content); ReadImages reads PNG and JPEG";
    }
    String lower = fileName.toLowerCase(Locale.ROOT);
    boolean namedAsImage =
        lower.endsWith(".png") || lower.endsWith(".jpg") || lower.endsWith(".jpeg");
    return "not a PNG or JPEG image: the content starts with "
        + hex(b, 8)
        + (namedAsImage ? ", although the file name says it is one" : "");
  }

  /** Common image formats that ReadImages does not read, so the reason can name them. */
  private static @Nullable String otherImageFormat(byte[] b) {
    if (startsWith(b, ascii("GIF87a")) || startsWith(b, ascii("GIF89a"))) {
      return "GIF";
    }
    if (startsWith(b, ascii("BM"))) {
      return "BMP";
    }
    if (startsWith(b, ascii("RIFF")) && b.length >= 12 && regionIs(b, 8, ascii("WEBP"))) {
      return "WebP";
    }
    if (startsWith(b, new byte[] {'I', 'I', 42, 0}) || startsWith(b, new byte[] {'M', 'M', 0, 42})) {
      return "TIFF";
    }
    if (b.length >= 12 && regionIs(b, 4, ascii("ftyp"))) {
      return "HEIF/AVIF (ISO media)";
    }
    return null;
  }

  private static boolean startsWith(byte[] b, byte[] prefix) {
    return b.length >= prefix.length && regionIs(b, 0, prefix);
  }

  private static boolean regionIs(byte[] b, int at, byte[] expected) {
    for (int i = 0; i < expected.length; i++) {
      if (b[at + i] != expected[i]) {
        return false;
      }
    }
    return true;
  }

  private static byte[] ascii(String s) {
    return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  }

  private static String hex(byte[] b, int max) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < Math.min(b.length, max); i++) {
      if (i > 0) {
        s.append(' ');
      }
      s.append(String.format("%02x", b[i] & 0xFF));
    }
    return s.toString();
  }
}
