package io.ainative.multimodal.coders;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.Assert.assertThrows;

import io.ainative.multimodal.testing.CoderContract;
import io.ainative.multimodal.testing.TestImages;
import io.ainative.multimodal.types.Image;
import io.ainative.multimodal.types.ImageFormat;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.HexFormat;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.util.VarInt;
import org.junit.Test;

public class ImageCoderTest extends CoderContract<Image> {
  /** A 2x2 RGB PNG (red, green / blue, white) written by ImageIO once and checked in. */
  static final String PNG_2X2_HEX = "89504e470d0a1a0a0000000d4948445200000002000000020802000000fdd49a730000001249444154785e63f8cfc0c000c20cff8100001fee05fb382f56500000000049454e44ae426082";

  @Override
  protected Coder<Image> coder() {
    return ImageCoder.of();
  }

  @Override
  protected List<Image> samples() {
    return List.of(
        goldenValue(),
        Image.encode(TestImages.pattern(32, 48, 3, 1), ImageFormat.PNG),
        Image.encode(TestImages.pattern(16, 16, 4, 2), ImageFormat.PNG),
        Image.encode(TestImages.pattern(40, 24, 3, 3), ImageFormat.JPEG),
        Image.encode(TestImages.pattern(8, 8, 1, 4), ImageFormat.JPEG));
  }

  @Override
  protected Image goldenValue() {
    return Image.of(ImageFormat.PNG, HexFormat.of().parseHex(PNG_2X2_HEX));
  }

  @Override
  protected String goldenHex() {
    return "0101" + "4b" + PNG_2X2_HEX;
  }

  @Test
  public void decode_rejectsTruncatedImage_namingTheField() throws Exception {
    byte[] png = HexFormat.of().parseHex(PNG_2X2_HEX);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(1);
    out.write(ImageFormat.PNG.code());
    VarInt.encode(png.length - 20, out);
    out.write(png, 0, png.length - 20);
    CoderException e =
        assertThrows(
            CoderException.class,
            () -> ImageCoder.of().decode(new ByteArrayInputStream(out.toByteArray())));
    assertThat(e.getMessage(), containsString("image.encoded: invalid png image"));
    assertThat(e.getMessage(), containsString("truncated"));
  }

  @Test
  public void decode_rejectsUnknownFormatCode() {
    CoderException e =
        assertThrows(
            CoderException.class,
            () -> ImageCoder.of().decode(new ByteArrayInputStream(new byte[] {1, 7, 0})));
    assertThat(e.getMessage(), containsString("image.format: unknown image format code 7"));
  }
}
