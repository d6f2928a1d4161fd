package io.ainative.multimodal.store;

import io.ainative.multimodal.coders.AudioCoder;
import io.ainative.multimodal.coders.EmbeddingCoder;
import io.ainative.multimodal.coders.ImageCoder;
import io.ainative.multimodal.coders.TensorCoder;
import io.ainative.multimodal.schemas.AudioType;
import io.ainative.multimodal.schemas.EmbeddingType;
import io.ainative.multimodal.schemas.ImageType;
import io.ainative.multimodal.schemas.TensorType;
import java.io.IOException;
import java.io.Serializable;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.util.common.ElementByteSizeObserver;

/**
 * Decides whether a value travels inline or by reference: a value whose encoding is larger than
 * the threshold (default {@value #DEFAULT_THRESHOLD_BYTES} bytes, 1 MiB) is written once to an
 * {@link ObjectStore} and travels as a reference; a smaller one travels inline. Immutable,
 * serializable (so a DoFn can hold it) and thread safe.
 */
public final class OffloadPolicy implements Serializable {
  public static final long DEFAULT_THRESHOLD_BYTES = 1L << 20;

  private static final long serialVersionUID = 1L;

  private final long thresholdBytes;

  private OffloadPolicy(long thresholdBytes) {
    this.thresholdBytes = thresholdBytes;
  }

  /** The default policy: offload values above 1 MiB. */
  public static OffloadPolicy defaults() {
    return new OffloadPolicy(DEFAULT_THRESHOLD_BYTES);
  }

  /** A copy that offloads values whose encoding is larger than {@code bytes}. */
  public OffloadPolicy withThresholdBytes(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("offload threshold must be >= 0, got " + bytes);
    }
    return new OffloadPolicy(bytes);
  }

  public long thresholdBytes() {
    return thresholdBytes;
  }

  /**
   * Wraps {@code value} inline, or stores it and wraps the reference. The value is encoded at
   * most once; for ainative coders its size is known without encoding.
   */
  public <T> Payload<T> apply(T value, Coder<T> coder, ObjectStore store) throws IOException {
    long size = encodedSize(value, coder);
    if (size <= thresholdBytes) {
      return Payload.inline(value);
    }
    return Payload.byRef(store.put(value, coder, valueTypeOf(coder)));
  }

  private static <T> long encodedSize(T value, Coder<T> coder) throws IOException {
    if (coder.isRegisterByteSizeObserverCheap(value)) {
      long[] size = {0};
      ElementByteSizeObserver observer =
          new ElementByteSizeObserver() {
            @Override
            protected void reportElementSize(long elementByteSize) {
              size[0] += elementByteSize;
            }
          };
      try {
        coder.registerByteSizeObserver(value, observer);
      } catch (Exception e) {
        throw new IOException("sizing " + value + " with " + coder, e);
      }
      observer.advance();
      return size[0];
    }
    return CoderUtils.encodeToByteArray(coder, value).length;
  }

  /** The value type recorded in references: our logical type URNs, else the coder's class. */
  static String valueTypeOf(Coder<?> coder) {
    if (coder instanceof TensorCoder) {
      return TensorType.IDENTIFIER;
    }
    if (coder instanceof ImageCoder) {
      return ImageType.IDENTIFIER;
    }
    if (coder instanceof AudioCoder) {
      return AudioType.IDENTIFIER;
    }
    if (coder instanceof EmbeddingCoder) {
      return EmbeddingType.IDENTIFIER;
    }
    return "java:" + coder.getClass().getName();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof OffloadPolicy && ((OffloadPolicy) o).thresholdBytes == thresholdBytes;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(thresholdBytes);
  }

  @Override
  public String toString() {
    return "OffloadPolicy{threshold=" + thresholdBytes + " bytes}";
  }
}
