package io.ainative.transforms.images;

import io.ainative.multimodal.types.Image;
import io.ainative.multimodal.types.ImageFormat;
import java.io.IOException;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.TupleTag;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Reads one file into an {@link Image} keyed by the file's resource id. A file that is not an
 * image goes to {@code failures} when there is that output, and fails the bundle otherwise.
 */
final class ReadImageFn extends DoFn<FileIO.ReadableFile, KV<String, Image>> {
  private static final long serialVersionUID = 1L;
  /** The largest array the JVM allocates; {@link Image} holds the whole file in one. */
  private static final long MAX_FILE_BYTES = Integer.MAX_VALUE - 8;

  private final boolean decodeCheck;
  private final TupleTag<KV<String, Image>> main;
  private final @Nullable TupleTag<ImageReadFailure> failures;
  private final Counter imagesRead = Metrics.counter(ReadImages.METRICS_NAMESPACE, "images_read");
  private final Counter failedFiles = Metrics.counter(ReadImages.METRICS_NAMESPACE, "failed_files");

  ReadImageFn(
      boolean decodeCheck,
      TupleTag<KV<String, Image>> main,
      @Nullable TupleTag<ImageReadFailure> failures) {
    this.decodeCheck = decodeCheck;
    this.main = main;
    this.failures = failures;
  }

  @ProcessElement
  public void process(@Element FileIO.ReadableFile file, MultiOutputReceiver out)
      throws ImageReadException {
    String id = file.getMetadata().resourceId().toString();
    Image image;
    try {
      image = read(file, id);
    } catch (ImageReadException e) {
      failedFiles.inc();
      if (failures == null) {
        throw e;
      }
      out.get(failures).output(ImageReadFailure.of(e));
      return;
    }
    imagesRead.inc();
    out.get(main).output(KV.of(id, image));
  }

  private Image read(FileIO.ReadableFile file, String id) throws ImageReadException {
    long size = file.getMetadata().sizeBytes();
    if (size > MAX_FILE_BYTES) {
      throw new ImageReadException(
          id, "the file has " + size + " bytes, more than an image can hold (" + MAX_FILE_BYTES + ")", null);
    }
    byte[] bytes;
    try {
      bytes = file.readFullyAsBytes();
    } catch (IOException e) {
      throw new ImageReadException(id, "cannot read the file: " + e, e);
    }
    ImageFormat format = FormatDetector.detect(bytes);
    if (format == null) {
      throw new ImageReadException(id, FormatDetector.whyUnsupported(bytes, id), null);
    }
    Image image;
    try {
      image = Image.wrap(format, bytes); // parses the header and checks the container is whole
    } catch (IllegalArgumentException e) {
      throw new ImageReadException(id, e.getMessage(), e);
    }
    if (decodeCheck) {
      try {
        image.decode(); // the pixels stay in the Image for a consumer in the same stage
      } catch (IllegalArgumentException e) {
        throw new ImageReadException(id, e.getMessage(), e);
      }
    }
    return image;
  }
}
