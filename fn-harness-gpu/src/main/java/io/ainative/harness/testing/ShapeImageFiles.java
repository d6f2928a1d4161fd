package io.ainative.harness.testing;

import io.ainative.multimodal.types.DType;
import io.ainative.multimodal.types.Image;
import io.ainative.multimodal.types.ImageFormat;
import io.ainative.multimodal.types.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import java.util.stream.LongStream;

/**
 * The demo's images on disk: generated circles, squares and triangles as 8-bit gray PNG files, one
 * per image, named {@code <id>-<label>.png} so that a result can be scored by its file name alone.
 * A set is written once into its own directory and reused while its marker file says it is whole.
 */
public final class ShapeImageFiles {
  public static final String[] LABELS = {"circle", "square", "triangle"};
  private static final String MARKER = "complete.txt";

  private ShapeImageFiles() {}

  /** Image {@code id}: the same pixels and label every time. */
  public static ShapeImages.Sample sample(long id, int size) {
    return new ShapeImages(size, 1, 1_000_003L * id + 17).next();
  }

  /** The directory under {@code root} for {@code count} images of {@code size} pixels. */
  public static Path directory(Path root, int size, long count) {
    return root.resolve("shapes-" + size + "px-" + count);
  }

  /** Whether {@code dir} holds a whole set written by {@link #write}. */
  public static boolean isComplete(Path dir, long count) {
    Path marker = dir.resolve(MARKER);
    try {
      return Files.isRegularFile(marker) && Files.readString(marker, StandardCharsets.UTF_8).trim().equals(Long.toString(count));
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Writes images {@code 0 .. count-1} into {@code dir} (on all cores), then the marker.
   *
   * @param progress called with the number written so far, now and then, from any thread
   */
  public static void write(Path dir, int size, long count, LongConsumer progress) throws IOException {
    Files.createDirectories(dir);
    Files.deleteIfExists(dir.resolve(MARKER));
    AtomicLong written = new AtomicLong();
    long step = Math.max(1, count / 10);
    try {
      LongStream.range(0, count).parallel().forEach(id -> {
        ShapeImages.Sample sample = sample(id, size);
        try {
          Files.write(dir.resolve(fileName(id, sample.label())), png(sample.pixels(), size));
        } catch (IOException e) {
          throw new UncheckedIOException("Cannot write image " + id + " into " + dir, e);
        }
        long n = written.incrementAndGet();
        if (n % step == 0) {
          progress.accept(n);
        }
      });
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
    Files.writeString(dir.resolve(MARKER), Long.toString(count), StandardCharsets.UTF_8);
  }

  /** {@code 00000042-square.png}. */
  public static String fileName(long id, int label) {
    return String.format("%08d-%s.png", id, LABELS[label]);
  }

  /** The label index that a file written here carries in its name; -1 for any other name. */
  public static int labelOf(String file) {
    int dash = file.lastIndexOf('-');
    int dot = file.lastIndexOf(".png");
    if (dash < 0 || dot < dash) {
      return -1;
    }
    String name = file.substring(dash + 1, dot);
    for (int i = 0; i < LABELS.length; i++) {
      if (LABELS[i].equals(name)) {
        return i;
      }
    }
    return -1;
  }

  /** An 8-bit gray PNG of {@code size x size} values in [0, 1] (the generator's pixels). */
  public static byte[] png(float[] pixels, int size) {
    byte[] gray = new byte[size * size];
    for (int i = 0; i < gray.length; i++) {
      gray[i] = (byte) Math.round(Math.max(0f, Math.min(1f, pixels[i])) * 255f);
    }
    return Image.encode(Tensor.of(DType.UINT8, new long[] {size, size, 1}, gray), ImageFormat.PNG).toByteArray();
  }
}
