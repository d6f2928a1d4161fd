package io.ainative.multimodal.coders;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.CoderException;

/**
 * The frame every ainative value coder shares: one version byte, then a body that the subclass
 * writes. A reader rejects a version it does not know instead of guessing. The body is
 * self-delimiting, so the nested and outer encodings are the same bytes.
 *
 * <p>Bodies are deterministic functions of the value, and value equality matches byte equality,
 * so these coders are deterministic and consistent with equals. Coders are stateless and thread
 * safe.
 */
abstract class VersionedCoder<T> extends AtomicCoder<T> {
  private final String what;
  private final int version;

  VersionedCoder(String what, int version) {
    this.what = what;
    this.version = version;
  }

  @Override
  public final void encode(T value, OutputStream out) throws IOException {
    if (value == null) {
      throw new CoderException("cannot encode a null " + what);
    }
    out.write(version);
    encodeBody(value, out);
  }

  @Override
  public final T decode(InputStream in) throws IOException {
    int v = in.read();
    if (v < 0) {
      throw new CoderException("truncated input: no " + what + " version byte");
    }
    if (v != version) {
      throw new CoderException(
          "unknown " + what + " wire format version " + v + " (this reader knows " + version + ")");
    }
    try {
      return decodeBody(in);
    } catch (IllegalArgumentException e) {
      throw new CoderException("invalid " + what + ": " + e.getMessage(), e);
    }
  }

  abstract void encodeBody(T value, OutputStream out) throws IOException;

  /** Reads the body; may throw {@link IllegalArgumentException}, reported as a CoderException. */
  abstract T decodeBody(InputStream in) throws IOException;

  /** The encoded size of the body without the version byte. */
  abstract long bodySize(T value);

  @Override
  public void verifyDeterministic() {}

  @Override
  public boolean consistentWithEquals() {
    return true;
  }

  @Override
  public boolean isRegisterByteSizeObserverCheap(T value) {
    return true;
  }

  @Override
  protected long getEncodedElementByteSize(T value) throws Exception {
    if (value == null) {
      throw new CoderException("cannot encode a null " + what);
    }
    return 1 + bodySize(value);
  }
}
