package io.ainative.runner.translation;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.util.WindowedValue;
import org.junit.Test;

/** The handoff between the gRPC threads that decode a bundle's outputs and the task thread. */
public class OutputHandoffTest {

  @Test(timeout = 60_000)
  public void aProducer_neverWaits_evenWhileTheTaskThreadIsStuckEmitting() throws Exception {
    OutputHandoff handoff = new OutputHandoff();
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
    // The gRPC thread: puts everything while the task thread cannot take anything.
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
  public void emitAvailable_emitsWhatIsQueued_inOrder_withItsPCollection() {
    OutputHandoff handoff = new OutputHandoff();
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
