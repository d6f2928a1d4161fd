package io.ainative.transforms.images;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.coders.CoderProvider;
import org.apache.beam.sdk.coders.CoderProviders;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.values.TypeDescriptor;

/**
 * Coder for {@link ImageReadFailure}.
 *
 * <p>Format, version 1: one byte {@code 0x01}; then file, error class, error message and stack
 * trace, each as a nested {@link StringUtf8Coder} string (var-int length, UTF-8 bytes).
 */
public final class ImageReadFailureCoder extends AtomicCoder<ImageReadFailure> {
  private static final long serialVersionUID = 1L;
  static final int VERSION = 1;
  private static final Coder<String> STRING = StringUtf8Coder.of();
  private static final ImageReadFailureCoder INSTANCE = new ImageReadFailureCoder();

  private ImageReadFailureCoder() {}

  public static ImageReadFailureCoder of() {
    return INSTANCE;
  }

  /** For {@code @DefaultCoder} on {@link ImageReadFailure}. */
  public static CoderProvider getCoderProvider() {
    return CoderProviders.forCoder(TypeDescriptor.of(ImageReadFailure.class), INSTANCE);
  }

  @Override
  public void encode(ImageReadFailure value, OutputStream out) throws IOException {
    if (value == null) {
      throw new CoderException("cannot encode a null ImageReadFailure");
    }
    out.write(VERSION);
    STRING.encode(value.getFile(), out);
    STRING.encode(value.getErrorClass(), out);
    STRING.encode(value.getErrorMessage(), out);
    STRING.encode(value.getStackTrace(), out);
  }

  @Override
  public ImageReadFailure decode(InputStream in) throws IOException {
    int version = in.read();
    if (version != VERSION) {
      throw new CoderException(
          "ImageReadFailure: unknown format version " + version + ", expected " + VERSION);
    }
    String file = STRING.decode(in);
    String errorClass = STRING.decode(in);
    String message = STRING.decode(in);
    String trace = STRING.decode(in);
    return ImageReadFailure.of(file, errorClass, message, trace);
  }

  @Override
  public void verifyDeterministic() {}
}
