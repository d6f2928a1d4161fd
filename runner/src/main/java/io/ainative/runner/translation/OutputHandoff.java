package io.ainative.runner.translation;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import org.apache.beam.sdk.util.WindowedValue;

/**
 * A stage's outputs, decoded on the data service's gRPC threads, on their way to the task thread,
 * which alone may emit them.
 *
 * <p>Threading: {@link #put} on any thread, never waiting; {@link #emitAvailable}, {@link
 * #emitUntil} and {@link #clear} on the task thread only. A put must not wait: the thread that puts
 * reads the one data stream that an SDK harness shares between all its bundles, so a put waiting for
 * this stage's task thread (itself waiting for downstream buffers) would hold back the outputs of
 * every other stage's bundle in that harness, downstream ones included, and the job would wait for
 * ever. What the queue holds is bounded by how far the harness runs ahead of the task thread, which
 * empties it whenever it waits for the harness.
 */
final class OutputHandoff {
  private static final long WAKE_MILLIS = 50;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final ArrayDeque<Object> queue = new ArrayDeque<>();

  /** Queues one output of PCollection {@code pCollectionId}. */
  void put(String pCollectionId, WindowedValue<?> output) {
    lock.lock();
    try {
      queue.add(pCollectionId);
      queue.add(output);
      changed.signal();
    } finally {
      lock.unlock();
    }
  }

  /** Wakes the task thread in {@link #emitUntil} to check its condition again. */
  void wake() {
    lock.lock();
    try {
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Emits what is queued now, without waiting for more. */
  void emitAvailable(OutputReadingBundleFactory.Emitter emitter) {
    Object[] batch;
    while ((batch = take()) != null) {
      emit(batch, emitter);
    }
  }

  /**
   * Emits outputs as they come until {@code done} holds (checked after each {@link #wake} and at
   * least every 50 ms).
   */
  void emitUntil(BooleanSupplier done, OutputReadingBundleFactory.Emitter emitter) throws InterruptedException {
    while (true) {
      Object[] batch;
      lock.lockInterruptibly();
      try {
        while (queue.isEmpty() && !done.getAsBoolean()) {
          changed.await(WAKE_MILLIS, TimeUnit.MILLISECONDS);
        }
        if (queue.isEmpty()) {
          return;
        }
        batch = drainLocked();
      } finally {
        lock.unlock();
      }
      emit(batch, emitter);
    }
  }

  /** Drops what is queued (a failed bundle's outputs). */
  void clear() {
    lock.lock();
    try {
      queue.clear();
    } finally {
      lock.unlock();
    }
  }

  int size() {
    lock.lock();
    try {
      return queue.size() / 2;
    } finally {
      lock.unlock();
    }
  }

  private Object[] take() {
    lock.lock();
    try {
      return queue.isEmpty() ? null : drainLocked();
    } finally {
      lock.unlock();
    }
  }

  private Object[] drainLocked() {
    Object[] batch = queue.toArray();
    queue.clear();
    return batch;
  }

  private static void emit(Object[] batch, OutputReadingBundleFactory.Emitter emitter) {
    for (int i = 0; i < batch.length; i += 2) {
      emitter.emit((String) batch[i], (WindowedValue<?>) batch[i + 1]);
    }
  }
}
