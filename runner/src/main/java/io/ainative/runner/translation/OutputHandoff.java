package io.ainative.runner.translation;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.util.WindowedValue;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * A stage's outputs, decoded on the data service's gRPC threads, on their way to the task thread,
 * which alone may emit them.
 *
 * <p>Threading: {@link #put} on any thread, never waiting for the task thread; {@link
 * #emitAvailable}, {@link #emitUntil} and {@link #clear} on the task thread only. A put must not
 * wait: the thread that puts reads the one data stream that an SDK harness shares between all its
 * bundles, so a put waiting for this stage's task thread (itself waiting for downstream buffers)
 * would hold back the outputs of every other stage's bundle in that harness, downstream ones
 * included, and the job would wait for ever.
 *
 * <p>Memory: at most {@code memoryLimit} outputs wait in memory. While more are waiting, the
 * following ones are encoded with their PCollection's coder into segment files in the spill
 * directory (the TaskManager's temporary directories), which the task thread reads back, in order,
 * and deletes. So a harness that runs far ahead of a slow downstream (one element that fans out into
 * a million, a large split) costs disk, not heap.
 */
final class OutputHandoff {
  private static final long WAKE_MILLIS = 50;
  /** A segment is closed, and readable by the task thread, at this size. */
  static final long SEGMENT_BYTES = 32L << 20;

  private final int memoryLimit;
  private final Supplier<Path> spillDirectory;
  private final Function<String, Coder<WindowedValue<?>>> coders;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  /** In order: pairs (PCollection id, output) held in memory, and closed {@link Segment}s. */
  private final ArrayDeque<Object> queue = new ArrayDeque<>();
  private int inMemory;
  /** The segment being written; outputs go here while it is open, to keep their order. */
  private @Nullable Segment open;
  private long spilled;

  /**
   * @param memoryLimit outputs held in memory before the next ones spill
   * @param spillDirectory where segment files go (asked for when the first one is made)
   * @param coders each PCollection's coder of the outputs as {@link #put} gets them
   */
  OutputHandoff(int memoryLimit, Supplier<Path> spillDirectory, Function<String, Coder<WindowedValue<?>>> coders) {
    if (memoryLimit < 1) {
      throw new IllegalArgumentException("memoryLimit must be >= 1, was " + memoryLimit);
    }
    this.memoryLimit = memoryLimit;
    this.spillDirectory = spillDirectory;
    this.coders = coders;
  }

  /**
   * Queues one output of PCollection {@code pCollectionId}: in memory, or, past the memory limit,
   * in a segment file.
   *
   * @throws UncheckedIOException when a spilled output cannot be written, naming the directory
   */
  void put(String pCollectionId, WindowedValue<?> output) {
    lock.lock();
    try {
      if (open == null && inMemory < memoryLimit) {
        queue.add(pCollectionId);
        queue.add(output);
        inMemory++;
      } else {
        if (open == null) {
          open = new Segment(spillDirectory.get());
        }
        open.write(pCollectionId, output);
        spilled++;
        if (open.bytes >= SEGMENT_BYTES) {
          open.finishWriting();
          queue.add(open);
          open = null;
        }
      }
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
        while (isEmptyLocked() && !done.getAsBoolean()) {
          changed.await(WAKE_MILLIS, TimeUnit.MILLISECONDS);
        }
        if (isEmptyLocked()) {
          return;
        }
        batch = drainLocked();
      } finally {
        lock.unlock();
      }
      emit(batch, emitter);
    }
  }

  /** Drops what is queued (a failed bundle's outputs), spilled ones included. */
  void clear() {
    List<Segment> segments = new ArrayList<>();
    lock.lock();
    try {
      for (Object o : queue) {
        if (o instanceof Segment) {
          segments.add((Segment) o);
        }
      }
      if (open != null) {
        segments.add(open);
        open = null;
      }
      queue.clear();
      inMemory = 0;
    } finally {
      lock.unlock();
    }
    segments.forEach(Segment::delete);
  }

  /** Outputs waiting, in memory and spilled. */
  int size() {
    lock.lock();
    try {
      int n = inMemory + (open == null ? 0 : open.count);
      for (Object o : queue) {
        if (o instanceof Segment) {
          n += ((Segment) o).count;
        }
      }
      return n;
    } finally {
      lock.unlock();
    }
  }

  /** Outputs that went through a segment file since this handoff was made. */
  long spilled() {
    lock.lock();
    try {
      return spilled;
    } finally {
      lock.unlock();
    }
  }

  private boolean isEmptyLocked() {
    return queue.isEmpty() && (open == null || open.count == 0);
  }

  private Object @Nullable [] take() {
    lock.lock();
    try {
      return isEmptyLocked() ? null : drainLocked();
    } finally {
      lock.unlock();
    }
  }

  /** Takes everything queued; an open segment only when nothing older is left (it is the newest). */
  private Object[] drainLocked() {
    if (queue.isEmpty() && open != null) {
      open.finishWriting();
      queue.add(open);
      open = null;
    }
    Object[] batch = queue.toArray();
    queue.clear();
    inMemory = 0;
    return batch;
  }

  private void emit(Object[] batch, OutputReadingBundleFactory.Emitter emitter) {
    int i = 0;
    try {
      while (i < batch.length) {
        if (batch[i] instanceof Segment) {
          Segment s = (Segment) batch[i];
          batch[i++] = null;
          s.emitAndDelete(emitter);
        } else {
          emitter.emit((String) batch[i], (WindowedValue<?>) batch[i + 1]);
          i += 2;
        }
      }
    } finally {
      // Emitting failed: the task fails; delete what this batch still held on disk.
      for (; i < batch.length; i++) {
        if (batch[i] instanceof Segment) {
          ((Segment) batch[i]).delete();
        }
      }
    }
  }

  /** One spill file: records of (PCollection index, encoded length, encoded output). */
  private final class Segment {
    private final Path file;
    private final DataOutputStream out;
    private final Map<String, Integer> ids = new HashMap<>();
    private final List<String> pCollections = new ArrayList<>();
    int count;
    long bytes;

    Segment(Path directory) {
      try {
        Files.createDirectories(directory);
        this.file = Files.createTempFile(directory, "ainative-outputs-", ".spill");
        this.out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file), 1 << 16));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot create a file to spill a stage's outputs to in " + directory, e);
      }
    }

    void write(String pCollectionId, WindowedValue<?> output) {
      Integer id = ids.get(pCollectionId);
      if (id == null) {
        id = pCollections.size();
        ids.put(pCollectionId, id);
        pCollections.add(pCollectionId);
      }
      try {
        byte[] encoded = CoderUtils.encodeToByteArray(coders.apply(pCollectionId), output);
        out.writeInt(id);
        out.writeInt(encoded.length);
        out.write(encoded);
        count++;
        bytes += 8 + encoded.length;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot spill an output of " + pCollectionId + " to " + file, e);
      }
    }

    void finishWriting() {
      try {
        out.close();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot finish the spill file " + file, e);
      }
    }

    /** On the task thread: reads the outputs back in order, emits them, then deletes the file. */
    void emitAndDelete(OutputReadingBundleFactory.Emitter emitter) {
      try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
        for (int n = 0; n < count; n++) {
          String pCollectionId = pCollections.get(in.readInt());
          byte[] encoded = new byte[in.readInt()];
          in.readFully(encoded);
          emitter.emit(pCollectionId, CoderUtils.decodeFromByteArray(coders.apply(pCollectionId), encoded));
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read spilled outputs back from " + file, e);
      } finally {
        delete();
      }
    }

    void delete() {
      try {
        out.close();
      } catch (IOException e) {
        // deleting anyway
      }
      try {
        Files.deleteIfExists(file);
      } catch (IOException e) {
        // a temporary directory: the TaskManager cleans it
      }
    }
  }
}
