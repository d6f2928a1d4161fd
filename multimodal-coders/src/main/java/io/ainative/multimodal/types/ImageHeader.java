package io.ainative.multimodal.types;

/**
 * Reads width, height and channel count from PNG and JPEG bytes without decoding pixels, and
 * checks that the container is complete (PNG: chunks up to IEND; JPEG: SOI ... EOI), so a
 * truncated image is rejected when the {@link Image} is made rather than decoded into a partial
 * picture.
 */
final class ImageHeader {
  final int width;
  final int height;
  final int channels;

  private ImageHeader(int width, int height, int channels) {
    this.width = width;
    this.height = height;
    this.channels = channels;
  }

  static ImageHeader parse(ImageFormat format, byte[] b) {
    switch (format) {
      case PNG:
        return parsePng(b);
      case JPEG:
        return parseJpeg(b);
      default:
        throw new AssertionError(format);
    }
  }

  private static final byte[] PNG_SIGNATURE = {
    (byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'
  };

  private static ImageHeader parsePng(byte[] b) {
    if (b.length < 8 + 8 + 13 + 4) {
      throw invalid("png", b, "shorter than a PNG header");
    }
    for (int i = 0; i < 8; i++) {
      if (b[i] != PNG_SIGNATURE[i]) {
        throw invalid("png", b, "missing the PNG signature");
      }
    }
    if (int32(b, 8) != 13 || !type(b, 12, "IHDR")) {
      throw invalid("png", b, "first chunk is not IHDR");
    }
    long width = int32(b, 16) & 0xFFFFFFFFL;
    long height = int32(b, 20) & 0xFFFFFFFFL;
    int colorType = b[25] & 0xFF;
    int channels;
    switch (colorType) {
      case 0:
        channels = 1;
        break;
      case 2:
      case 3:
        channels = 3;
        break;
      case 4:
        channels = 2;
        break;
      case 6:
        channels = 4;
        break;
      default:
        throw invalid("png", b, "unknown PNG color type " + colorType);
    }
    checkSize("png", b, width, height);
    // Walk the chunks to IEND: a PNG cut short anywhere is rejected here.
    long pos = 8;
    boolean sawIdat = false;
    while (true) {
      if (pos + 12 > b.length) {
        throw invalid("png", b, "truncated: chunk header at byte " + pos + " is past the end");
      }
      long len = int32(b, (int) pos) & 0xFFFFFFFFL;
      int typeAt = (int) pos + 4;
      long next = pos + 12 + len;
      if (next > b.length) {
        throw invalid(
            "png", b, "truncated: chunk at byte " + pos + " needs " + (next - b.length) + " more bytes");
      }
      if (type(b, typeAt, "IDAT")) {
        sawIdat = true;
      } else if (colorType == 3 && type(b, typeAt, "tRNS")) {
        channels = 4; // palette with transparency decodes to RGBA
      } else if (type(b, typeAt, "IEND")) {
        break;
      }
      pos = next;
    }
    if (!sawIdat) {
      throw invalid("png", b, "no IDAT chunk");
    }
    return new ImageHeader((int) width, (int) height, channels);
  }

  private static ImageHeader parseJpeg(byte[] b) {
    if (b.length < 4 || (b[0] & 0xFF) != 0xFF || (b[1] & 0xFF) != 0xD8) {
      throw invalid("jpeg", b, "missing the JPEG SOI marker");
    }
    int end = b.length;
    while (end > 2 && b[end - 1] == 0) {
      end--; // some writers pad after EOI
    }
    if ((b[end - 2] & 0xFF) != 0xFF || (b[end - 1] & 0xFF) != 0xD9) {
      throw invalid("jpeg", b, "truncated: no EOI marker at the end");
    }
    int pos = 2;
    while (pos + 4 <= end) {
      if ((b[pos] & 0xFF) != 0xFF) {
        throw invalid("jpeg", b, "expected a marker at byte " + pos);
      }
      int marker = b[pos + 1] & 0xFF;
      if (marker == 0xFF) {
        pos++; // fill byte
        continue;
      }
      int len = ((b[pos + 2] & 0xFF) << 8) | (b[pos + 3] & 0xFF);
      boolean sof =
          marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
      if (sof) {
        if (pos + 2 + len > end || len < 8) {
          throw invalid("jpeg", b, "truncated SOF segment at byte " + pos);
        }
        int height = ((b[pos + 5] & 0xFF) << 8) | (b[pos + 6] & 0xFF);
        int width = ((b[pos + 7] & 0xFF) << 8) | (b[pos + 8] & 0xFF);
        int components = b[pos + 9] & 0xFF;
        if (components != 1 && components != 3) {
          throw invalid("jpeg", b, "unsupported JPEG component count " + components);
        }
        checkSize("jpeg", b, width, height);
        return new ImageHeader(width, height, components);
      }
      if (marker == 0xDA || marker == 0xD9) {
        break; // scan or end before any frame header
      }
      pos += 2 + len;
    }
    throw invalid("jpeg", b, "no SOF frame header");
  }

  private static void checkSize(String fmt, byte[] b, long width, long height) {
    if (width <= 0 || height <= 0 || width > 65535 || height > 65535) {
      throw invalid(fmt, b, "unsupported dimensions " + width + "x" + height);
    }
  }

  private static int int32(byte[] b, int at) {
    return ((b[at] & 0xFF) << 24)
        | ((b[at + 1] & 0xFF) << 16)
        | ((b[at + 2] & 0xFF) << 8)
        | (b[at + 3] & 0xFF);
  }

  private static boolean type(byte[] b, int at, String t) {
    return b[at] == t.charAt(0)
        && b[at + 1] == t.charAt(1)
        && b[at + 2] == t.charAt(2)
        && b[at + 3] == t.charAt(3);
  }

  private static IllegalArgumentException invalid(String fmt, byte[] b, String why) {
    return new IllegalArgumentException(
        "invalid " + fmt + " image (" + b.length + " bytes): " + why);
  }
}
