package io.ainative.harness.testing;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Polygon;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.util.Random;

/**
 * Draws labelled images of one filled shape — circle (label 0), square (1) or triangle (2) — of
 * random size, position, rotation and grey levels, with a little pixel noise. Deterministic for a
 * seed. Pixels are floats in [0, 1], channel-first ({@code channels x size x size}), the grey image
 * repeated on every channel.
 *
 * <p>Not thread-safe (it owns a {@link Random}); use one per thread.
 */
public final class ShapeImages {
  public static final int CIRCLE = 0;
  public static final int SQUARE = 1;
  public static final int TRIANGLE = 2;
  public static final int CLASSES = 3;

  private final int size;
  private final int channels;
  private final Random random;

  public ShapeImages(int size, int channels, long seed) {
    if (size < 16) {
      throw new IllegalArgumentException("image size must be >= 16, was " + size);
    }
    if (channels != 1 && channels != 3) {
      throw new IllegalArgumentException("channels must be 1 or 3, was " + channels);
    }
    this.size = size;
    this.channels = channels;
    this.random = new Random(seed);
  }

  public int size() {
    return size;
  }

  public int channels() {
    return channels;
  }

  /** Floats per image: {@code channels * size * size}. */
  public int pixels() {
    return channels * size * size;
  }

  /** A random label and its image. */
  public Sample next() {
    int label = random.nextInt(CLASSES);
    return new Sample(label, draw(label));
  }

  /** An image of the given shape. */
  public float[] draw(int label) {
    BufferedImage image = new BufferedImage(size, size, BufferedImage.TYPE_BYTE_GRAY);
    Graphics2D g = image.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      int background = random.nextInt(80);
      int foreground = 150 + random.nextInt(106);
      g.setColor(new Color(background, background, background));
      g.fillRect(0, 0, size, size);
      double radius = size * (0.22 + 0.16 * random.nextDouble());
      double cx = radius + random.nextDouble() * (size - 2 * radius);
      double cy = radius + random.nextDouble() * (size - 2 * radius);
      g.setColor(new Color(foreground, foreground, foreground));
      AffineTransform rotation =
          AffineTransform.getRotateInstance(random.nextDouble() * 2 * Math.PI, cx, cy);
      switch (label) {
        case CIRCLE:
          g.fill(new Ellipse2D.Double(cx - radius, cy - radius, 2 * radius, 2 * radius));
          break;
        case SQUARE:
          double half = radius * 0.85;
          g.fill(
              rotation.createTransformedShape(
                  new Rectangle2D.Double(cx - half, cy - half, 2 * half, 2 * half)));
          break;
        case TRIANGLE:
          Polygon triangle = new Polygon();
          for (int k = 0; k < 3; k++) {
            double angle = -Math.PI / 2 + k * 2 * Math.PI / 3;
            triangle.addPoint(
                (int) Math.round(cx + radius * Math.cos(angle)),
                (int) Math.round(cy + radius * Math.sin(angle)));
          }
          g.fill(rotation.createTransformedShape(triangle));
          break;
        default:
          throw new IllegalArgumentException("label must be 0..2, was " + label);
      }
    } finally {
      g.dispose();
    }
    Raster raster = image.getRaster();
    float[] pixels = new float[pixels()];
    int plane = size * size;
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        float grey = raster.getSample(x, y, 0) / 255f + (float) (random.nextGaussian() * 0.03);
        float v = Math.max(0f, Math.min(1f, grey));
        for (int c = 0; c < channels; c++) {
          pixels[c * plane + y * size + x] = v;
        }
      }
    }
    return pixels;
  }

  /** A label and its image. */
  public static final class Sample {
    private final int label;
    private final float[] pixels;

    Sample(int label, float[] pixels) {
      this.label = label;
      this.pixels = pixels;
    }

    public int label() {
      return label;
    }

    public float[] pixels() {
      return pixels;
    }
  }
}
