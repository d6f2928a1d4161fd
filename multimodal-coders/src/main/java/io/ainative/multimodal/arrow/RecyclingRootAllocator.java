package io.ainative.multimodal.arrow;

import org.apache.arrow.memory.RootAllocator;

/**
 * A {@link RootAllocator} that keeps large freed blocks and hands them out again, for code that
 * encodes and decodes one Arrow batch after another (the client operator, the inference service,
 * {@link ArrowBatchCodec} in a loop).
 *
 * <p>Why: a plain root allocator takes every buffer from {@code malloc} and gives it back on
 * release. glibc serves requests above its mmap threshold (adaptive, at most 32 MiB) with fresh
 * {@code mmap} regions, so every such batch pays the kernel for zeroed pages on first touch and
 * for unmapping them after, which costs many times what filling a reused buffer costs. A batch of
 * 32 one-MiB images needs such buffers on both sides of the wire.
 *
 * <p>What it does: requests of at least 256 KiB are rounded up to one of eight size classes per
 * power of two (at most 12.5% larger) and, when freed, kept for the next request of the same
 * class, up to {@code retainedBytes} in all (the least recently freed blocks are given back
 * first). Smaller requests go to Arrow's unsafe allocation manager ({@code malloc}) as usual. A
 * recycled block is not zeroed: Arrow vectors zero the buffers whose content matters (validity,
 * offsets) themselves, and the bytes of null slots are undefined, as in fresh {@code malloc}
 * memory.
 *
 * <p>Accounting is unchanged: {@link #getAllocatedMemory()} counts the buffers in use, not the
 * retained ones ({@link #retainedBytes()}), so leak checks work as with a plain root allocator.
 * {@link #close()} frees the retained blocks; a buffer released after that (a leak that the close
 * reported) is freed at once. Thread safe, like every Arrow allocator.
 */
public final class RecyclingRootAllocator extends RootAllocator {
  /** The default bound on the memory kept for reuse: 256 MiB. */
  public static final long DEFAULT_RETAINED_BYTES = 256L << 20;

  private final BlockPool pool;

  /** No allocation limit; keeps up to {@link #DEFAULT_RETAINED_BYTES} for reuse. */
  public RecyclingRootAllocator() {
    this(Long.MAX_VALUE, DEFAULT_RETAINED_BYTES);
  }

  /**
   * @param limit the most bytes in use at once, as for {@link RootAllocator#RootAllocator(long)}
   * @param retainedBytes the most bytes of freed blocks kept for reuse; 0 keeps none
   */
  public RecyclingRootAllocator(long limit, long retainedBytes) {
    this(new BlockPool(retainedBytes), limit);
  }

  private RecyclingRootAllocator(BlockPool pool, long limit) {
    super(
        RootAllocator.configBuilder()
            .from(RootAllocator.defaultConfig())
            .maxAllocation(limit)
            .allocationManagerFactory(pool)
            .build());
    this.pool = pool;
  }

  /** Bytes of freed blocks held for reuse (not counted by {@link #getAllocatedMemory()}). */
  public long retainedBytes() {
    return pool.retainedBytes();
  }

  /** How many large requests were served from a retained block since this allocator was made. */
  public long reusedBlocks() {
    return pool.reuses();
  }

  /** Closes the allocator as {@link RootAllocator#close()} does, then frees the retained blocks. */
  @Override
  public void close() {
    try {
      super.close();
    } finally {
      pool.close();
    }
  }
}
