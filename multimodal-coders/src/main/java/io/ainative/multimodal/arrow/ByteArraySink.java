package io.ainative.multimodal.arrow;

import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.util.Arrays;

/**
 * A growable in-memory channel that copies each buffer in one bulk copy ({@code
 * Channels.newChannel(OutputStream)} copies direct buffers through an 8 KiB scratch array), or,
 * made with {@link #counting()}, one that only counts. Not thread safe.
 */
final class ByteArraySink implements WritableByteChannel {
  private byte[] buf; // null when only counting
  private long count;

  ByteArraySink(int initialCapacity) {
    this.buf = new byte[initialCapacity];
  }

  private ByteArraySink() {
    this.buf = null;
  }

  /** A sink that keeps nothing and only counts the bytes written. */
  static ByteArraySink counting() {
    return new ByteArraySink();
  }

  @Override
  public int write(ByteBuffer src) {
    int n = src.remaining();
    if (buf == null) {
      src.position(src.limit());
      count += n;
      return n;
    }
    if (count + n > buf.length) {
      long grown = Math.max((long) buf.length * 2, count + n);
      if (grown > Integer.MAX_VALUE - 8) {
        throw new IllegalStateException("Arrow batch larger than 2 GiB");
      }
      buf = Arrays.copyOf(buf, (int) grown);
    }
    src.get(buf, (int) count, n);
    count += n;
    return n;
  }

  long size() {
    return count;
  }

  /** The written bytes; the array itself when it is exactly full, else a copy. */
  byte[] toByteArray() {
    return count == buf.length ? buf : Arrays.copyOf(buf, (int) count);
  }

  @Override
  public boolean isOpen() {
    return true;
  }

  @Override
  public void close() {}
}
