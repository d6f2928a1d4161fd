package io.ainative.runner.translation;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.lessThanOrEqualTo;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.util.WindowedValue;
import org.junit.Test;

/** The handoff between the gRPC threads that decode a bundle's outputs and the task thread. */
public class OutputHandoffTest {

  private static final int LIMIT = 100;

  @Test(timeout = 60_000)
  public void aProducer_stopsWaitingAtTheLimit_whenTheTaskThreadIsStuckEmitting() throws Exception {
    OutputHandoff handoff = new OutputHandoff(LIMIT);
    CountDownLatch emitting = new CountDownLatch(1);
    CountDownLatch downstreamFree = new CountDownLatch(1);
    int total = 100_000;
    handoff.put("out", WindowedValue.valueInGlobalWindow(0));
    List<Integer> emitted = new ArrayList<>();
    CompletableFuture<Void> producerDone = new CompletableFuture<>();
    // The task thread: its first emission blocks (downstream buffers full) until the producer is done.
    CompletableFuture<Void> task = CompletableFuture.runAsync(() -> {
      try {
        handoff.emitUntil(producerDone::isDone, (pc, v) -> {
          emitting.countDown();
          await(downstreamFree);
          emitted.add((Integer) v.getValue());
        });
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    emitting.await(10, TimeUnit.SECONDS);
    // The gRPC thread: puts everything while the task thread cannot take anything (it waits at the
    // limit until the stuck emission has lasted the stall time, then no more).
    for (int i = 1; i < total; i++) {
      handoff.put(i % 2 == 0 ? "even" : "odd", WindowedValue.valueInGlobalWindow(i));
    }
    assertThat(handoff.size(), equalTo(total - 1));
    producerDone.complete(null);
    handoff.wake();
    downstreamFree.countDown();
    task.get(30, TimeUnit.SECONDS);

    assertThat(emitted.size(), equalTo(total));
    for (int i = 0; i < total; i++) {
      assertThat(emitted.get(i), equalTo(i));
    }
  }

  @Test(timeout = 60_000)
  public void whileTheTaskThreadEmitsSteadily_aProducerWaitsAtTheLimit_andEverythingArrivesInOrder() throws Exception {
    OutputHandoff handoff = new OutputHandoff(LIMIT);
    int total = 50 * LIMIT;
    CompletableFuture<Void> producer = CompletableFuture.runAsync(() -> {
      try {
        for (int i = 0; i < total; i++) {
          handoff.put("out", WindowedValue.valueInGlobalWindow(i));
        }
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    producer.whenComplete((v, e) -> handoff.wake());
    List<Integer> emitted = new ArrayList<>();
    int[] largestQueue = {0};
    handoff.emitUntil(producer::isDone, (pc, v) -> {
      emitted.add((Integer) v.getValue());
      largestQueue[0] = Math.max(largestQueue[0], handoff.size());
    });
    producer.get(10, TimeUnit.SECONDS);
    handoff.emitAvailable((pc, v) -> emitted.add((Integer) v.getValue()));

    assertThat(emitted.size(), equalTo(total));
    for (int i = 0; i < total; i++) {
      assertThat(emitted.get(i), equalTo(i));
    }
    assertThat("outputs queued while the task thread emitted", largestQueue[0], lessThanOrEqualTo(LIMIT));
  }

  @Test(timeout = 60_000)
  public void emitAvailable_emitsWhatIsQueued_inOrder_withItsPCollection() throws Exception {
    OutputHandoff handoff = new OutputHandoff(LIMIT);
    for (int i = 0; i < 1_000; i++) {
      handoff.put(i % 2 == 0 ? "even" : "odd", WindowedValue.valueInGlobalWindow(i));
    }
    List<Integer> emitted = new ArrayList<>();
    handoff.emitAvailable((pc, v) -> {
      assertThat(pc, equalTo((Integer) v.getValue() % 2 == 0 ? "even" : "odd"));
      emitted.add((Integer) v.getValue());
    });
    assertThat(emitted.size(), equalTo(1_000));
    assertThat(emitted.get(999), equalTo(999));
    assertThat(handoff.size(), equalTo(0));
  }

  private static void await(CountDownLatch latch) {
    try {
      if (!latch.await(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("timed out");
      }
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }
}
