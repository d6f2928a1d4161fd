package io.ainative.harness.fnapi;

import io.ainative.transforms.runtime.Outcome;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Batches handed to an SDK harness in this JVM by reference: the runner side parks a batch in a
 * {@link Slot} under a handle, the bundle's one element carries only the handle, and the harness's
 * DoFn reads the inputs from the slot and leaves the outcomes in it. The Fn API still runs the
 * bundle (control plane, data plane, the DoFn's lifecycle); only the batch's bytes stay put, as
 * large values do behind an object reference.
 *
 * <p>Valid only when the harness shares the JVM ({@code EMBEDDED}). The runner side owns each slot:
 * it removes it once the bundle ended, whether it succeeded or not, so nothing is left behind.
 */
final class BatchExchange {
  private static final ConcurrentHashMap<Long, Slot<?, ?>> SLOTS = new ConcurrentHashMap<>();
  private static final AtomicLong NEXT = new AtomicLong();

  private BatchExchange() {}

  /** A batch in, its outcomes out. */
  static final class Slot<InputT, OutputT> {
    final long handle;
    final List<InputT> inputs;
    private volatile @Nullable List<Outcome<OutputT>> outcomes;

    private Slot(long handle, List<InputT> inputs) {
      this.handle = handle;
      this.inputs = inputs;
    }

    void answer(List<Outcome<OutputT>> outcomes) {
      this.outcomes = outcomes;
    }

    @Nullable
    List<Outcome<OutputT>> outcomes() {
      return outcomes;
    }
  }

  /** Parks {@code inputs} under a new handle; the caller must {@link #remove} it. */
  static <InputT, OutputT> Slot<InputT, OutputT> park(List<InputT> inputs) {
    Slot<InputT, OutputT> slot = new Slot<>(NEXT.incrementAndGet(), inputs);
    SLOTS.put(slot.handle, slot);
    return slot;
  }

  /** The slot under {@code handle}, or null when there is none (never parked, or removed). */
  @SuppressWarnings("unchecked")
  static <InputT, OutputT> @Nullable Slot<InputT, OutputT> get(long handle) {
    return (Slot<InputT, OutputT>) SLOTS.get(handle);
  }

  static void remove(Slot<?, ?> slot) {
    SLOTS.remove(slot.handle);
  }

  /** Slots parked and not yet removed, in this JVM. */
  static int parked() {
    return SLOTS.size();
  }
}
