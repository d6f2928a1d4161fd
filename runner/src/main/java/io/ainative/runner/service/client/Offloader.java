package io.ainative.runner.service.client;

import io.ainative.harness.RequestObjectStore;
import io.ainative.multimodal.coders.ObjectRefCoder;
import io.ainative.multimodal.store.ObjectStore;
import io.ainative.multimodal.types.Image;
import io.ainative.multimodal.types.ObjectRef;
import io.ainative.multimodal.types.Tensor;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import org.apache.beam.sdk.util.CoderUtils;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client subtask's side of the inputs that travel by reference: writes an input above the
 * threshold into the subtask's own namespace of the job's {@link RequestObjectStore} once, and
 * deletes it when the last element that refers to it has been answered (equal inputs share one
 * object). Opening clears what an earlier attempt of the subtask left; closing deletes the
 * namespace.
 *
 * <p>The store saves the request from carrying the bytes; it is never the only way: an input that
 * cannot be written travels inline, with a warning. Used from the task thread only.
 */
final class Offloader implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Offloader.class);

  private final String stepName;
  private final ObjectStore store;
  private final long thresholdBytes;
  /** How many unanswered elements refer to each object (by SHA-256). */
  private final Map<String, Integer> users = new HashMap<>();
  private boolean warned;

  private Offloader(String stepName, ObjectStore store, long thresholdBytes) {
    this.stepName = stepName;
    this.store = store;
    this.thresholdBytes = thresholdBytes;
  }

  /** The offloader of one client subtask, or null when the job sends every input inline. */
  static @Nullable Offloader open(ClientConfig config, int subtask) throws IOException {
    if (config.objectStore == null) {
      return null;
    }
    ObjectStore store = config.objectStore.writer(config.stepName + "-" + subtask);
    store.deleteJob();
    store.renewLease();
    return new Offloader(config.stepName, store, config.offloadThresholdBytes);
  }

  /**
   * The size of {@code input}'s encoding when it can be told without encoding it (images,
   * tensors, byte arrays), else -1.
   */
  static long sizeHint(Object input) {
    if (input instanceof Image) {
      return ((Image) input).encodedSize();
    }
    if (input instanceof Tensor) {
      return ((Tensor) input).byteSize();
    }
    if (input instanceof byte[]) {
      return ((byte[]) input).length;
    }
    return -1;
  }

  /** Whether an input of {@code sizeHint} bytes travels by reference. */
  boolean wants(long sizeHint) {
    return sizeHint > thresholdBytes;
  }

  /**
   * Writes {@code encoded} (an input encoded with the model's input coder; not modified
   * afterwards) and returns its reference, or null when the store refused it (then it travels
   * inline).
   */
  @Nullable ObjectRef<?> put(byte[] encoded, String valueType) {
    ObjectRef<?> ref;
    try {
      ref = store.put(encoded, valueType);
    } catch (IOException | RuntimeException e) {
      if (!warned) {
        warned = true;
        LOG.warn("{}: cannot write an input to the object store ({}); inputs go inline until it works again", stepName, e.toString());
      }
      return null;
    }
    warned = false;
    users.merge(ref.sha256Hex(), 1, Integer::sum);
    return ref;
  }

  /** The element that referred to {@code ref} is answered: deletes the object after its last user. */
  void release(ObjectRef<?> ref) {
    String key = ref.sha256Hex();
    Integer left = users.merge(key, -1, Integer::sum);
    if (left != null && left > 0) {
      return;
    }
    users.remove(key);
    try {
      store.delete(ref);
    } catch (IOException | RuntimeException e) {
      // Left for the namespace's deletion when the subtask closes.
      LOG.debug("{}: deleting {} failed: {}", stepName, ref, e.toString());
    }
  }

  /** The reference's bytes as a request carries them. */
  static byte[] encode(ObjectRef<?> ref) {
    try {
      return CoderUtils.encodeToByteArray(ObjectRefCoder.of(), ref.cast());
    } catch (IOException e) {
      throw new IllegalStateException("an object reference cannot be encoded: " + ref, e);
    }
  }

  /** Objects still in the store. */
  int live() {
    return users.size();
  }

  @Override
  public void close() throws IOException {
    users.clear();
    store.deleteJob();
    store.close();
  }
}
