package io.ainative.multimodal.store;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counters of one {@link ObjectStore} instance: what it wrote, what it skipped because the
 * content was already stored, and what it read. Thread safe; values only grow.
 */
public final class ObjectStoreStats {
  private final AtomicLong objectsWritten = new AtomicLong();
  private final AtomicLong bytesWritten = new AtomicLong();
  private final AtomicLong duplicatePuts = new AtomicLong();
  private final AtomicLong bytesRead = new AtomicLong();

  void recordWrite(long bytes) {
    objectsWritten.incrementAndGet();
    bytesWritten.addAndGet(bytes);
  }

  void recordDuplicate() {
    duplicatePuts.incrementAndGet();
  }

  void recordRead(long bytes) {
    bytesRead.addAndGet(bytes);
  }

  public long objectsWritten() {
    return objectsWritten.get();
  }

  public long bytesWritten() {
    return bytesWritten.get();
  }

  /** Puts whose bytes were already stored, so nothing was written. */
  public long duplicatePuts() {
    return duplicatePuts.get();
  }

  public long bytesRead() {
    return bytesRead.get();
  }

  @Override
  public String toString() {
    return "ObjectStoreStats{written="
        + objectsWritten()
        + " objects/"
        + bytesWritten()
        + " bytes, duplicates="
        + duplicatePuts()
        + ", read="
        + bytesRead()
        + " bytes}";
  }
}
