package io.ainative.harness;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Merges single requests from many callers into batches, runs each batch on one of its handlers
 * (one per model copy), and completes each caller's future with its own result.
 *
 * <p><b>Batching.</b> A batch is formed when the queue holds {@link Builder#optMaxBatchSize max
 * batch size} requests (or the largest {@link Builder#optPreferredBatchSizes preferred size}), or
 * when the oldest queued request has waited {@link Builder#optMaxDelay max delay}, whichever comes
 * first. With preferred sizes, a batch takes the largest preferred size that the queue can fill
 * (capped at the maximum); when it can fill none, it takes everything up to the maximum.
 *
 * <p><b>Threading.</b> {@link #submit} and {@link #trySubmit} may be called from any number of
 * threads. Each handler is called by its own worker thread, so a handler (a model copy) runs one
 * batch at a time and needs no locking of its own; different handlers run in parallel. Futures
 * are completed on the worker thread: callers should not run long work in dependent stages
 * without an executor.
 *
 * <p><b>Back-pressure.</b> The queue is bounded ({@link Builder#optQueueCapacity}); {@link #submit}
 * blocks while it is full and {@link #trySubmit} returns null. Requests being run do not count
 * against the capacity.
 *
 * <p><b>Shutdown.</b> {@link #drain()} stops accepting requests and returns once every accepted
 * request has completed; {@link #close()} drains, then stops the worker threads and waits for
 * them. Neither closes the handlers: their owner does, after {@link #close()}.
 */
public final class DynamicBatcher<InputT, OutputT> implements AutoCloseable {

  /** Runs one batch; must return exactly one output per input, in order. */
  @FunctionalInterface
  public interface BatchHandler<InputT, OutputT> {
    List<OutputT> handle(List<InputT> batch) throws Exception;
  }

  private final String name;
  private final int maxBatchSize;
  private final long maxDelayNanos;
  private final int[] preferredSizes;
  private final int queueCapacity;
  private final IntConsumer batchSizeListener;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition notEmpty = lock.newCondition();
  private final Condition notFull = lock.newCondition();
  private final Condition idle = lock.newCondition();
  private final ArrayDeque<Request<InputT, OutputT>> queue = new ArrayDeque<>();
  private final List<Thread> workers = new ArrayList<>();
  private int inFlight;
  private long batches;
  private long cancelled;
  private boolean accepting = true;
  private boolean stopped;

  private DynamicBatcher(Builder<InputT, OutputT> b) {
    this.name = b.name;
    this.maxBatchSize = b.maxBatchSize;
    this.maxDelayNanos = b.maxDelay.toNanos();
    this.preferredSizes = b.preferredSizes;
    this.queueCapacity = b.queueCapacity;
    this.batchSizeListener = b.batchSizeListener;
    for (int i = 0; i < b.handlers.size(); i++) {
      BatchHandler<InputT, OutputT> handler = b.handlers.get(i);
      Thread worker = new Thread(() -> work(handler), "dynamic-batcher-" + name + "-" + i);
      worker.setDaemon(true);
      workers.add(worker);
    }
    workers.forEach(Thread::start);
  }

  public static <InputT, OutputT> Builder<InputT, OutputT> builder() {
    return new Builder<>();
  }

  /**
   * Queues a request, blocking while the queue is full.
   *
   * @return completed with the output, or exceptionally with the handler's error
   * @throws RejectedExecutionException after {@link #drain()} or {@link #close()}
   * @throws InterruptedException if interrupted while waiting for room
   */
  public CompletableFuture<OutputT> submit(InputT input) throws InterruptedException {
    lock.lockInterruptibly();
    try {
      while (accepting && queue.size() >= queueCapacity) {
        notFull.await();
      }
      return enqueue(input);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Queues a request if there is room.
   *
   * @return the future, or null when the queue is full
   * @throws RejectedExecutionException after {@link #drain()} or {@link #close()}
   */
  public @Nullable CompletableFuture<OutputT> trySubmit(InputT input) {
    lock.lock();
    try {
      if (accepting && queue.size() >= queueCapacity) {
        return null;
      }
      return enqueue(input);
    } finally {
      lock.unlock();
    }
  }

  private CompletableFuture<OutputT> enqueue(InputT input) {
    if (!accepting) {
      throw new RejectedExecutionException("DynamicBatcher " + name + " is draining or closed");
    }
    Request<InputT, OutputT> request = new Request<>(input, System.nanoTime());
    queue.addLast(request);
    notEmpty.signal();
    return request.future;
  }

  private void work(BatchHandler<InputT, OutputT> handler) {
    while (true) {
      List<Request<InputT, OutputT>> batch = nextBatch();
      if (batch == null) {
        return;
      }
      run(handler, batch);
    }
  }

  /** Waits for and takes the next batch; null once stopped and empty. */
  private @Nullable List<Request<InputT, OutputT>> nextBatch() {
    lock.lock();
    try {
      while (true) {
        while (queue.isEmpty() && !stopped) {
          notEmpty.awaitUninterruptibly();
        }
        if (queue.isEmpty()) {
          return null;
        }
        long deadline = queue.peekFirst().enqueuedNanos + maxDelayNanos;
        int target =
            preferredSizes.length == 0 ? maxBatchSize : preferredSizes[preferredSizes.length - 1];
        while (accepting && queue.size() < target) {
          long remaining = deadline - System.nanoTime();
          if (remaining <= 0) {
            break;
          }
          try {
            notEmpty.awaitNanos(remaining);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            break;
          }
          if (queue.isEmpty()) {
            break; // another worker took them
          }
        }
        if (queue.isEmpty()) {
          continue;
        }
        int take = batchSize(queue.size());
        List<Request<InputT, OutputT>> batch = new ArrayList<>(take);
        for (int i = 0; i < take; i++) {
          Request<InputT, OutputT> r = queue.pollFirst();
          if (r.future.isCancelled()) {
            cancelled++;
          } else {
            batch.add(r);
          }
        }
        if (batch.isEmpty()) {
          notFull.signalAll();
          if (queue.isEmpty() && inFlight == 0) {
            idle.signalAll();
          }
          continue;
        }
        inFlight += batch.size();
        batches++;
        notFull.signalAll();
        if (!queue.isEmpty()) {
          notEmpty.signal(); // let another worker start on the rest
        }
        return batch;
      }
    } finally {
      lock.unlock();
    }
  }

  private int batchSize(int queued) {
    int available = Math.min(queued, maxBatchSize);
    for (int i = preferredSizes.length - 1; i >= 0; i--) {
      if (preferredSizes[i] <= available) {
        return preferredSizes[i];
      }
    }
    return available;
  }

  private void run(BatchHandler<InputT, OutputT> handler, List<Request<InputT, OutputT>> batch) {
    List<InputT> inputs = new ArrayList<>(batch.size());
    for (Request<InputT, OutputT> r : batch) {
      inputs.add(r.input);
    }
    batchSizeListener.accept(batch.size());
    try {
      List<OutputT> outputs = handler.handle(inputs);
      if (outputs == null || outputs.size() != batch.size()) {
        throw new IllegalStateException(
            "batch handler of " + name + " returned " + (outputs == null ? "null" : outputs.size()
                + " outputs") + " for a batch of " + batch.size());
      }
      for (int i = 0; i < batch.size(); i++) {
        batch.get(i).future.complete(outputs.get(i));
      }
    } catch (Throwable t) {
      for (Request<InputT, OutputT> r : batch) {
        r.future.completeExceptionally(t);
      }
      if (t instanceof Error) {
        throw (Error) t;
      }
    } finally {
      lock.lock();
      try {
        inFlight -= batch.size();
        if (inFlight == 0 && queue.isEmpty()) {
          idle.signalAll();
        }
      } finally {
        lock.unlock();
      }
    }
  }

  /**
   * Drops the queued requests whose futures were cancelled (their callers are gone) so that they
   * never run and free their room at once; returns how many it dropped. A request cancelled
   * after this is dropped when a batch would take it.
   */
  public int dropCancelled() {
    lock.lock();
    try {
      int before = queue.size();
      queue.removeIf(r -> r.future.isCancelled());
      int dropped = before - queue.size();
      if (dropped > 0) {
        cancelled += dropped;
        notFull.signalAll();
        if (queue.isEmpty() && inFlight == 0) {
          idle.signalAll();
        }
      }
      return dropped;
    } finally {
      lock.unlock();
    }
  }

  /** Requests dropped before they ran because their futures were cancelled. */
  public long cancelledCount() {
    lock.lock();
    try {
      return cancelled;
    } finally {
      lock.unlock();
    }
  }

  /** Requests waiting for a batch. */
  public int queueDepth() {
    lock.lock();
    try {
      return queue.size();
    } finally {
      lock.unlock();
    }
  }

  /** Requests in batches that are running. */
  public int inFlight() {
    lock.lock();
    try {
      return inFlight;
    } finally {
      lock.unlock();
    }
  }

  /** Batches formed so far. */
  public long batchCount() {
    lock.lock();
    try {
      return batches;
    } finally {
      lock.unlock();
    }
  }

  /** The most requests that may wait (not counting those running). */
  public int queueCapacity() {
    return queueCapacity;
  }

  /**
   * Stops accepting requests, runs what is queued without waiting for the batching delay, and
   * returns when nothing is queued or running. Blocked {@link #submit} calls are rejected.
   */
  public void drain() throws InterruptedException {
    lock.lock();
    try {
      accepting = false;
      notEmpty.signalAll();
      notFull.signalAll();
      while (!queue.isEmpty() || inFlight > 0) {
        idle.await();
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Stops at once, for a batcher whose model is broken: takes no more requests, fails the queued
   * ones with {@code cause}, and lets each worker end after its current batch. Does not wait.
   */
  public void abort(Throwable cause) {
    List<Request<InputT, OutputT>> dropped;
    lock.lock();
    try {
      accepting = false;
      stopped = true;
      dropped = new ArrayList<>(queue);
      queue.clear();
      notEmpty.signalAll();
      notFull.signalAll();
      idle.signalAll();
    } finally {
      lock.unlock();
    }
    for (Request<InputT, OutputT> r : dropped) {
      r.future.completeExceptionally(cause);
    }
  }

  /** Drains, stops the workers and waits for them to end. Idempotent. */
  @Override
  public void close() throws InterruptedException {
    drain();
    lock.lock();
    try {
      stopped = true;
      notEmpty.signalAll();
    } finally {
      lock.unlock();
    }
    for (Thread worker : workers) {
      worker.join(TimeUnit.MINUTES.toMillis(1));
    }
  }

  private static final class Request<InputT, OutputT> {
    final InputT input;
    final long enqueuedNanos;
    final CompletableFuture<OutputT> future = new CompletableFuture<>();

    Request(InputT input, long enqueuedNanos) {
      this.input = input;
      this.enqueuedNanos = enqueuedNanos;
    }
  }

  /** Builds a {@link DynamicBatcher}; {@code set*} required, {@code opt*} optional. */
  public static final class Builder<InputT, OutputT> {
    private List<BatchHandler<InputT, OutputT>> handlers;
    private String name = "batcher";
    private int maxBatchSize = 32;
    private Duration maxDelay = Duration.ofMillis(10);
    private int[] preferredSizes = new int[0];
    private int queueCapacity = 1024;
    private IntConsumer batchSizeListener = size -> {};

    private Builder() {}

    /** Required: one handler per model copy; each gets its own worker thread. */
    public Builder<InputT, OutputT> setHandlers(List<BatchHandler<InputT, OutputT>> handlers) {
      this.handlers = new ArrayList<>(Objects.requireNonNull(handlers, "handlers"));
      return this;
    }

    public Builder<InputT, OutputT> optName(String batcherName) {
      this.name = Objects.requireNonNull(batcherName, "name");
      return this;
    }

    /** Default 32. */
    public Builder<InputT, OutputT> optMaxBatchSize(int size) {
      this.maxBatchSize = size;
      return this;
    }

    /** The longest a request waits for its batch to fill; default 10 ms. */
    public Builder<InputT, OutputT> optMaxDelay(Duration delay) {
      this.maxDelay = Objects.requireNonNull(delay, "maxDelay");
      return this;
    }

    /** Batch sizes the device runs best at (e.g. powers of two); none by default. */
    public Builder<InputT, OutputT> optPreferredBatchSizes(int... sizes) {
      this.preferredSizes = sizes.clone();
      return this;
    }

    /** Requests that may wait; default 1024. */
    public Builder<InputT, OutputT> optQueueCapacity(int capacity) {
      this.queueCapacity = capacity;
      return this;
    }

    /** Told the size of every batch formed, on the worker thread, before it runs. */
    public Builder<InputT, OutputT> optBatchSizeListener(IntConsumer listener) {
      this.batchSizeListener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * Checks the settings and starts the workers.
     *
     * @throws IllegalArgumentException naming the setting that is missing or impossible
     */
    public DynamicBatcher<InputT, OutputT> build() {
      if (handlers == null || handlers.isEmpty()) {
        throw new IllegalArgumentException("DynamicBatcher: setHandlers needs at least one handler");
      }
      if (handlers.contains(null)) {
        throw new IllegalArgumentException("DynamicBatcher: a handler is null");
      }
      if (maxBatchSize < 1) {
        throw new IllegalArgumentException("DynamicBatcher: maxBatchSize must be >= 1, was " + maxBatchSize);
      }
      if (maxDelay.isNegative()) {
        throw new IllegalArgumentException("DynamicBatcher: maxDelay must be >= 0, was " + maxDelay);
      }
      if (queueCapacity < 1) {
        throw new IllegalArgumentException("DynamicBatcher: queueCapacity must be >= 1, was " + queueCapacity);
      }
      int[] sorted = preferredSizes.clone();
      Arrays.sort(sorted);
      for (int i = 0; i < sorted.length; i++) {
        if (sorted[i] < 1 || sorted[i] > maxBatchSize || (i > 0 && sorted[i] == sorted[i - 1])) {
          throw new IllegalArgumentException(
              "DynamicBatcher: preferred batch sizes must be distinct and in 1..maxBatchSize ("
                  + maxBatchSize + "), were " + Arrays.toString(preferredSizes));
        }
      }
      preferredSizes = sorted;
      return new DynamicBatcher<>(this);
    }
  }
}
