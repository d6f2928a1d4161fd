package io.ainative.transforms.xlang;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.ainative.transforms.ModelSpec;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;

/**
 * {@value NamedProcessor#IMAGE_CLASSIFIER}: an encoded image (PNG or JPEG, anything {@link
 * ImageIO} reads) in; the model gets it as floats in [0, 1], channel first ({@code channels x
 * height x width}), resized when {@code image_height}/{@code image_width} are set, grey (the
 * image's own grey samples, or luminance) for 1 channel, RGB for 3. The model's output for the
 * image is one score per class (logits, turned into probabilities with a softmax unless {@code
 * softmax} is false). Result: {@code label} (INT64, the arg-max), {@code score} (FLOAT, its
 * probability) and {@code probabilities} (ARRAY&lt;FLOAT&gt;).
 */
final class ImageClassifierProcessor extends NamedProcessor {
  private static final long serialVersionUID = 1L;

  static final Schema SCHEMA =
      Schema.builder()
          .addInt64Field("label")
          .addFloatField("score")
          .addArrayField("probabilities", Schema.FieldType.FLOAT)
          .build();

  private final int channels;
  private final int height; // 0: the image's own
  private final int width;
  private final boolean softmax;

  private ImageClassifierProcessor(int channels, int height, int width, boolean softmax) {
    this.channels = channels;
    this.height = height;
    this.width = width;
    this.softmax = softmax;
  }

  static ImageClassifierProcessor of(RunInferenceExternal.Configuration config) {
    int channels = config.imageChannels == null ? 3 : (int) (long) config.imageChannels;
    if (channels != 1 && channels != 3) {
      throw new IllegalArgumentException("image_channels: must be 1 (grey) or 3 (RGB), was " + config.imageChannels);
    }
    if ((config.imageHeight == null) != (config.imageWidth == null)) {
      throw new IllegalArgumentException(
          "image_height and image_width: give both (resize every image) or neither (keep each image's size), got "
              + "image_height=" + config.imageHeight + ", image_width=" + config.imageWidth);
    }
    int height = 0;
    int width = 0;
    if (config.imageHeight != null) {
      height = RunInferenceExternal.Configuration.intIn("image_height", config.imageHeight, 1, 16384);
      width = RunInferenceExternal.Configuration.intIn("image_width", config.imageWidth, 1, 16384);
    }
    if (config.tensorShape != null) {
      throw new IllegalArgumentException(
          "tensor_shape: only for processor '" + FLOAT32_TENSOR + "'; processor '" + IMAGE_CLASSIFIER
              + "' takes image_height, image_width and image_channels");
    }
    return new ImageClassifierProcessor(channels, height, width, config.softmax == null || config.softmax);
  }

  @Override
  Schema outputSchema() {
    return SCHEMA;
  }

  @Override
  ModelSpec.Builder<byte[], Row> configure(ModelSpec.Builder<byte[], Row> spec) {
    spec.setProcessing(this::preProcess, this::postProcess);
    if (height > 0) {
      int h = height;
      int w = width;
      spec.optWarmupInput(() -> blankPng(h, w));
    }
    return spec;
  }

  private NDList preProcess(NDManager manager, byte[] encoded) throws IOException {
    BufferedImage image = ImageIO.read(new ByteArrayInputStream(encoded));
    if (image == null) {
      throw new IllegalArgumentException(
          "input is not an image ImageIO can read (PNG or JPEG expected), " + encoded.length + " bytes");
    }
    if (height > 0 && (image.getHeight() != height || image.getWidth() != width)) {
      image = resize(image, height, width);
    }
    int h = image.getHeight();
    int w = image.getWidth();
    float[] pixels = new float[channels * h * w];
    int plane = h * w;
    Raster raster = image.getRaster();
    // A one-band image gives its samples as they are; getRGB would pass them through a colour
    // conversion that changes grey levels.
    boolean grey = raster.getNumBands() == 1 && image.getColorModel().getNumComponents() == 1;
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        if (grey) {
          float v = raster.getSample(x, y, 0) / 255f;
          for (int c = 0; c < channels; c++) {
            pixels[c * plane + y * w + x] = v;
          }
        } else {
          int rgb = image.getRGB(x, y);
          float r = ((rgb >> 16) & 0xFF) / 255f;
          float g = ((rgb >> 8) & 0xFF) / 255f;
          float b = (rgb & 0xFF) / 255f;
          if (channels == 1) {
            pixels[y * w + x] = 0.299f * r + 0.587f * g + 0.114f * b;
          } else {
            pixels[y * w + x] = r;
            pixels[plane + y * w + x] = g;
            pixels[2 * plane + y * w + x] = b;
          }
        }
      }
    }
    return new NDList(manager.create(pixels, new Shape(channels, h, w)));
  }

  private Row postProcess(NDList output) {
    NDArray scores = output.get(0).toType(DataType.FLOAT32, false).flatten();
    NDArray probabilities = softmax ? scores.softmax(0) : scores;
    float[] p = probabilities.toFloatArray();
    if (p.length == 0) {
      throw new IllegalArgumentException("the model gave no class scores for the image");
    }
    int label = 0;
    for (int i = 1; i < p.length; i++) {
      if (p[i] > p[label]) {
        label = i;
      }
    }
    List<Float> list = new ArrayList<>(p.length);
    for (float v : p) {
      list.add(v);
    }
    return Row.withSchema(SCHEMA).addValues((long) label, p[label], list).build();
  }

  private static BufferedImage resize(BufferedImage image, int height, int width) {
    int type = image.getRaster().getNumBands() == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_INT_RGB;
    BufferedImage resized = new BufferedImage(width, height, type);
    Graphics2D g = resized.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
      g.drawImage(image, 0, 0, width, height, null);
    } finally {
      g.dispose();
    }
    return resized;
  }

  private static byte[] blankPng(int height, int width) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ImageIO.write(new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY), "png", out);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot encode the warm-up image", e);
    }
  }
}
