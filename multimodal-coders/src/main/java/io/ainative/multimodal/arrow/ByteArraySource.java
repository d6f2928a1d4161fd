package io.ainative.multimodal.arrow;

import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

/**
 * A channel over a byte array that fills each buffer in one bulk copy ({@code
 * Channels.newChannel(InputStream)} copies into direct buffers through an 8 KiB scratch array).
 * Not thread safe.
 */
final class ByteArraySource implements ReadableByteChannel {
  private final byte[] bytes;
  private int position;

  ByteArraySource(byte[] bytes) {
    this.bytes = bytes;
  }

  @Override
  public int read(ByteBuffer dst) {
    if (position >= bytes.length) {
      return -1;
    }
    int n = Math.min(dst.remaining(), bytes.length - position);
    dst.put(bytes, position, n);
    position += n;
    return n;
  }

  @Override
  public boolean isOpen() {
    return true;
  }

  @Override
  public void close() {}
}
