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

  /**
   * The task thread's first emission blocks (downstream buffers full) while the producer, the gRPC
   * thread, puts {@code total - 1} more outputs; {@code whileStuck} runs before the task thread is
   * let go. Returns what the task thread emitted, checking each output's PCollection.
   */
  private static List<Integer> emitWhileStuck(OutputHandoff handoff, int total, Runnable whileStuck) throws Exception {
    CountDownLatch emitting = new CountDownLatch(1);
    CountDownLatch downstreamFree = new CountDownLatch(1);
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
    whileStuck.run();
    producerDone.complete(null);
    handoff.wake();
    downstreamFree.countDown();
    task.get(30, TimeUnit.SECONDS);
    return emitted;
  }

  private static void assertInOrder(List<Integer> emitted, int total) {
    assertThat(emitted.size(), equalTo(total));
    for (int i = 0; i < total; i++) {
      assertThat(emitted.get(i), equalTo(i));
    }
  }

  @Test(timeout = 60_000)
  public void aProducer_neverWaits_evenWhileTheTaskThreadIsStuckEmitting() throws Exception {
    OutputHandoff handoff = handoff(1_000_000);
    int total = 100_000;
    List<Integer> emitted = emitWhileStuck(handoff, total, () -> assertThat(handoff.size(), equalTo(total - 1)));
    assertInOrder(emitted, total);
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
    int total = 50_000;
    List<Integer> emitted = emitWhileStuck(handoff, total, () -> {
      // the first output is being emitted; of the rest, 100 wait in memory and the others on disk
      assertThat(handoff.size(), equalTo(total - 1));
      assertThat(handoff.spilled(), equalTo((long) total - 1 - 100));
      try {
        assertThat(spillFiles().size(), equalTo(1));
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    });
    assertInOrder(emitted, total);
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
