package io.ainative.transforms.images;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.ainative.multimodal.types.Image;
import io.ainative.multimodal.types.ImageFormat;
import io.ainative.multimodal.types.Tensor;
import io.ainative.transforms.images.ImagePreprocessing.ChannelOrder;
import io.ainative.transforms.images.ImagePreprocessing.Layout;
import java.util.Arrays;
import org.apache.beam.sdk.util.SerializableUtils;
import org.junit.Test;

/**
 * Exact values of {@link ImagePreprocessing} on hand-made images. PNG is lossless, so the decoded
 * samples are the ones written; every expected value is exact in float32.
 */
public class ImagePreprocessingTest {
  /** 2x2 RGB: (10,20,30) (40,50,60) / (70,80,90) (100,110,120). */
  private static final Image RGB_2X2 =
      TestImageFiles.of(2, 2, 3, ImageFormat.PNG, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120);

  /** Raw sample values: scale 1. */
  private static final ImagePreprocessing RAW = ImagePreprocessing.create().withScale(1f);

  private static float[] values(ImagePreprocessing pre, Image image) {
    Tensor t = pre.toTensor(image);
    float[] out = new float[(int) t.numElements()];
    t.asFloatBuffer().get(out);
    return out;
  }

  private static long[] shape(ImagePreprocessing pre, Image image) {
    return pre.toTensor(image).shape();
  }

  @Test
  public void defaults_areChwRgb_scaledBy1Over255() {
    ImagePreprocessing pre = ImagePreprocessing.create();
    float s = 1f / 255f;

    assertArrayEquals(new long[] {3, 2, 2}, shape(pre, RGB_2X2));
    assertArrayEquals(
        new float[] {
          10 * s, 40 * s, 70 * s, 100 * s, 20 * s, 50 * s, 80 * s, 110 * s, 30 * s, 60 * s, 90 * s,
          120 * s
        },
        values(pre, RGB_2X2),
        0f);
  }

  @Test
  public void scale_multipliesEverySample() {
    assertArrayEquals(
        new float[] {5, 20, 35, 50, 10, 25, 40, 55, 15, 30, 45, 60},
        values(ImagePreprocessing.create().withScale(0.5f), RGB_2X2),
        0f);
  }

  @Test
  public void hwcLayout_keepsEachPixelsChannelsTogether() {
    ImagePreprocessing pre = RAW.withLayout(Layout.HWC);

    assertArrayEquals(new long[] {2, 2, 3}, shape(pre, RGB_2X2));
    assertArrayEquals(
        new float[] {10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120}, values(pre, RGB_2X2), 0f);
  }

  @Test
  public void bgr_putsBlueFirst_inBothLayouts() {
    assertArrayEquals(
        new float[] {30, 60, 90, 120, 20, 50, 80, 110, 10, 40, 70, 100},
        values(RAW.withChannelOrder(ChannelOrder.BGR), RGB_2X2),
        0f);
    assertArrayEquals(
        new float[] {30, 20, 10, 60, 50, 40, 90, 80, 70, 120, 110, 100},
        values(RAW.withChannelOrder(ChannelOrder.BGR).withLayout(Layout.HWC), RGB_2X2),
        0f);
  }

  @Test
  public void meanAndStd_normalizeEachOutputChannel_afterScaling() {
    ImagePreprocessing pre =
        ImagePreprocessing.create()
            .withScale(2f)
            .withNormalization(new float[] {20, 40, 60}, new float[] {4, 8, 10});

    // (2v - mean) / std
    assertArrayEquals(
        new float[] {0, 15, 30, 45, 0, 7.5f, 15, 22.5f, 0, 6, 12, 18}, values(pre, RGB_2X2), 0f);
  }

  @Test
  public void oneMeanAndStd_applyToEveryChannel() {
    ImagePreprocessing pre = RAW.withNormalization(new float[] {10}, new float[] {2});

    assertArrayEquals(
        new float[] {0, 15, 30, 45, 5, 20, 35, 50, 10, 25, 40, 55}, values(pre, RGB_2X2), 0f);
  }

  @Test
  public void grayImage_becomesRgb_byRepeatingItsSample() {
    Image gray = TestImageFiles.of(1, 2, 1, ImageFormat.PNG, 0, 200);

    assertArrayEquals(new float[] {0, 200, 0, 200, 0, 200}, values(RAW, gray), 0f);
  }

  @Test
  public void rgbImage_becomesGray_byRoundedBt601Luma() {
    Image colors =
        TestImageFiles.of(1, 4, 3, ImageFormat.PNG, 255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255);

    // (299 R + 587 G + 114 B + 500) / 1000
    assertArrayEquals(new float[] {76, 150, 29, 255}, values(RAW.withChannels(1), colors), 0f);
  }

  @Test
  public void alpha_isDropped() {
    Image rgba = TestImageFiles.of(1, 1, 4, ImageFormat.PNG, 1, 2, 3, 4);

    assertArrayEquals(new float[] {1, 2, 3}, values(RAW, rgba), 0f);
    // (299 + 1174 + 342 + 500) / 1000
    assertArrayEquals(new float[] {2}, values(RAW.withChannels(1), rgba), 0f);
  }

  @Test
  public void resize_ofAConstantImage_keepsTheConstant() {
    Image constant = TestImageFiles.solid(3, 5, ImageFormat.PNG, 7, 77, 177);

    float[] out = values(RAW.withResize(4, 4), constant);

    float[] expected = new float[48];
    Arrays.fill(expected, 0, 16, 7);
    Arrays.fill(expected, 16, 32, 77);
    Arrays.fill(expected, 32, 48, 177);
    assertArrayEquals(expected, out, 0f);
  }

  @Test
  public void resize_isBilinearWithHalfPixelCenters() {
    Image ramp = TestImageFiles.of(1, 2, 1, ImageFormat.PNG, 0, 100);

    // source x = (x + 0.5) * 2 / 4 - 0.5, clamped: 0, 0.25, 0.75, 1 -> as torch align_corners=False
    assertArrayEquals(
        new float[] {0, 25, 75, 100}, values(RAW.withChannels(1).withResize(1, 4), ramp), 0f);
    // shrinking 2x2 to 1x1 samples the center: the mean of the four
    assertArrayEquals(new float[] {55, 65, 75}, values(RAW.withResize(1, 1), RGB_2X2), 0f);
  }

  @Test
  public void resize_thenLayoutAndNormalization_applyToTheResizedPixels() {
    ImagePreprocessing pre =
        RAW.withResize(1, 1).withLayout(Layout.HWC).withChannelOrder(ChannelOrder.BGR)
            .withNormalization(new float[] {5, 5, 5}, new float[] {10, 10, 10});

    assertArrayEquals(new long[] {1, 1, 3}, shape(pre, RGB_2X2));
    assertArrayEquals(new float[] {7, 6, 5}, values(pre, RGB_2X2), 0f);
  }

  @Test
  public void wrongChannelCount_withoutConversion_namesExpectedAndActualShape() {
    Image rgba = TestImageFiles.solid(2, 3, ImageFormat.PNG, 1, 2, 3, 4);
    ImagePreprocessing strict = ImagePreprocessing.create().withChannelConversion(false);

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> strict.toTensor(rgba));

    assertThat(
        e.getMessage(),
        allOf(
            containsString("shape [2, 3, 4] (height, width, channels)"),
            containsString("expected [*, *, 3]")));
  }

  @Test
  public void wrongSize_withoutResize_namesExpectedAndActualShape() {
    ImagePreprocessing sized = ImagePreprocessing.create().withRequiredSize(4, 4);

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> sized.toTensor(RGB_2X2));

    assertThat(
        e.getMessage(), allOf(containsString("shape [2, 2, 3]"), containsString("expected [4, 4, *]")));
    assertArrayEquals(
        new long[] {3, 4, 4}, shape(sized, TestImageFiles.solid(4, 4, ImageFormat.PNG, 1, 2, 3)));
  }

  @Test
  public void corruptPixelData_isAnIllegalArgumentException() {
    Image bad = Image.wrap(ImageFormat.PNG, TestImageFiles.pngWithCorruptPixelData(RGB_2X2));

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ImagePreprocessing.create().toTensor(bad));

    assertThat(e.getMessage(), containsString("cannot decode"));
  }

  @Test
  public void apply_givesOneFloat32Array_withTheSameValues_andSurvivesSerialization() throws Exception {
    ImagePreprocessing pre =
        SerializableUtils.clone(RAW.withNormalization(new float[] {10}, new float[] {2}));

    try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
      NDList list = pre.apply(manager, RGB_2X2);
      NDArray array = list.singletonOrThrow();
      assertEquals(DataType.FLOAT32, array.getDataType());
      assertEquals(new Shape(3, 2, 2), array.getShape());
      assertArrayEquals(values(pre, RGB_2X2), array.toFloatArray(), 0f);
    }
  }

  @Test
  public void batch_stacksEachImagesValues_inOneArray_andRefusesMixedShapesNamingThem() throws Exception {
    Image other = TestImageFiles.solid(2, 2, ImageFormat.PNG, 1, 2, 3);
    ImagePreprocessing pre = SerializableUtils.clone(RAW);
    float[] expected = new float[24];
    System.arraycopy(values(pre, RGB_2X2), 0, expected, 0, 12);
    System.arraycopy(values(pre, other), 0, expected, 12, 12);

    try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
      NDArray batch = pre.batch().apply(manager, Arrays.asList(RGB_2X2, other)).singletonOrThrow();
      assertEquals(new Shape(2, 3, 2, 2), batch.getShape());
      assertArrayEquals(expected, batch.toFloatArray(), 0f);

      Image larger = TestImageFiles.solid(3, 2, ImageFormat.PNG, 1, 2, 3);
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> pre.batch().apply(manager, Arrays.asList(RGB_2X2, larger)));
      assertThat(e.getMessage(), allOf(containsString("image 1"), containsString("[3, 3, 2]"), containsString("[3, 2, 2]")));
    }
  }

  @Test
  public void options_areCheckedWhenSet() {
    assertThrows(IllegalArgumentException.class, () -> ImagePreprocessing.create().withChannels(2));
    assertThrows(IllegalArgumentException.class, () -> ImagePreprocessing.create().withResize(0, 4));
    assertThrows(
        IllegalArgumentException.class,
        () -> ImagePreprocessing.create().withNormalization(new float[] {1, 2}, new float[] {1, 2}));
    IllegalArgumentException zeroStd =
        assertThrows(
            IllegalArgumentException.class,
            () -> ImagePreprocessing.create().withNormalization(new float[] {0}, new float[] {0}));
    assertThat(zeroStd.getMessage(), containsString("std[0]"));
    IllegalArgumentException meanForThree =
        assertThrows(
            IllegalArgumentException.class,
            () -> ImagePreprocessing.create()
                .withNormalization(new float[] {1, 2, 3}, new float[] {1})
                .withChannels(1));
    assertThat(meanForThree.getMessage(), containsString("mean has 3 values"));
  }
}
