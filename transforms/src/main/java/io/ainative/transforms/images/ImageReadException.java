package io.ainative.transforms.images;

import java.io.IOException;
import java.util.Objects;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * A file that {@link ReadImages} could not turn into an image: it could not be read, its content
 * is not PNG or JPEG, or the image in it is truncated or corrupt. Without a failure output it fails
 * the bundle (and the pipeline) with a message that names the file and the reason; with one, it
 * becomes an {@link ImageReadFailure}.
 */
public final class ImageReadException extends IOException {
  private static final long serialVersionUID = 1L;

  private final String file;
  private final String reason;

  ImageReadException(String file, String reason, @Nullable Throwable cause) {
    super("ReadImages: cannot read an image from " + file + ": " + reason, cause);
    this.file = Objects.requireNonNull(file, "file");
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /** The file's resource id, as in the key of the output. */
  public String getFile() {
    return file;
  }

  /** Why the file was not read, without the file name. */
  public String getReason() {
    return reason;
  }
}
