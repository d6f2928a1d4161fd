package io.ainative.multimodal.coders;

import io.ainative.multimodal.internal.Wire;
import io.ainative.multimodal.types.Image;
import io.ainative.multimodal.types.ImageFormat;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.util.VarInt;

/**
 * Coder for {@link Image}; the encoded (PNG/JPEG) bytes travel as they are, pixels are never
 * decoded by the coder. Wire format version 1:
 *
 * <pre>
 * u8      version = 1
 * u8      format code ({@link ImageFormat#code()})
 * varint  byte length
 * bytes   the encoded image
 * </pre>
 *
 * Decoding checks the container header and completeness (a truncated image fails here).
 */
public final class ImageCoder extends VersionedCoder<Image> {
  private static final ImageCoder INSTANCE = new ImageCoder();

  private ImageCoder() {
    super("image", 1);
  }

  public static ImageCoder of() {
    return INSTANCE;
  }

  @Override
  void encodeBody(Image image, OutputStream out) throws IOException {
    out.write(image.format().code());
    VarInt.encode(image.encodedSize(), out);
    image.writeEncodedTo(out);
  }

  @Override
  Image decodeBody(InputStream in) throws IOException {
    int code = Wire.readUnsignedByte(in, "image.format");
    ImageFormat format;
    try {
      format = ImageFormat.fromCode(code);
    } catch (IllegalArgumentException e) {
      throw new CoderException("image.format: " + e.getMessage());
    }
    int len = Wire.readVarInt(in, "image.encoded length", Integer.MAX_VALUE - 8);
    byte[] bytes = Wire.readBytes(in, len, "image.encoded");
    try {
      return Image.wrap(format, bytes);
    } catch (IllegalArgumentException e) {
      throw new CoderException("image.encoded: " + e.getMessage(), e);
    }
  }

  @Override
  long bodySize(Image image) {
    return 1 + VarInt.getLength(image.encodedSize()) + image.encodedSize();
  }
}
