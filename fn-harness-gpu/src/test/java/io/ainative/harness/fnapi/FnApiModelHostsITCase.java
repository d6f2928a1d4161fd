package io.ainative.harness.fnapi;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.ainative.harness.DynamicBatcher;
import io.ainative.harness.ModelHost;
import io.ainative.harness.testing.FloatArrayCoder;
import io.ainative.harness.testing.IdentityModel;
import io.ainative.transforms.InferenceStep;
import io.ainative.transforms.runtime.Outcome;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.After;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.runner.RunWith;
import org.junit.runners.Parameterized;

/**
 * Batches through Beam's SDK harness in this JVM, both ways a batch can cross: by reference (the
 * default) and inline (coded into the bundle's element). The answers must be the same, per
 * element, with a bad element failing alone; a batch by reference leaves no slot behind.
 */
@RunWith(Parameterized.class)
public class FnApiModelHostsITCase {
  private static final int WIDTH = 4;

  @Parameterized.Parameters(name = "{0}")
  public static Object[] transfers() {
    return FnApiModelHosts.BatchTransfer.values();
  }

  @Parameterized.Parameter public FnApiModelHosts.BatchTransfer transfer;

  @Rule public TemporaryFolder folder = new TemporaryFolder();

  private FnApiModelHosts<float[], float[]> hosts;

  private void start(int copies) throws Exception {
    Path dir = IdentityModel.saved(folder.getRoot().toPath());
    hosts =
        FnApiModelHosts.start(
            IdentityModel.spec(dir, WIDTH), FloatArrayCoder.of(), FloatArrayCoder.of(), ModelHost.Options.defaults(), copies, transfer);
  }

  @After
  public void stop() throws Exception {
    if (hosts != null) {
      hosts.close();
    }
    assertEquals("model copies left in the SDK harness", 0, HostedModelFn.liveInJvm());
    assertEquals("batches left parked", 0, BatchExchange.parked());
    assertEquals("SDK harness threads still running", List.of(), harnessThreadsAfterTheirEnd());
  }

  /** The harness threads still alive once each has had 10 s to return after its end was signalled. */
  private static List<String> harnessThreadsAfterTheirEnd() throws InterruptedException {
    List<String> alive = new ArrayList<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().startsWith("ainative-sdk-harness-")) {
        // close() returned after FnHarness.main did; the thread has at most its last statement left
        t.join(10_000);
        if (t.isAlive()) {
          alive.add(t.getName());
        }
      }
    }
    return alive;
  }

  private static float[] vector(float first, int width) {
    float[] v = new float[width];
    v[0] = first;
    v[width - 1] = -first;
    return v;
  }

  @Test
  public void eachElementGetsItsOwnAnswer_andABadOneFailsAlone() throws Exception {
    start(1);
    List<float[]> batch = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      batch.add(vector(i + 0.5f, i == 3 ? WIDTH + 1 : WIDTH));
    }
    List<Outcome<float[]>> outcomes = hosts.handler().handle(batch);

    assertEquals(6, outcomes.size());
    for (int i = 0; i < 6; i++) {
      if (i == 3) {
        assertFalse("element 3 has the wrong width", outcomes.get(i).isSuccess());
        assertEquals(InferenceStep.PRE_PROCESS, outcomes.get(i).failedStep());
        assertThat(outcomes.get(i).error().getMessage(), containsString("5 values, expected 4"));
      } else {
        assertTrue("element " + i + ": " + outcomes.get(i), outcomes.get(i).isSuccess());
        assertArrayEquals(batch.get(i), outcomes.get(i).output(), 0f);
      }
    }
    assertEquals(0, BatchExchange.parked());
  }

  @Test
  public void close_endsTheHarnessBeforeItsServers_soTheHarnessReportsNoFailure() throws Exception {
    start(1);
    hosts.handler().handle(List.of(vector(1f, WIDTH)));
    // Beam's harness prints its failures to System.err besides logging them (this module's tests
    // have no logging backend); with its servers closed first it printed "Logging stream
    // terminated unexpectedly" at every close
    PrintStream err = System.err;
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    System.setErr(new PrintStream(printed, true, StandardCharsets.UTF_8));
    try {
      hosts.close();
    } finally {
      System.setErr(err);
      hosts = null;
    }
    assertEquals("", printed.toString(StandardCharsets.UTF_8));
  }

  @Test
  public void concurrentBatchesOnTwoCopies_eachGetTheirOwnOutcomes() throws Exception {
    start(2);
    DynamicBatcher.BatchHandler<float[], Outcome<float[]>> handler = hosts.handler();
    ExecutorService callers = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int c = 0; c < 4; c++) {
        int caller = c;
        done.add(
            callers.submit(
                () -> {
                  for (int round = 0; round < 50; round++) {
                    List<float[]> batch = new ArrayList<>();
                    for (int i = 0; i < 1 + (round % 7); i++) {
                      batch.add(vector(caller * 100_000 + round * 100 + i, WIDTH));
                    }
                    List<Outcome<float[]>> outcomes = handler.handle(batch);
                    assertEquals(batch.size(), outcomes.size());
                    for (int i = 0; i < batch.size(); i++) {
                      assertArrayEquals("caller " + caller + " round " + round + " element " + i, batch.get(i), outcomes.get(i).output(), 0f);
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      callers.shutdownNow();
    }
  }
}
