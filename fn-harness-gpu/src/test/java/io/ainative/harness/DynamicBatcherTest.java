package io.ainative.harness;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.instanceOf;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.After;
import org.junit.Test;

/** DynamicBatcher with fake handlers; no timing assertions, latches instead of sleeps. */
public class DynamicBatcherTest {
  private static final Duration LONG = Duration.ofMinutes(10);

  private final List<Integer> batchSizes = new CopyOnWriteArrayList<>();
  private DynamicBatcher<Integer, Integer> batcher;

  @After
  public void closeBatcher() throws Exception {
    if (batcher != null) {
      batcher.close();
    }
  }

  /** Doubles its inputs; the first batch waits for {@code release} after counting down {@code entered}. */
  private static final class GatedDoubler implements DynamicBatcher.BatchHandler<Integer, Integer> {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final AtomicInteger running = new AtomicInteger();
    final AtomicInteger maxRunning = new AtomicInteger();

    @Override
    public List<Integer> handle(List<Integer> batch) throws Exception {
      maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
      try {
        entered.countDown();
        release.await();
        return batch.stream().map(x -> 2 * x).collect(Collectors.toList());
      } finally {
        running.decrementAndGet();
      }
    }
  }

  private DynamicBatcher.Builder<Integer, Integer> builder(
      List<DynamicBatcher.BatchHandler<Integer, Integer>> handlers) {
    return DynamicBatcher.<Integer, Integer>builder()
        .setHandlers(handlers)
        .optBatchSizeListener(batchSizes::add);
  }

  @Test
  public void queuedRequests_areMergedIntoOneBatch_andEachCallerGetsItsOwnResult()
      throws Exception {
    GatedDoubler handler = new GatedDoubler();
    batcher = builder(List.of(handler)).optMaxBatchSize(8).optMaxDelay(LONG).build();
    // with a long delay, the first request waits until the batch is full
    CompletableFuture<Integer> first = batcher.submit(100);
    List<CompletableFuture<Integer>> rest = new ArrayList<>();
    for (int i = 1; i < 8; i++) {
      rest.add(batcher.submit(i));
    }
    handler.release.countDown();
    assertEquals(200, (int) first.get(1, TimeUnit.MINUTES));
    for (int i = 1; i < 8; i++) {
      assertEquals(2 * i, (int) rest.get(i - 1).get(1, TimeUnit.MINUTES));
    }
    assertEquals(List.of(8), batchSizes);
  }

  @Test
  public void loneRequest_leavesAfterTheMaxDelay_inABatchOfOne() throws Exception {
    GatedDoubler handler = new GatedDoubler();
    handler.release.countDown();
    batcher = builder(List.of(handler)).optMaxBatchSize(64).optMaxDelay(Duration.ofMillis(5)).build();
    assertEquals(14, (int) batcher.submit(7).get(1, TimeUnit.MINUTES));
    assertEquals(List.of(1), batchSizes);
  }

  @Test
  public void preferredSizes_shapeTheBatches_andDrainSendsTheRest() throws Exception {
    GatedDoubler handler = new GatedDoubler();
    batcher =
        builder(List.of(handler))
            .optMaxBatchSize(8)
            .optPreferredBatchSizes(2, 4)
            .optMaxDelay(LONG)
            .build();
    List<CompletableFuture<Integer>> futures = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      futures.add(batcher.submit(i)); // reaches the largest preferred size: runs at once
    }
    handler.entered.await();
    for (int i = 4; i < 14; i++) {
      futures.add(batcher.submit(i)); // queued behind the running batch
    }
    handler.release.countDown();
    // 10 queued: two batches of 4 (largest preferred), then 2 wait for the delay; drain sends them
    batcher.drain();
    for (int i = 0; i < futures.size(); i++) {
      assertEquals(2 * i, (int) futures.get(i).getNow(-1));
    }
    assertEquals(List.of(4, 4, 4, 2), batchSizes);
  }

  @Test
  public void fullQueue_pushesBack_trySubmitRefuses_andSubmitBlocksUntilThereIsRoom()
      throws Exception {
    GatedDoubler handler = new GatedDoubler();
    batcher =
        builder(List.of(handler)).optMaxBatchSize(1).optQueueCapacity(2).optMaxDelay(LONG).build();
    CompletableFuture<Integer> running = batcher.submit(1);
    handler.entered.await(); // the worker holds request 1: the queue is empty again
    batcher.submit(2);
    batcher.submit(3);
    assertEquals(2, batcher.queueDepth());
    assertNull(batcher.trySubmit(4));

    ExecutorService caller = Executors.newSingleThreadExecutor();
    try {
      CountDownLatch submitting = new CountDownLatch(1);
      Future<CompletableFuture<Integer>> blocked =
          caller.submit(
              () -> {
                submitting.countDown();
                return batcher.submit(5);
              });
      submitting.await();
      assertEquals(2, batcher.queueDepth()); // still full: the fifth request is not queued
      handler.release.countDown();
      assertEquals(10, (int) blocked.get(1, TimeUnit.MINUTES).get(1, TimeUnit.MINUTES));
      assertEquals(2, (int) running.get(1, TimeUnit.MINUTES));
    } finally {
      caller.shutdownNow();
    }
  }

  @Test
  public void cancelledRequests_neverRun_freeTheirRoom_andAreCounted() throws Exception {
    List<Integer> ran = new CopyOnWriteArrayList<>();
    GatedDoubler gate = new GatedDoubler();
    batcher =
        builder(List.of(batch -> {
              ran.addAll(batch);
              return gate.handle(batch);
            }))
            .optMaxBatchSize(1)
            .optQueueCapacity(3)
            .optMaxDelay(LONG)
            .build();
    CompletableFuture<Integer> running = batcher.submit(1);
    gate.entered.await(); // the worker holds request 1
    CompletableFuture<Integer> gone2 = batcher.submit(2);
    CompletableFuture<Integer> kept = batcher.submit(3);
    CompletableFuture<Integer> gone4 = batcher.submit(4);
    gone2.cancel(false);
    gone4.cancel(false);

    assertEquals(2, batcher.dropCancelled());
    assertEquals(1, batcher.queueDepth());
    CompletableFuture<Integer> late = batcher.submit(5);
    late.cancel(false); // cancelled after the drop: skipped when a batch would take it
    gate.release.countDown();

    assertEquals(2, (int) running.get(1, TimeUnit.MINUTES));
    assertEquals(6, (int) kept.get(1, TimeUnit.MINUTES));
    batcher.drain();
    assertEquals(List.of(1, 3), ran);
    assertEquals(3, batcher.cancelledCount());
  }

  @Test
  public void eachModelCopy_runsOneBatchAtATime_whileCopiesRunInParallel() throws Exception {
    GatedDoubler a = new GatedDoubler();
    GatedDoubler b = new GatedDoubler();
    batcher = builder(List.of(a, b)).optMaxBatchSize(2).optMaxDelay(LONG).build();
    List<CompletableFuture<Integer>> futures = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      futures.add(batcher.submit(i));
    }
    a.entered.await();
    b.entered.await(); // both copies busy at once
    for (int i = 4; i < 40; i++) {
      futures.add(batcher.submit(i));
    }
    a.release.countDown();
    b.release.countDown();
    for (int i = 0; i < futures.size(); i++) {
      assertEquals(2 * i, (int) futures.get(i).get(1, TimeUnit.MINUTES));
    }
    assertEquals(1, a.maxRunning.get());
    assertEquals(1, b.maxRunning.get());
  }

  @Test
  public void manyConcurrentCallers_eachGetTheirOwnResult() throws Exception {
    GatedDoubler handler = new GatedDoubler();
    handler.release.countDown();
    batcher = builder(List.of(handler)).optMaxBatchSize(16).optMaxDelay(Duration.ofMillis(2)).build();
    ExecutorService callers = Executors.newFixedThreadPool(8);
    try {
      List<Future<Boolean>> checks = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int base = t * 1000;
        checks.add(
            callers.submit(
                () -> {
                  for (int i = 0; i < 200; i++) {
                    if (batcher.submit(base + i).get(1, TimeUnit.MINUTES) != 2 * (base + i)) {
                      return false;
                    }
                  }
                  return true;
                }));
      }
      for (Future<Boolean> check : checks) {
        assertTrue(check.get(2, TimeUnit.MINUTES));
      }
      assertEquals(1600, batchSizes.stream().mapToInt(Integer::intValue).sum());
    } finally {
      callers.shutdownNow();
    }
  }

  @Test
  public void failingBatch_failsOnlyItsOwnCallers_withTheHandlersError() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    batcher =
        builder(
                List.of(
                    batch -> {
                      if (calls.incrementAndGet() == 1) {
                        throw new IllegalStateException("model crashed");
                      }
                      return batch;
                    }))
            .optMaxBatchSize(2)
            .optMaxDelay(LONG)
            .build();
    CompletableFuture<Integer> a = batcher.submit(1);
    CompletableFuture<Integer> b = batcher.submit(2);
    ExecutionException e = assertThrows(ExecutionException.class, () -> a.get(1, TimeUnit.MINUTES));
    assertThat(e.getCause(), instanceOf(IllegalStateException.class));
    assertThrows(ExecutionException.class, () -> b.get(1, TimeUnit.MINUTES));
    CompletableFuture<Integer> c = batcher.submit(3);
    CompletableFuture<Integer> d = batcher.submit(4);
    assertEquals(3, (int) c.get(1, TimeUnit.MINUTES));
    assertEquals(4, (int) d.get(1, TimeUnit.MINUTES));
  }

  @Test
  public void handlerReturningTheWrongCount_failsTheBatch_namingBothCounts() throws Exception {
    batcher =
        builder(List.of(batch -> Collections.singletonList(0)))
            .optMaxBatchSize(2)
            .optMaxDelay(LONG)
            .build();
    CompletableFuture<Integer> a = batcher.submit(1);
    batcher.submit(2);
    ExecutionException e = assertThrows(ExecutionException.class, () -> a.get(1, TimeUnit.MINUTES));
    assertThat(e.getCause().getMessage(), containsString("returned 1 outputs for a batch of 2"));
  }

  @Test
  public void afterDrain_newRequestsAreRejected_andWorkersStopOnClose() throws Exception {
    GatedDoubler handler = new GatedDoubler();
    handler.release.countDown();
    batcher = builder(List.of(handler)).optMaxDelay(LONG).build();
    CompletableFuture<Integer> queued = batcher.submit(21);
    batcher.drain();
    assertEquals(42, (int) queued.getNow(-1));
    assertThrows(RejectedExecutionException.class, () -> batcher.submit(1));
    batcher.close();
    assertThat(
        Thread.getAllStackTraces().keySet().stream()
            .filter(t -> t.getName().startsWith("dynamic-batcher-batcher-") && t.isAlive())
            .count(),
        org.hamcrest.Matchers.is(0L));
    batcher = null;
  }

  @Test
  public void impossibleSettings_areRejected_namingTheSetting() {
    GatedDoubler h = new GatedDoubler();
    assertThat(
        assertThrows(
                IllegalArgumentException.class,
                () -> DynamicBatcher.<Integer, Integer>builder().build())
            .getMessage(),
        containsString("setHandlers"));
    assertThat(
        assertThrows(
                IllegalArgumentException.class,
                () -> builder(List.of(h)).optMaxBatchSize(4).optPreferredBatchSizes(8).build())
            .getMessage(),
        containsString("preferred batch sizes"));
    assertThat(
        assertThrows(
                IllegalArgumentException.class, () -> builder(List.of(h)).optQueueCapacity(0).build())
            .getMessage(),
        containsString("queueCapacity"));
  }
}
