package io.ainative.runner.translation;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.lessThanOrEqualTo;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.beam.sdk.util.WindowedValue;
import org.junit.Test;

/** The handoff between the gRPC threads that decode a bundle's outputs and the task thread. */
public class OutputHandoffTest {
  private static final int LIMIT = 100;

  @Test(timeout = 60_000)
  public void puts_neverWait_whileTheTaskThreadIsNotDraining() throws Exception {
    OutputHandoff handoff = new OutputHandoff(LIMIT);
    for (int i = 0; i < 10 * LIMIT; i++) {
      handoff.put("out", WindowedValue.valueInGlobalWindow(i));
    }
    List<Object> emitted = new ArrayList<>();
    handoff.emitAvailable((pc, v) -> emitted.add(v.getValue()));
    assertThat(emitted.size(), equalTo(10 * LIMIT));
    assertThat(emitted.get(10 * LIMIT - 1), equalTo(10 * LIMIT - 1));
  }

  @Test(timeout = 60_000)
  public void whileDraining_aProducerWaitsAtTheLimit_andEverythingIsEmittedInOrder() throws Exception {
    OutputHandoff handoff = new OutputHandoff(LIMIT);
    int total = 50 * LIMIT;
    AtomicInteger largestQueue = new AtomicInteger();
    CompletableFuture<Void> producer = CompletableFuture.runAsync(() -> {
      try {
        for (int i = 0; i < total; i++) {
          handoff.put(i % 2 == 0 ? "even" : "odd", WindowedValue.valueInGlobalWindow(i));
        }
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    producer.whenComplete((v, e) -> handoff.wake());
    List<Integer> emitted = new ArrayList<>();
    handoff.emitUntil(producer::isDone, (pc, v) -> {
      int value = (Integer) v.getValue();
      assertThat(pc, equalTo(value % 2 == 0 ? "even" : "odd"));
      emitted.add(value);
      largestQueue.accumulateAndGet(handoff.size(), Math::max);
    });
    producer.get(10, TimeUnit.SECONDS);
    handoff.emitAvailable((pc, v) -> emitted.add((Integer) v.getValue()));

    assertThat(emitted.size(), equalTo(total));
    for (int i = 0; i < total; i++) {
      assertThat(emitted.get(i), equalTo(i));
    }
    assertThat("outputs queued while the task thread drained", largestQueue.get(), lessThanOrEqualTo(LIMIT));
  }
}
