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
 * <p>Threading: {@link #put} on any thread; {@link #emitAvailable}, {@link #emitUntil} and {@link
 * #clear} on the task thread only.
 *
 * <p>Bound: while the task thread is in {@link #emitUntil} (waiting for the harness to finish the
 * bundle) and {@code limit} outputs are queued, a put waits, which holds the harness back, so a
 * long bundle's outputs do not pile up in memory when downstream is slower than the harness. But
 * the thread that puts reads the one data stream an SDK harness shares between all its bundles:
 * waiting there for a task thread that is itself stuck (downstream takes nothing, for instance
 * because a downstream stage waits for its own bundle's outputs on that same stream) would hold
 * every bundle back for ever. So a put waits only while the task thread makes progress: once one
 * emission has taken longer than {@value #STALL_MILLIS} ms, puts stop waiting until it returns,
 * and the queue grows by what the harness sends meanwhile.
 */
final class OutputHandoff {
  private static final long WAKE_MILLIS = 50;
  static final long STALL_MILLIS = 200;
  private static final long STALL_NANOS = TimeUnit.MILLISECONDS.toNanos(STALL_MILLIS);

  private final int limit;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final Condition notFull = lock.newCondition();
  private final ArrayDeque<Object> queue = new ArrayDeque<>();
  private boolean draining;
  /** When the task thread's emission in progress began ({@code System.nanoTime}), or 0. */
  private volatile long emittingSince;

  OutputHandoff(int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be positive, was " + limit);
    }
    this.limit = limit;
  }

  /** Queues one output of PCollection {@code pCollectionId}. */
  void put(String pCollectionId, WindowedValue<?> output) throws InterruptedException {
    lock.lockInterruptibly();
    try {
      while (draining && queue.size() / 2 >= limit && !stalled()) {
        notFull.await(WAKE_MILLIS, TimeUnit.MILLISECONDS);
      }
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
    lock.lockInterruptibly();
    draining = true;
    lock.unlock();
    try {
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
    } finally {
      lock.lock();
      try {
        draining = false;
        notFull.signalAll();
      } finally {
        lock.unlock();
      }
    }
  }

  /** Whether the task thread's emission in progress has taken longer than the stall time. */
  private boolean stalled() {
    long since = emittingSince;
    return since != 0 && System.nanoTime() - since > STALL_NANOS;
  }

  /** Drops what is queued (a failed bundle's outputs). */
  void clear() {
    lock.lock();
    try {
      queue.clear();
      notFull.signalAll();
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
    notFull.signalAll();
    return batch;
  }

  private void emit(Object[] batch, OutputReadingBundleFactory.Emitter emitter) {
    try {
      for (int i = 0; i < batch.length; i += 2) {
        emittingSince = System.nanoTime();
        emitter.emit((String) batch[i], (WindowedValue<?>) batch[i + 1]);
      }
    } finally {
      emittingSince = 0;
    }
  }
}
