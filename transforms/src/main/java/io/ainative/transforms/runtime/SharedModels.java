package io.ainative.transforms.runtime;

import io.ainative.transforms.ModelLoadException;
import io.ainative.transforms.ModelSpec;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.beam.sdk.annotations.Internal;

/**
 * The models loaded in this JVM (this class loader), shared by every DoFn instance and thread
 * that runs the same {@link ModelSpec} (same {@link ModelSpec#id()}) and copy index.
 *
 * <p>The first {@link #acquire} of a (spec, copy) loads the model while later callers for the
 * same key wait; the last {@link Handle#close()} closes it. Thread-safe.
 */
@Internal
public final class SharedModels {
  private static final ConcurrentHashMap<String, Slot> SLOTS = new ConcurrentHashMap<>();
  private static final ConcurrentHashMap<String, AtomicInteger> NEXT_COPY =
      new ConcurrentHashMap<>();

  private SharedModels() {}

  /** Round-robin over {@code copies}: which copy the next user of {@code spec} should take. */
  public static int nextCopyIndex(ModelSpec<?, ?> spec, int copies) {
    int n = NEXT_COPY.computeIfAbsent(spec.id(), k -> new AtomicInteger()).getAndIncrement();
    return Math.floorMod(n, copies);
  }

  /** Returns a handle to the shared model, loading it if this JVM has not yet (blocking). */
  public static <InputT, OutputT> Handle<InputT, OutputT> acquire(
      ModelSpec<InputT, OutputT> spec, int copyIndex) throws ModelLoadException {
    String key = spec.id() + "#" + copyIndex;
    while (true) {
      Slot slot = SLOTS.computeIfAbsent(key, k -> new Slot());
      synchronized (slot) {
        if (slot.closed) {
          // the last user released it between our lookup and the lock: take a fresh slot
          SLOTS.remove(key, slot);
          continue;
        }
        boolean loadedHere = false;
        if (slot.model == null) {
          slot.model = LoadedModel.load(spec);
          loadedHere = true;
        }
        slot.refs++;
        @SuppressWarnings("unchecked")
        LoadedModel<InputT, OutputT> model = (LoadedModel<InputT, OutputT>) slot.model;
        return new Handle<>(key, slot, model, loadedHere);
      }
    }
  }

  /** Models currently held in this JVM; for tests and status pages. */
  public static int loadedCount() {
    int n = 0;
    for (Slot slot : SLOTS.values()) {
      synchronized (slot) {
        n += slot.model != null && !slot.closed ? 1 : 0;
      }
    }
    return n;
  }

  private static final class Slot {
    LoadedModel<?, ?> model;
    int refs;
    boolean closed;
  }

  /** One user's claim on a shared model. Close it exactly once. */
  public static final class Handle<InputT, OutputT> implements AutoCloseable {
    private final String key;
    private final Slot slot;
    private final LoadedModel<InputT, OutputT> model;
    private final boolean loadedHere;
    private boolean released;

    private Handle(String key, Slot slot, LoadedModel<InputT, OutputT> model, boolean loadedHere) {
      this.key = key;
      this.slot = slot;
      this.model = model;
      this.loadedHere = loadedHere;
    }

    public LoadedModel<InputT, OutputT> model() {
      return model;
    }

    /** Whether this acquire did the loading (so its caller reports the load metrics). */
    public boolean loadedHere() {
      return loadedHere;
    }

    @Override
    public void close() {
      if (released) {
        return;
      }
      released = true;
      synchronized (slot) {
        slot.refs--;
        if (slot.refs == 0) {
          slot.closed = true;
          SLOTS.remove(key, slot);
          slot.model.close();
          slot.model = null;
        }
      }
    }
  }
}
