package io.ainative.runner.translation;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.util.WindowedValue;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The handoff between the gRPC threads that decode a bundle's outputs and the task thread. */
@SuppressWarnings({"unchecked", "rawtypes"})
public class OutputHandoffTest {
  @Rule public final TemporaryFolder temp = new TemporaryFolder();

  private static final Coder<WindowedValue<?>> INTS = (Coder) WindowedValue.getFullCoder(VarIntCoder.of(), GlobalWindow.Coder.INSTANCE);

  private OutputHandoff handoff(int memoryLimit) {
    return new OutputHandoff(memoryLimit, () -> temp.getRoot().toPath().resolve("spill"), pc -> INTS);
  }

  private List<Path> spillFiles() throws Exception {
    Path dir = temp.getRoot().toPath().resolve("spill");
    if (!Files.exists(dir)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(dir)) {
      return files.collect(Collectors.toList());
    }
  }

  @Test(timeout = 60_000)
  public void aProducer_neverWaits_evenWhileTheTaskThreadIsStuckEmitting() throws Exception {
    OutputHandoff handoff = handoff(1_000_000);
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
    OutputHandoff handoff = handoff(1_000_000);
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

  @Test(timeout = 60_000)
  public void pastTheMemoryLimit_outputsSpillToDisk_andComeBackInOrder_thenTheFilesAreGone() throws Exception {
    OutputHandoff handoff = handoff(100);
    CountDownLatch emitting = new CountDownLatch(1);
    CountDownLatch downstreamFree = new CountDownLatch(1);
    int total = 50_000;
    handoff.put("even", WindowedValue.valueInGlobalWindow(0));
    List<Integer> emitted = new ArrayList<>();
    CompletableFuture<Void> producerDone = new CompletableFuture<>();
    CompletableFuture<Void> task = CompletableFuture.runAsync(() -> {
      try {
        handoff.emitUntil(producerDone::isDone, (pc, v) -> {
          emitting.countDown();
          await(downstreamFree);
          assertThat(pc, equalTo((Integer) v.getValue() % 2 == 0 ? "even" : "odd"));
          emitted.add((Integer) v.getValue());
        });
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    emitting.await(10, TimeUnit.SECONDS);
    for (int i = 1; i < total; i++) {
      handoff.put(i % 2 == 0 ? "even" : "odd", WindowedValue.valueInGlobalWindow(i));
    }
    // the first output is being emitted; of the rest, 100 wait in memory and the others on disk
    assertThat(handoff.size(), equalTo(total - 1));
    assertThat(handoff.spilled(), equalTo((long) total - 1 - 100));
    assertThat(spillFiles().size(), equalTo(1));
    producerDone.complete(null);
    handoff.wake();
    downstreamFree.countDown();
    task.get(30, TimeUnit.SECONDS);

    assertThat(emitted.size(), equalTo(total));
    for (int i = 0; i < total; i++) {
      assertThat(emitted.get(i), equalTo(i));
    }
    assertThat(spillFiles(), equalTo(List.of()));
  }

  @Test(timeout = 60_000)
  public void outputsThatArriveWhileASegmentIsReadBack_keepTheirPlace() throws Exception {
    OutputHandoff handoff = handoff(10);
    for (int i = 0; i < 1_000; i++) {
      handoff.put("out", WindowedValue.valueInGlobalWindow(i));
    }
    List<Integer> emitted = new ArrayList<>();
    int[] next = {1_000};
    handoff.emitAvailable((pc, v) -> {
      emitted.add((Integer) v.getValue());
      if (next[0] < 3_000) {
        // the harness keeps sending while the task thread emits
        handoff.put("out", WindowedValue.valueInGlobalWindow(next[0]++));
      }
    });
    assertThat(emitted.size(), equalTo(3_000));
    for (int i = 0; i < emitted.size(); i++) {
      assertThat(emitted.get(i), equalTo(i));
    }
    assertThat(handoff.size(), equalTo(0));
    assertThat(spillFiles(), equalTo(List.of()));
  }

  @Test
  public void clear_dropsSpilledOutputs_andDeletesTheirFiles() throws Exception {
    OutputHandoff handoff = handoff(5);
    for (int i = 0; i < 500; i++) {
      handoff.put("out", WindowedValue.valueInGlobalWindow(i));
    }
    assertThat(spillFiles().size(), equalTo(1));
    handoff.clear();
    assertThat(handoff.size(), equalTo(0));
    assertThat(spillFiles(), equalTo(List.of()));
    List<Integer> emitted = new ArrayList<>();
    handoff.put("out", WindowedValue.valueInGlobalWindow(7));
    handoff.emitAvailable((pc, v) -> emitted.add((Integer) v.getValue()));
    assertThat(emitted, equalTo(List.of(7)));
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
