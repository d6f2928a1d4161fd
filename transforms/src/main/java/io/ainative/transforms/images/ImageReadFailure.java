package io.ainative.transforms.images;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Objects;
import org.apache.beam.sdk.coders.DefaultCoder;

/**
 * A file that {@link ReadImages} did not read, in its failure output: the file's resource id (as
 * the main output's keys are), the error class and the reason, carried as text like {@link
 * io.ainative.transforms.InferenceFailure}'s error so that it can be encoded and read by any SDK.
 */
@DefaultCoder(ImageReadFailureCoder.class)
public final class ImageReadFailure {
  private final String file;
  private final String errorClass;
  private final String errorMessage;
  private final String stackTrace;

  private ImageReadFailure(String file, String errorClass, String errorMessage, String stackTrace) {
    this.file = Objects.requireNonNull(file, "file");
    this.errorClass = Objects.requireNonNull(errorClass, "errorClass");
    this.errorMessage = errorMessage == null ? "" : errorMessage;
    this.stackTrace = stackTrace == null ? "" : stackTrace;
  }

  /**
   * The failure that {@code error} describes. Its error class is the class of the error's cause
   * (the I/O or format error) when there is one, else {@link ImageReadException}.
   */
  static ImageReadFailure of(ImageReadException error) {
    Throwable origin = error.getCause() != null ? error.getCause() : error;
    StringWriter trace = new StringWriter();
    origin.printStackTrace(new PrintWriter(trace));
    return new ImageReadFailure(
        error.getFile(), origin.getClass().getName(), error.getReason(), trace.toString());
  }

  /** For coders: rebuilds a failure from its encoded parts. */
  public static ImageReadFailure of(
      String file, String errorClass, String errorMessage, String stackTrace) {
    return new ImageReadFailure(file, errorClass, errorMessage, stackTrace);
  }

  /** The file's resource id (e.g. {@code /data/imgs/cat.png}, {@code s3://bucket/cat.png}). */
  public String getFile() {
    return file;
  }

  /**
   * The fully qualified class of the error: an {@link java.io.IOException} subclass when the file
   * could not be read, {@link IllegalArgumentException} for a truncated or corrupt image, {@link
   * ImageReadException} when the content is not PNG or JPEG.
   */
  public String getErrorClass() {
    return errorClass;
  }

  /** The reason, e.g. {@code invalid png image (120 bytes): truncated: ...}. */
  public String getErrorMessage() {
    return errorMessage;
  }

  /** The error's stack trace as printed by the JVM; empty when not known. */
  public String getStackTrace() {
    return stackTrace;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof ImageReadFailure)) {
      return false;
    }
    ImageReadFailure that = (ImageReadFailure) o;
    return file.equals(that.file)
        && errorClass.equals(that.errorClass)
        && errorMessage.equals(that.errorMessage)
        && stackTrace.equals(that.stackTrace);
  }

  @Override
  public int hashCode() {
    return Objects.hash(file, errorClass, errorMessage);
  }

  @Override
  public String toString() {
    return "ImageReadFailure{file=" + file + ", error=" + errorClass + ": " + errorMessage + "}";
  }
}
