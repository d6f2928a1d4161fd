package io.ainative.runner.translation.state;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.locks.Lock;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.beam.runners.core.StateNamespaces;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.vendor.grpc.v1p60p1.com.google.protobuf.ByteString;
import org.apache.flink.runtime.state.KeyedStateBackend;

/**
 * Access to an operator's Flink keyed state on behalf of a state request: sets the backend's current
 * key to the request's user key and names the request's window the way Beam's bag states do, so
 * that the runner's states sit beside Beam's in the same key and namespace.
 *
 * <p>Threading: state requests arrive on gRPC threads while the task thread also sets keys (for
 * timers); every access holds the operator's state-backend lock for its whole duration.
 */
final class KeyedStateAccess {

  private final KeyedStateBackend<ByteBuffer> backend;
  private final Lock lock;
  private final Coder<BoundedWindow> windowCoder;
  private final Supplier<ByteBuffer> bundleKey;

  /**
   * @param bundleKey the key of the bundle in progress, for requests that carry no key (the Java SDK
   *     harness of Beam 2.62 sends multimap requests without one); null when there is none
   */
  KeyedStateAccess(
      KeyedStateBackend<ByteBuffer> backend, Lock lock, Coder<BoundedWindow> windowCoder, Supplier<ByteBuffer> bundleKey) {
    this.backend = backend;
    this.lock = lock;
    this.windowCoder = windowCoder;
    this.bundleKey = bundleKey;
  }

  KeyedStateBackend<ByteBuffer> backend() {
    return backend;
  }

  /**
   * Runs {@code body} with the backend keyed by {@code encodedKey} (the user key, encoded in the
   * nested context as the SDK sends it) and the namespace of {@code encodedWindow}.
   */
  <T> T withKeyAndNamespace(ByteString encodedKey, ByteString encodedWindow, Function<String, T> body) {
    String namespace = namespace(encodedWindow);
    lock.lock();
    try {
      backend.setCurrentKey(key(encodedKey));
      return body.apply(namespace);
    } finally {
      lock.unlock();
    }
  }

  private ByteBuffer key(ByteString encodedKey) {
    if (!encodedKey.isEmpty()) {
      // The same bytes KvToByteBufferKeySelector keys the stream with.
      return ByteBuffer.wrap(encodedKey.toByteArray());
    }
    ByteBuffer key = bundleKey.get();
    if (key == null) {
      throw new IllegalStateException(
          "A state request without a user key arrived while no bundle scoped to one key was in progress");
    }
    return key;
  }

  private String namespace(ByteString encodedWindow) {
    BoundedWindow window;
    try {
      window = windowCoder.decode(encodedWindow.newInput());
    } catch (IOException e) {
      throw new IllegalArgumentException("Cannot decode the window of a state request with " + windowCoder, e);
    }
    return StateNamespaces.window(windowCoder, window).stringKey();
  }
}
