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
 * #clear} on the task thread only. A put waits only while the task thread is inside {@link
 * #emitUntil} and {@code limit} outputs are queued: then the task thread is sure to empty the queue.
 * Outside it, the task thread may be waiting for the harness (to take its input), and a waiting put
 * could hold the harness back in turn, so a put never waits there.
 */
final class OutputHandoff {
  private static final long WAKE_MILLIS = 50;

  private final int limit;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition notFull = lock.newCondition();
  private final Condition changed = lock.newCondition();
  private final ArrayDeque<Object> queue = new ArrayDeque<>();
  private boolean draining;

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
      while (draining && queue.size() / 2 >= limit) {
        notFull.await();
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
   * least every 50 ms); puts wait meanwhile while {@code limit} outputs are queued.
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

  private static void emit(Object[] batch, OutputReadingBundleFactory.Emitter emitter) {
    for (int i = 0; i < batch.length; i += 2) {
      emitter.emit((String) batch[i], (WindowedValue<?>) batch[i + 1]);
    }
  }
}
