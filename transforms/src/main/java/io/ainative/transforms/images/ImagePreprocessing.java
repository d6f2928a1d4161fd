package io.ainative.transforms.images;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.ainative.multimodal.types.Image;
import io.ainative.multimodal.types.Tensor;
import io.ainative.transforms.ModelSpec;
import java.util.Arrays;
import java.util.Objects;

/**
 * Turns an {@link Image} into the float32 tensor an image model takes, as a {@link
 * ModelSpec.PreProcessFn}: give it to {@code ModelSpec.Builder.setProcessing} as it is.
 *
 * <pre>{@code
 * ImagePreprocessing pre =
 *     ImagePreprocessing.create()                    // 3 channels, RGB, CHW, scale 1/255
 *         .withResize(224, 224)
 *         .withNormalization(
 *             new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f});
 * ModelSpec<Image, String> spec =
 *     ModelSpec.<Image, String>builder()
 *         .setModelUri("/models/classifier")
 *         .setProcessing(pre, TensorProcessing.argMaxLabel(labels))
 *         .build();
 * }</pre>
 *
 * <p>Steps, in this order:
 *
 * <ol>
 *   <li><b>Check</b>, from the image's header before any pixel is decoded: with {@link
 *       #withRequiredSize} the image must be that size, and with channel conversion off its
 *       channel count must be the expected one. Otherwise an {@link IllegalArgumentException}
 *       names the expected and the actual shape; under RunInference that element fails at {@code
 *       pre-process} and the rest of its batch runs.
 *   <li><b>Decode</b> ({@link Image#decode()}; corrupt pixel data is an {@link
 *       IllegalArgumentException} too).
 *   <li><b>Channels</b> (on by default, {@link #withChannelConversion}): alpha is dropped; gray
 *       becomes RGB by repeating it; RGB becomes gray by ITU-R BT.601 luma, {@code (299 R + 587 G +
 *       114 B + 500) / 1000} in integers (PIL's {@code convert("L")}).
 *   <li><b>Channel order</b> RGB (default) or BGR.
 *   <li><b>Resize</b> ({@link #withResize}) to {@code height x width} by bilinear interpolation
 *       with half-pixel centers: PyTorch's {@code interpolate(mode="bilinear",
 *       align_corners=False)} and OpenCV's {@code INTER_LINEAR}, without antialiasing when
 *       shrinking (so it matches torchvision's {@code Resize(antialias=False)}, not PIL's resize).
 *       An image already of that size is not touched. A constant image stays exactly constant.
 *   <li><b>Values</b>: {@code (v * scale - mean[c]) / std[c]} in float32, {@code v} the 0..255
 *       sample, {@code c} the output channel; scale {@code 1/255} by default, mean 0 and std 1 by
 *       default.
 *   <li><b>Layout</b> CHW (default, {@code [channels, height, width]}) or HWC.
 * </ol>
 *
 * <p>The result is one float32 {@code NDArray} in an {@link NDList}, without a batch dimension
 * (RunInference stacks the elements). Images of different sizes cannot be stacked in one batch:
 * give a size ({@link #withResize} or {@link #withRequiredSize}) unless the batch size is 1.
 *
 * <p>Cost: one pass over the decoded bytes into a {@code float[]} through a 256-entry table per
 * channel (plus one pass for gray conversion, and the interpolation when resizing), then one copy
 * into the engine ({@code manager.create(float[], shape)}).
 *
 * <p>Immutable and serializable; every {@code withX} returns a checked copy.
 */
public final class ImagePreprocessing implements ModelSpec.PreProcessFn<Image> {
  private static final long serialVersionUID = 1L;

  /** The order of the color channels in the output (for 3 channels). */
  public enum ChannelOrder {
    RGB,
    BGR
  }

  /** Where the channel dimension is in the output. */
  public enum Layout {
    /** {@code [channels, height, width]}: PyTorch models. */
    CHW,
    /** {@code [height, width, channels]}: TensorFlow-style models. */
    HWC
  }

  private static final int MAX_SIDE = 65535; // the largest image side Image accepts

  private final int channels;
  private final boolean convertChannels;
  private final ChannelOrder order;
  private final Layout layout;
  private final int height; // 0: each image's own size
  private final int width;
  private final boolean resize;
  private final float scale;
  private final float[] mean; // one per output channel
  private final float[] std;
  // (v * scale - mean[c]) / std[c] for every byte value v, per output channel
  private final float[][] table;

  private ImagePreprocessing(
      int channels,
      boolean convertChannels,
      ChannelOrder order,
      Layout layout,
      int height,
      int width,
      boolean resize,
      float scale,
      float[] mean,
      float[] std) {
    this.channels = channels;
    this.convertChannels = convertChannels;
    this.order = order;
    this.layout = layout;
    this.height = height;
    this.width = width;
    this.resize = resize;
    this.scale = scale;
    this.mean = mean;
    this.std = std;
    this.table = new float[channels][256];
    for (int c = 0; c < channels; c++) {
      for (int v = 0; v < 256; v++) {
        table[c][v] = value(v, c);
      }
    }
  }

  /**
   * 3 channels (RGB) with channel conversion on, CHW, each image's own size, scale {@code 1/255},
   * no normalization.
   */
  public static ImagePreprocessing create() {
    return new ImagePreprocessing(
        3, true, ChannelOrder.RGB, Layout.CHW, 0, 0, false, 1f / 255f, new float[] {0f}, new float[] {1f});
  }

  /** The number of output channels: 1 (gray) or 3 (color). Default 3. */
  public ImagePreprocessing withChannels(int outputChannels) {
    if (outputChannels != 1 && outputChannels != 3) {
      throw new IllegalArgumentException(
          "ImagePreprocessing: channels must be 1 (gray) or 3 (color), was " + outputChannels);
    }
    checkPerChannel("mean", mean, outputChannels);
    checkPerChannel("std", std, outputChannels);
    return new ImagePreprocessing(
        outputChannels, convertChannels, order, layout, height, width, resize, scale, mean, std);
  }

  /**
   * Whether an image with another channel count is converted (default true; see the class
   * javadoc) or rejected with an {@link IllegalArgumentException} (false: the image's channel
   * count, alpha included, must equal {@link #withChannels}).
   */
  public ImagePreprocessing withChannelConversion(boolean convert) {
    return new ImagePreprocessing(
        channels, convert, order, layout, height, width, resize, scale, mean, std);
  }

  /** RGB (default) or BGR (models trained on OpenCV's channel order). */
  public ImagePreprocessing withChannelOrder(ChannelOrder channelOrder) {
    return new ImagePreprocessing(
        channels,
        convertChannels,
        Objects.requireNonNull(channelOrder, "channelOrder"),
        layout,
        height,
        width,
        resize,
        scale,
        mean,
        std);
  }

  /** CHW (default) or HWC. */
  public ImagePreprocessing withLayout(Layout outputLayout) {
    return new ImagePreprocessing(
        channels,
        convertChannels,
        order,
        Objects.requireNonNull(outputLayout, "layout"),
        height,
        width,
        resize,
        scale,
        mean,
        std);
  }

  /** Resizes every image to {@code height x width} (bilinear; see the class javadoc). */
  public ImagePreprocessing withResize(int outputHeight, int outputWidth) {
    checkSide("height", outputHeight);
    checkSide("width", outputWidth);
    return new ImagePreprocessing(
        channels, convertChannels, order, layout, outputHeight, outputWidth, true, scale, mean, std);
  }

  /**
   * Requires every image to be {@code height x width} already, without resizing: another size is
   * an {@link IllegalArgumentException} naming both shapes.
   */
  public ImagePreprocessing withRequiredSize(int requiredHeight, int requiredWidth) {
    checkSide("height", requiredHeight);
    checkSide("width", requiredWidth);
    return new ImagePreprocessing(
        channels, convertChannels, order, layout, requiredHeight, requiredWidth, false, scale, mean, std);
  }

  /** The factor applied to the 0..255 samples before normalization; default {@code 1/255}. */
  public ImagePreprocessing withScale(float factor) {
    if (!Float.isFinite(factor)) {
      throw new IllegalArgumentException("ImagePreprocessing: scale must be finite, was " + factor);
    }
    return new ImagePreprocessing(
        channels, convertChannels, order, layout, height, width, resize, factor, mean, std);
  }

  /**
   * Subtracts {@code mean[c]} from the scaled value of output channel {@code c} and divides by
   * {@code std[c]}. One value per output channel, in the output's channel order (blue first for
   * BGR), or a single value for all channels. The arrays are copied.
   */
  public ImagePreprocessing withNormalization(float[] channelMean, float[] channelStd) {
    Objects.requireNonNull(channelMean, "mean");
    Objects.requireNonNull(channelStd, "std");
    float[] m = channelMean.clone();
    float[] s = channelStd.clone();
    checkPerChannel("mean", m, channels);
    checkPerChannel("std", s, channels);
    for (int i = 0; i < m.length; i++) {
      if (!Float.isFinite(m[i])) {
        throw new IllegalArgumentException(
            "ImagePreprocessing: mean[" + i + "] must be finite, was " + m[i]);
      }
    }
    for (int i = 0; i < s.length; i++) {
      if (!Float.isFinite(s[i]) || s[i] == 0f) {
        throw new IllegalArgumentException(
            "ImagePreprocessing: std[" + i + "] must be finite and not 0, was " + s[i]);
      }
    }
    return new ImagePreprocessing(
        channels, convertChannels, order, layout, height, width, resize, scale, m, s);
  }

  /** The image as the model's input: one float32 array, see the class javadoc. */
  @Override
  public NDList apply(NDManager manager, Image image) {
    Pixels p = pixels(image);
    return new NDList(manager.create(p.values, new Shape(p.shape)));
  }

  /**
   * The same pre-processing for a whole batch, for {@code ModelSpec.Builder#setBatchProcessing}: one
   * float32 array of shape {@code [N, ...]} made with one native copy instead of N arrays stacked.
   * Every image must give the same shape (set {@link #withResize} or {@link #withRequiredSize} when
   * the files may differ); an image that fails its checks fails the batch, which RunInference splits
   * until that image is alone, so it alone reaches the failure output (step {@code PRE_PROCESS}).
   */
  public ModelSpec.BatchPreProcessFn<Image> batch() {
    return (manager, images) -> {
      if (images.isEmpty()) {
        throw new IllegalArgumentException("an empty batch has no shape");
      }
      Pixels first = pixels(images.get(0));
      int size = first.values.length;
      float[] values = new float[size * images.size()];
      System.arraycopy(first.values, 0, values, 0, size);
      for (int i = 1; i < images.size(); i++) {
        Pixels p = pixels(images.get(i));
        if (!java.util.Arrays.equals(p.shape, first.shape)) {
          throw new IllegalArgumentException(
              "image " + i + " of the batch pre-processes to shape " + java.util.Arrays.toString(p.shape)
                  + ", the first to " + java.util.Arrays.toString(first.shape)
                  + ": set withResize or withRequiredSize");
        }
        System.arraycopy(p.values, 0, values, i * size, size);
      }
      long[] shape = new long[first.shape.length + 1];
      shape[0] = images.size();
      System.arraycopy(first.shape, 0, shape, 1, first.shape.length);
      return new NDList(manager.create(values, new Shape(shape)));
    };
  }

  /**
   * The same values as {@link #apply} as a float32 {@link Tensor}, without an engine (for tests,
   * or a model called some other way).
   */
  public Tensor toTensor(Image image) {
    Pixels p = pixels(image);
    return Tensor.ofFloats(p.shape, p.values);
  }

  /** The output's shape for an image of {@code imageHeight x imageWidth}. */
  long[] outputShape(int imageHeight, int imageWidth) {
    int h = height > 0 && resize ? height : imageHeight;
    int w = width > 0 && resize ? width : imageWidth;
    return layout == Layout.CHW ? new long[] {channels, h, w} : new long[] {h, w, channels};
  }

  private static final class Pixels {
    final float[] values;
    final long[] shape;

    Pixels(float[] values, long[] shape) {
      this.values = values;
      this.shape = shape;
    }
  }

  private Pixels pixels(Image image) {
    check(image);
    int h = image.height();
    int w = image.width();
    int sourceChannels = image.channels();
    byte[] source = image.decode().toByteArray(); // [h, w, sourceChannels]
    int stride = sourceChannels;
    int[] pick; // for each output channel, which sample of a source pixel it takes
    if (channels == 1 && sourceChannels >= 3) {
      source = luma(source, h * w, sourceChannels);
      stride = 1;
      pick = new int[] {0};
    } else if (sourceChannels <= 2) { // gray, or gray + alpha
      pick = new int[channels]; // all 0: the gray sample
    } else {
      pick = order == ChannelOrder.RGB ? new int[] {0, 1, 2} : new int[] {2, 1, 0};
    }
    long[] shape = outputShape(h, w);
    if (resize && (h != height || w != width)) {
      float[] samples = Bilinear.resize(source, h, w, stride, pick, height, width);
      return new Pixels(normalize(samples, height * width), shape);
    }
    return new Pixels(lookUp(source, h * w, stride, pick), shape);
  }

  private void check(Image image) {
    boolean sizeWrong = height > 0 && !resize && (image.height() != height || image.width() != width);
    boolean channelsWrong = !convertChannels && image.channels() != channels;
    if (!sizeWrong && !channelsWrong) {
      return;
    }
    String expected =
        "["
            + (height > 0 && !resize ? height + ", " + width : "*, *")
            + ", "
            + (convertChannels ? "*" : String.valueOf(channels))
            + "]";
    String actual = "[" + image.height() + ", " + image.width() + ", " + image.channels() + "]";
    String hint =
        sizeWrong
            ? "the size must be " + height + "x" + width + " (or resize with withResize)"
            : image.channels() + " channels where " + channels
                + " are required (or convert with withChannelConversion(true))";
    throw new IllegalArgumentException(
        "ImagePreprocessing: image "
            + image
            + " has shape "
            + actual
            + " (height, width, channels), expected "
            + expected
            + ": "
            + hint);
  }

  /** One pass: source bytes to output floats through the table, in the output's layout. */
  private float[] lookUp(byte[] source, int pixels, int stride, int[] pick) {
    float[] out = new float[pixels * channels];
    if (layout == Layout.CHW) {
      for (int c = 0; c < channels; c++) {
        float[] t = table[c];
        int base = c * pixels;
        int at = pick[c];
        for (int p = 0; p < pixels; p++, at += stride) {
          out[base + p] = t[source[at] & 0xFF];
        }
      }
    } else {
      for (int p = 0, o = 0; p < pixels; p++) {
        int at = p * stride;
        for (int c = 0; c < channels; c++) {
          out[o++] = table[c][source[at + pick[c]] & 0xFF];
        }
      }
    }
    return out;
  }

  /** Interpolated samples ({@code [pixels, channels]}, 0..255) to output floats. */
  private float[] normalize(float[] samples, int pixels) {
    float[] out = new float[samples.length];
    for (int p = 0, i = 0; p < pixels; p++) {
      for (int c = 0; c < channels; c++, i++) {
        float v = (samples[i] * scale - mean(c)) / std(c);
        out[layout == Layout.CHW ? c * pixels + p : i] = v;
      }
    }
    return out;
  }

  private float value(int v, int c) {
    return (v * scale - mean(c)) / std(c);
  }

  private float mean(int c) {
    return mean.length == 1 ? mean[0] : mean[c];
  }

  private float std(int c) {
    return std.length == 1 ? std[0] : std[c];
  }

  private static byte[] luma(byte[] rgb, int pixels, int stride) {
    byte[] gray = new byte[pixels];
    for (int p = 0, at = 0; p < pixels; p++, at += stride) {
      int r = rgb[at] & 0xFF;
      int g = rgb[at + 1] & 0xFF;
      int b = rgb[at + 2] & 0xFF;
      gray[p] = (byte) ((299 * r + 587 * g + 114 * b + 500) / 1000);
    }
    return gray;
  }

  private static void checkSide(String name, int side) {
    if (side < 1 || side > MAX_SIDE) {
      throw new IllegalArgumentException(
          "ImagePreprocessing: " + name + " must be in [1, " + MAX_SIDE + "], was " + side);
    }
  }

  private static void checkPerChannel(String name, float[] values, int outputChannels) {
    if (values.length != 1 && values.length != outputChannels) {
      throw new IllegalArgumentException(
          "ImagePreprocessing: "
              + name
              + " has "
              + values.length
              + " values "
              + Arrays.toString(values)
              + "; give one per output channel ("
              + outputChannels
              + ") or one for all");
    }
  }

  @Override
  public String toString() {
    return "ImagePreprocessing{channels="
        + channels
        + (convertChannels ? " (converted)" : " (required)")
        + ", order="
        + order
        + ", layout="
        + layout
        + ", size="
        + (height > 0 ? height + "x" + width + (resize ? " (resized)" : " (required)") : "own")
        + ", scale="
        + scale
        + ", mean="
        + Arrays.toString(mean)
        + ", std="
        + Arrays.toString(std)
        + "}";
  }
}
