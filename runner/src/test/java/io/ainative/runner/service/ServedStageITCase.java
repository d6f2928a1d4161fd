package io.ainative.runner.service;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import io.ainative.runner.AiNativeFlinkRunner;
import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import io.ainative.runner.service.client.StageClientOperator;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.options.PortablePipelineOptions;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.resourcehints.ResourceHints;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * A served stage in the Java SDK harness (EMBEDDED): a Java composite with Beam's accelerator
 * resource hint runs in two service instances, each with its own in-process harness. The fast,
 * Python-free check of the served-stage path; the Python model-handler tests are in {@code
 * jobserver.ServedModelHandlerITCase}.
 */
public class ServedStageITCase {

  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  private static final Map<Integer, Integer> RESULTS = new ConcurrentHashMap<>();
  private static final AtomicInteger DELIVERIES = new AtomicInteger();
  private static final AtomicBoolean FAILED_ONCE = new AtomicBoolean();

  private static final AtomicInteger GATED = new AtomicInteger();
  private static final java.util.concurrent.atomic.AtomicLong GATE_CLOSED_AT_MILLIS = new java.util.concurrent.atomic.AtomicLong();
  private static final AtomicBoolean FAIL_ARMED = new AtomicBoolean();
  private static final AtomicBoolean PIPELINE_FAILED_ONCE = new AtomicBoolean();
  private static volatile int gateAfter = Integer.MAX_VALUE;
  private static volatile java.util.concurrent.CountDownLatch gate = new java.util.concurrent.CountDownLatch(0);

  @Before
  public void reset() {
    RESULTS.clear();
    DELIVERIES.set(0);
    FAILED_ONCE.set(false);
    GATED.set(0);
    GATE_CLOSED_AT_MILLIS.set(0);
    FAIL_ARMED.set(false);
    PIPELINE_FAILED_ONCE.set(false);
    gateAfter = Integer.MAX_VALUE;
    gate = new java.util.concurrent.CountDownLatch(0);
  }

  /** x -> 2x + 1 in the service, holding every element after {@link #gateAfter} until the test opens {@link #gate}. */
  private static final class GatedAffine extends PTransform<PCollection<Integer>, PCollection<Integer>> {
    @Override
    public PCollection<Integer> expand(PCollection<Integer> input) {
      return input.apply("Gate", MapElements.into(TypeDescriptors.integers()).via((Integer x) -> {
        if (GATED.incrementAndGet() > gateAfter && gate.getCount() > 0) {
          GATE_CLOSED_AT_MILLIS.compareAndSet(0, System.currentTimeMillis());
          try {
            gate.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted at the gate", e);
          }
        }
        return 2 * x + 1;
      }));
    }
  }

  /** Turns the impulse into 0 .. n-1. */
  static final class Emit extends DoFn<byte[], Integer> {
    private final int n;

    Emit(int n) {
      this.n = n;
    }

    @ProcessElement
    public void process(OutputReceiver<Integer> out) {
      for (int i = 0; i < n; i++) {
        out.output(i);
      }
    }
  }

  /** Fails its task once, on the first element it sees after the test armed it. */
  static final class FailOnce extends DoFn<Integer, Integer> {
    @ProcessElement
    public void process(@Element Integer y, OutputReceiver<Integer> out) {
      if (FAIL_ARMED.get() && PIPELINE_FAILED_ONCE.compareAndSet(false, true)) {
        throw new IllegalStateException("failing the pipeline once, on purpose");
      }
      out.output(y);
    }
  }

  /** x -> 2x + 1, in two steps; the first fails once (one whole bundle) when asked to. */
  private static final class Affine extends PTransform<PCollection<Integer>, PCollection<Integer>> {
    private final int failAt;

    Affine(int failAt) {
      this.failAt = failAt;
    }

    @Override
    public PCollection<Integer> expand(PCollection<Integer> input) {
      int fail = failAt;
      return input
          .apply("Double", MapElements.into(TypeDescriptors.integers()).via((Integer x) -> {
            if (x == fail && FAILED_ONCE.compareAndSet(false, true)) {
              throw new IllegalStateException("failing the bundle with " + x + " once, on purpose");
            }
            return 2 * x;
          }))
          .apply("PlusOne", MapElements.into(TypeDescriptors.integers()).via((Integer x) -> x + 1));
    }
  }

  static final class Collect extends DoFn<Integer, Void> {
    @ProcessElement
    public void process(@Element Integer y) {
      RESULTS.merge((y - 1) / 2, 1, Integer::sum);
      DELIVERIES.incrementAndGet();
    }
  }

  private AiNativeFlinkPipelineOptions options(Path conf, String... extra) {
    List<String> args = new ArrayList<>(List.of("--flinkMaster=[local]", "--parallelism=2", "--flinkConfDir=" + conf));
    args.addAll(List.of(extra));
    AiNativeFlinkPipelineOptions options =
        PipelineOptionsFactory.fromArgs(args.toArray(new String[0])).as(AiNativeFlinkPipelineOptions.class);
    options.setRunner(AiNativeFlinkRunner.class);
    options.as(PortablePipelineOptions.class).setDefaultEnvironmentType("EMBEDDED");
    return options;
  }

  private static long counter(PipelineResult result, String name) {
    return io.ainative.runner.testing.Counters.sum(result, StageClientOperator.METRICS_NAMESPACE, name);
  }

  @Test
  public void acceleratorHintedJavaComposite_isServed_andABundleThatFailsOnce_isRetried_withEveryElementOnce() throws Exception {
    int n = 2000;
    Path conf = tmp.newFolder().toPath();
    io.ainative.runner.testing.JobVertices.restPortIn(conf);
    Pipeline p = Pipeline.create(options(conf));
    p.apply("Inputs", Create.of(java.util.stream.IntStream.range(0, n).boxed().collect(java.util.stream.Collectors.toList()))
            .withCoder(VarIntCoder.of()))
        .apply("Served", new Affine(n / 2).setResourceHints(ResourceHints.create().withAccelerator("type:test;count:1")))
        .apply("Collect", ParDo.of(new Collect()));

    PipelineResult result = p.run();
    assertThat(result.waitUntilFinish(), equalTo(PipelineResult.State.DONE));

    assertThat("the stage failed a bundle once", FAILED_ONCE.get(), equalTo(true));
    assertThat("every input has a result", RESULTS.size(), equalTo(n));
    assertThat("none has two", DELIVERIES.get(), equalTo(n));
    for (int x = 0; x < n; x++) {
      assertThat("input " + x, RESULTS.get(x), equalTo(1));
    }
    assertThat("the client answered every element", counter(result, StageClientOperator.ANSWERED_ELEMENTS), equalTo((long) n));
    assertThat("the failed batch was tried again", counter(result, StageClientOperator.RETRIED_REQUESTS), equalTo(1L));
    assertThat("no instance was lost", counter(result, StageClientOperator.REROUTED_REQUESTS), equalTo(0L));
  }

  /**
   * The client's checkpoint: elements taken in and unanswered when a checkpoint is taken are sent
   * again after the data DAG restores from it, while the service keeps running. As in {@code
   * RpcOperatorITCase}, the sink is not transactional: results emitted between the checkpoint and
   * the failure may reach it twice, at most as many as the client re-sent.
   */
  @Test
  public void dataDagRestore_resendsTheClientsUnansweredElements_andTheServiceKeepsRunning() throws Exception {
    int n = 200;
    gateAfter = 50;
    gate = new java.util.concurrent.CountDownLatch(1);
    Path conf = tmp.newFolder().toPath();
    int restPort = io.ainative.runner.testing.JobVertices.restPortIn(conf);
    // The client takes all n in (its capacity is 4 batches of 64), so checkpoints pass while
    // elements wait at the gate; the impulse source stays up (the test cancels the job), and bundles
    // interrupted by a checkpoint are finished before it (see RpcOperatorITCase).
    Pipeline p = Pipeline.create(options(conf,
        "--checkpointingInterval=300", "--shutdownSourcesAfterIdleMs=600000", "--finishBundleBeforeCheckpointing=true"));
    p.apply(org.apache.beam.sdk.transforms.Impulse.create())
        .apply("Numbers", ParDo.of(new Emit(n)))
        .setCoder(VarIntCoder.of())
        .apply("Served", new GatedAffine().setResourceHints(ResourceHints.create().withAccelerator("type:test;count:1")))
        .apply("FailOnce", ParDo.of(new FailOnce()))
        .apply("Collect", ParDo.of(new Collect()));

    io.ainative.runner.AiNativePipelineResult result = (io.ainative.runner.AiNativePipelineResult) p.run();
    String jobId = result.getJobId().toString();
    io.ainative.runner.testing.JobCheckpoints checkpoints = new io.ainative.runner.testing.JobCheckpoints(restPort, jobId);
    io.ainative.runner.testing.JobVertices vertices = new io.ainative.runner.testing.JobVertices(restPort, jobId);
    List<io.ainative.runner.testing.JobVertices.Snapshot> seen = new ArrayList<>();
    try {
      await(() -> GATE_CLOSED_AT_MILLIS.get() > 0, "an element reached the closed gate", result);
      long closedAt = GATE_CLOSED_AT_MILLIS.get();
      long[] taken = {-1};
      await(() -> {
        for (Map.Entry<Long, Long> c : readQuietly(checkpoints).completedTriggeredAt.entrySet()) {
          if (c.getValue() > closedAt) {
            taken[0] = c.getKey();
            return true;
          }
        }
        return false;
      }, "a checkpoint triggered after the gate closed completed", result);

      FAIL_ARMED.set(true);
      gate.countDown();
      await(() -> {
        try {
          seen.add(vertices.snapshot());
        } catch (java.io.IOException e) {
          // not answering this time
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
        return RESULTS.size() == n;
      }, "every input has a result", result);
      long[] restored = {-1};
      await(() -> (restored[0] = readQuietly(checkpoints).restoredId) >= 0, "the job restored from a checkpoint", result);
      await(() -> counter(result, StageClientOperator.RESENT_AFTER_RESTORE) > 0, "the client reported re-sent elements", result);
      long resent = counter(result, StageClientOperator.RESENT_AFTER_RESTORE);
      // The job runs on (its source stays up): how its vertices look after the restore.
      seen.add(vertices.snapshot());

      assertThat("the pipeline failed once", PIPELINE_FAILED_ONCE.get(), equalTo(true));
      assertThat("restored from checkpoint " + restored[0] + ", one taken after the gate closed or later",
          restored[0] >= taken[0], equalTo(true));
      assertThat("every input has a result", RESULTS.size(), equalTo(n));
      for (Map.Entry<Integer, Integer> r : RESULTS.entrySet()) {
        assertThat("deliveries of input " + r.getKey(), r.getValue() <= 2, equalTo(true));
      }
      assertThat("duplicates at most the re-sent elements", DELIVERIES.get() - n <= resent, equalTo(true));
      assertThat("the service kept running", io.ainative.runner.testing.JobVertices.highestAttempt(seen, "(inference service)"), equalTo(0));
      assertThat("the data DAG restarted", io.ainative.runner.testing.JobVertices.highestAttempt(seen, "(served stage client)"), equalTo(1));
    } finally {
      gate.countDown();
      result.cancel();
    }
  }

  private static io.ainative.runner.testing.JobCheckpoints.Snapshot readQuietly(io.ainative.runner.testing.JobCheckpoints checkpoints) {
    try {
      return checkpoints.read();
    } catch (java.io.IOException e) {
      return new io.ainative.runner.testing.JobCheckpoints.Snapshot();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Waits (2 minutes at most) until {@code condition} holds; fails at once if the job ended. */
  private static void await(java.util.function.BooleanSupplier condition, String what, PipelineResult job) throws InterruptedException {
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(2);
    while (!condition.getAsBoolean()) {
      if (job.getState().isTerminal()) {
        throw new AssertionError("the job ended (" + job.getState() + ") before " + what);
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      Thread.sleep(50);
    }
  }
}
