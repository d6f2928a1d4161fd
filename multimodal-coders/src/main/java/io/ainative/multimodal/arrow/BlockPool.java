package io.ainative.multimodal.arrow;

import java.util.ArrayDeque;
import java.util.Iterator;
import org.apache.arrow.memory.AllocationManager;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.unsafe.UnsafeAllocationManager;
import org.apache.arrow.memory.util.MemoryUtil;

/**
 * The allocation manager factory behind {@link RecyclingRootAllocator}: large blocks are kept
 * after release, by size class, and reused. Thread safe (Arrow releases buffers on whichever
 * thread drops the last reference).
 */
final class BlockPool implements AllocationManager.Factory {
  /** Requests below this go to Arrow's unsafe allocation manager (malloc keeps those cheap). */
  static final long MIN_POOLED_BYTES = 256L << 10;

  private final AllocationManager.Factory small = UnsafeAllocationManager.FACTORY;
  private final long retainLimit;

  /** Free blocks, most recently freed first: {capacity, address}. */
  private final ArrayDeque<long[]> free = new ArrayDeque<>();

  private long retained;
  private long reuses;
  private boolean closed;

  BlockPool(long retainLimit) {
    if (retainLimit < 0) {
      throw new IllegalArgumentException("retainedBytes must be >= 0, got " + retainLimit);
    }
    this.retainLimit = retainLimit;
  }

  /** The capacity a request is served with: eight classes per power of two. */
  static long sizeClass(long size) {
    long step = Long.highestOneBit(size) >>> 3;
    return (size + step - 1) / step * step;
  }

  @Override
  public AllocationManager create(BufferAllocator accountingAllocator, long size) {
    if (size < MIN_POOLED_BYTES) {
      return small.create(accountingAllocator, size);
    }
    long capacity = sizeClass(size);
    long address = take(capacity);
    if (address == 0) {
      address = MemoryUtil.allocateMemory(capacity);
    }
    return new Block(accountingAllocator, size, capacity, address);
  }

  @Override
  public ArrowBuf empty() {
    return small.empty();
  }

  private synchronized long take(long capacity) {
    Iterator<long[]> it = free.iterator();
    while (it.hasNext()) {
      long[] b = it.next();
      if (b[0] == capacity) {
        it.remove();
        retained -= capacity;
        reuses++;
        return b[1];
      }
    }
    return 0;
  }

  private void give(long capacity, long address) {
    synchronized (this) {
      if (!closed && capacity <= retainLimit) {
        free.addFirst(new long[] {capacity, address});
        retained += capacity;
        address = 0;
      }
    }
    if (address != 0) {
      MemoryUtil.freeMemory(address);
    }
    trim();
  }

  /** Frees the least recently freed blocks until the retained bytes fit the limit. */
  private void trim() {
    while (true) {
      long[] victim;
      synchronized (this) {
        if (retained <= retainLimit || free.isEmpty()) {
          return;
        }
        victim = free.removeLast();
        retained -= victim[0];
      }
      MemoryUtil.freeMemory(victim[1]);
    }
  }

  synchronized long retainedBytes() {
    return retained;
  }

  synchronized long reuses() {
    return reuses;
  }

  /** Frees every retained block; blocks released later are freed at once. */
  void close() {
    ArrayDeque<long[]> blocks;
    synchronized (this) {
      closed = true;
      blocks = new ArrayDeque<>(free);
      free.clear();
      retained = 0;
    }
    for (long[] b : blocks) {
      MemoryUtil.freeMemory(b[1]);
    }
  }

  /** One pooled block; reports the requested size, which is what the allocator accounted. */
  private final class Block extends AllocationManager {
    private final long size;
    private final long capacity;
    private final long address;

    Block(BufferAllocator accountingAllocator, long size, long capacity, long address) {
      super(accountingAllocator);
      this.size = size;
      this.capacity = capacity;
      this.address = address;
    }

    @Override
    public long getSize() {
      return size;
    }

    @Override
    protected long memoryAddress() {
      return address;
    }

    @Override
    protected void release0() {
      give(capacity, address);
    }
  }
}
