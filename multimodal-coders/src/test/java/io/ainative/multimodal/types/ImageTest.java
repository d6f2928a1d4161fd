package io.ainative.multimodal.types;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.lessThan;
import static org.junit.Assert.assertThrows;

import io.ainative.multimodal.testing.TestImages;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.junit.Test;

public class ImageTest {
  @Test
  public void png_decodesToExactRgbPixels() {
    Tensor pixels = TestImages.pattern(20, 30, 3, 9);
    Image image = Image.encode(pixels, ImageFormat.PNG);
    assertThat(image.decode(), equalTo(pixels));
  }

  @Test
  public void pngWithAlphaAndGray_decodeToFourAndOneChannels() {
    Tensor rgba = TestImages.pattern(10, 12, 4, 1);
    Tensor gray = TestImages.pattern(10, 12, 1, 2);
    assertThat(Image.encode(rgba, ImageFormat.PNG).decode(), equalTo(rgba));
    assertThat(Image.encode(gray, ImageFormat.PNG).decode(), equalTo(gray));
  }

  @Test
  public void header_givesSizeAndChannels_withoutDecoding() {
    Image png = Image.encode(TestImages.pattern(17, 31, 4, 0), ImageFormat.PNG);
    assertThat(Arrays.asList(png.height(), png.width(), png.channels()), equalTo(Arrays.asList(17, 31, 4)));
    Image jpeg = Image.encode(TestImages.pattern(33, 65, 3, 0), ImageFormat.JPEG);
    assertThat(Arrays.asList(jpeg.height(), jpeg.width(), jpeg.channels()), equalTo(Arrays.asList(33, 65, 3)));
  }

  @Test
  public void jpeg_decodesCloseToTheSource() {
    BufferedImage src = new BufferedImage(64, 48, BufferedImage.TYPE_3BYTE_BGR);
    Graphics2D g = src.createGraphics();
    g.setColor(new Color(200, 40, 10));
    g.fillRect(0, 0, 64, 48);
    g.dispose();
    Image jpeg = Image.wrap(ImageFormat.JPEG, write(src, "jpeg"));
    Tensor t = jpeg.decode();
    assertThat(t.shape(), equalTo(new long[] {48, 64, 3}));
    int center = (24 * 64 + 32) * 3;
    assertThat(Math.abs(t.getAsDouble(center) - 200), lessThan(6.0));
    assertThat(Math.abs(t.getAsDouble(center + 1) - 40), lessThan(6.0));
    assertThat(Math.abs(t.getAsDouble(center + 2) - 10), lessThan(6.0));
  }

  @Test
  public void sixteenBitGrayPng_decodesToItsHighByte() {
    BufferedImage src = new BufferedImage(3, 1, BufferedImage.TYPE_USHORT_GRAY);
    src.getRaster().setSample(0, 0, 0, 0);
    src.getRaster().setSample(1, 0, 0, 65535);
    src.getRaster().setSample(2, 0, 0, 32896);
    Image png = Image.wrap(ImageFormat.PNG, write(src, "png"));
    assertThat(png.channels(), equalTo(1));
    assertThat(png.decode().toByteArray(), equalTo(new byte[] {0, (byte) 255, (byte) 128}));
  }

  @Test
  public void truncatedPng_isRejected_whenTheImageIsMade() {
    byte[] png = Image.encode(TestImages.pattern(16, 16, 3, 0), ImageFormat.PNG).toByteArray();
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Image.of(ImageFormat.PNG, Arrays.copyOf(png, png.length - 30)));
    assertThat(e.getMessage(), containsString("invalid png image"));
    assertThat(e.getMessage(), containsString("truncated"));
  }

  @Test
  public void truncatedJpeg_isRejected_insteadOfDecodingToGray() {
    byte[] jpeg = Image.encode(TestImages.pattern(32, 32, 3, 0), ImageFormat.JPEG).toByteArray();
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Image.of(ImageFormat.JPEG, Arrays.copyOf(jpeg, jpeg.length * 2 / 3)));
    assertThat(e.getMessage(), containsString("truncated: no EOI marker"));
  }

  @Test
  public void pngWithCorruptPixelData_failsToDecode_namingTheImage() {
    byte[] png = Image.encode(TestImages.pattern(16, 16, 3, 0), ImageFormat.PNG).toByteArray();
    int idat = indexOf(png, "IDAT".getBytes());
    for (int i = idat + 8; i < idat + 30; i++) {
      png[i] = (byte) 0xA5; // garble the zlib stream, keep the container intact
    }
    Image image = Image.wrap(ImageFormat.PNG, png);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, image::decode);
    assertThat(e.getMessage(), containsString("cannot decode Image{png 16x16x3"));
  }

  @Test
  public void bytesOfAnotherFormat_areRejected() {
    byte[] png = Image.encode(TestImages.pattern(4, 4, 3, 0), ImageFormat.PNG).toByteArray();
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Image.of(ImageFormat.JPEG, png));
    assertThat(e.getMessage(), containsString("missing the JPEG SOI marker"));
  }

  private static byte[] write(BufferedImage img, String format) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ImageIO.write(img, format, out);
      return out.toByteArray();
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i <= hay.length - needle.length; i++) {
      for (int k = 0; k < needle.length; k++) {
        if (hay[i + k] != needle[k]) {
          continue outer;
        }
      }
      return i;
    }
    throw new AssertionError("not found");
  }
}
