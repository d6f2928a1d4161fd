package io.ainative.runner.service;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.lessThan;
import static org.junit.Assert.assertThrows;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.ainative.harness.testing.FloatArrayCoder;
import io.ainative.harness.testing.ShapesClassifier;
import io.ainative.runner.AiNativeFlinkRunner;
import io.ainative.runner.AiNativePipelineResult;
import io.ainative.runner.ScaleService;
import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import io.ainative.runner.service.client.RpcClientOperator;
import io.ainative.runner.testing.JobCheckpoints;
import io.ainative.runner.testing.JobVertices;
import io.ainative.transforms.InferenceMetrics;
import io.ainative.transforms.InferenceResult;
import io.ainative.transforms.ModelSpec;
import io.ainative.transforms.RunInference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.options.PortablePipelineOptions;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Impulse;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.joda.time.Duration;
import org.junit.Before;
import org.junit.BeforeClass;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * Scaling a running job's inference service on the embedded cluster, with the real DJL engine and
 * real gRPC: instances are activated and parked inside the tasks the service reserved, while
 * elements flow, with no task restarted and no checkpoint.
 */
public class ElasticScalingITCase {
  private static final int SIZE = 32;
  private static final String STEP = "Classify";
  /** The worker threads of an instance's batcher: one per model copy, gone when it is parked. */
  private static final String BATCHER_THREADS = "dynamic-batcher-" + ShapesClassifier.MODEL_NAME + "-";

  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  private static Path model;

  // The embedded cluster runs in this JVM: the model's pre-processing and the sink report here.
  static final Map<Integer, AtomicInteger> DELIVERIES = new ConcurrentHashMap<>();
  static final AtomicBoolean GATE_ARMED = new AtomicBoolean();
  static final AtomicInteger HELD_AT_GATE = new AtomicInteger();
  /** How long the model takes per element: paces the stream (a sleep, so instances run in parallel). */
  static volatile long millisPerElement;
  /** How long the source waits before each element: paces the input. */
  static volatile long millisPerEmit;
  static volatile CountDownLatch gate = new CountDownLatch(0);

  @BeforeClass
  public static void trainModel() {
    model = ShapesClassifier.trainedModel(Path.of("target/test-models"), SIZE, 1);
  }

  @Before
  public void reset() {
    DELIVERIES.clear();
    GATE_ARMED.set(false);
    HELD_AT_GATE.set(0);
    gate = new CountDownLatch(0);
    millisPerElement = 0;
    millisPerEmit = 0;
  }

  /**
   * Pre-processing that, once the test armed it, holds every element until the test opens {@link
   * #gate}: model calls then run for as long as the test wants, whatever the machine's load.
   */
  static NDList preProcess(NDManager manager, float[] pixels) {
    if (millisPerElement > 0) {
      try {
        Thread.sleep(millisPerElement);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while pacing", e);
      }
    }
    if (GATE_ARMED.get() && gate.getCount() > 0) {
      HELD_AT_GATE.incrementAndGet();
      try {
        gate.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted at the gate", e);
      }
    }
    return new NDList(manager.create(pixels, new Shape(1, SIZE, SIZE)));
  }

  static int label(NDList output) {
    return (int) output.singletonOrThrow().argMax().getLong();
  }

  /** Turns the impulse into {@code n} (synthetic) images keyed by id. */
  static final class EmitImages extends DoFn<byte[], KV<Integer, float[]>> {
    private final int n;

    EmitImages(int n) {
      this.n = n;
    }

    @ProcessElement
    public void process(OutputReceiver<KV<Integer, float[]>> out) {
      for (int id = 0; id < n; id++) {
        if (millisPerEmit > 0) {
          try {
            Thread.sleep(millisPerEmit);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while pacing the input", e);
          }
        }
        float[] pixels = new float[SIZE * SIZE];
        for (int i = 0; i < pixels.length; i++) {
          pixels[i] = ((id + i) % 7) / 7f;
        }
        out.output(KV.of(id, pixels));
      }
    }
  }

  static final class Collect extends DoFn<KV<Integer, InferenceResult<float[], Integer>>, Void> {
    @ProcessElement
    public void process(@Element KV<Integer, InferenceResult<float[], Integer>> result) {
      DELIVERIES.computeIfAbsent(result.getKey(), k -> new AtomicInteger()).incrementAndGet();
    }
  }

  private AiNativeFlinkPipelineOptions options(Path conf, String... extra) {
    List<String> args = new ArrayList<>(List.of("--flinkMaster=[local]", "--parallelism=1", "--flinkConfDir=" + conf));
    args.addAll(List.of(extra));
    AiNativeFlinkPipelineOptions options =
        PipelineOptionsFactory.fromArgs(args.toArray(new String[0])).as(AiNativeFlinkPipelineOptions.class);
    options.setRunner(AiNativeFlinkRunner.class);
    options.as(PortablePipelineOptions.class).setDefaultEnvironmentType("EMBEDDED");
    return options;
  }

  /**
   * {@code n} images through the service (the model taking {@code millis} per element), into
   * {@link Collect}.
   */
  private static AiNativePipelineResult run(AiNativeFlinkPipelineOptions options, int n, long millis, int instances) {
    millisPerElement = millis;
    Pipeline p = Pipeline.create(options);
    ModelSpec<float[], Integer> spec =
        ModelSpec.<float[], Integer>builder()
            .setModelUri(model.toString())
            .optModelName(ShapesClassifier.MODEL_NAME)
            .optBlock(ShapesClassifier::newBlock)
            .setProcessing(ElasticScalingITCase::preProcess, ElasticScalingITCase::label)
            .build();
    p.apply(Impulse.create())
        .apply("Images", ParDo.of(new EmitImages(n)))
        .setCoder(KvCoder.of(VarIntCoder.of(), FloatArrayCoder.of()))
        .apply(STEP, RunInference.<Integer, float[], Integer>keyed(spec)
            .withOutputCoder(VarIntCoder.of())
            .withInstances(instances)
            .withBatchSize(1, 8))
        .apply("Collect", ParDo.of(new Collect()));
    return (AiNativePipelineResult) p.run();
  }

  @Test
  public void scaleUpThenDown_whileElementsFlow_restartsNothing_andEveryInputGetsOneResult() throws Exception {
    int n = 3000;
    Path conf = tmp.newFolder().toPath();
    int restPort = JobVertices.restPortIn(conf);
    AiNativePipelineResult result = run(options(conf, "--maxInferenceInstances=3"), n, 10, 1);
    JobVertices rest = new JobVertices(restPort, result.getJobId().toString());
    JobCheckpoints checkpoints = new JobCheckpoints(restPort, result.getJobId().toString());
    List<JobVertices.Snapshot> seen = new ArrayList<>();
    try {
      await(() -> ready(result) == 1 && DELIVERIES.size() >= 50, () -> "one instance serves", result);
      ServiceStatus start = result.serviceStatus(STEP);
      assertThat(start.toString(), start.maxInstances(), equalTo(3));
      assertThat(start.toString(), start.count(ServiceStatus.State.PARKED), equalTo(2L));
      assertThat("batcher threads of the one active instance", batcherThreads(), equalTo(1L));

      IllegalArgumentException tooMany = assertThrows(IllegalArgumentException.class, () -> result.scaleService(STEP, 4));
      assertThat(tooMany.getMessage(), containsString("between 1 and 3"));
      assertThat(tooMany.getMessage(), containsString(start.service()));
      IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> result.scaleService(STEP, 0));
      assertThat(none.getMessage(), containsString("between 1 and 3"));
      IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> result.scaleService("NoSuchStep", 2));
      assertThat(unknown.getMessage(), containsString(STEP));

      ServiceStatus up = result.scaleService(STEP, 3);
      assertThat(up.toString(), up.activeInstances(), equalTo(3));
      await(() -> settled(result), () -> "three instances are ready: " + quietStatus(result), result);
      seen.add(rest.snapshot());
      ServiceStatus overRest = ScaleService.status("localhost:" + restPort, result.getJobId(), STEP);
      assertThat("through the REST API: " + overRest, overRest.count(ServiceStatus.State.READY), equalTo(3L));
      long[] before = requestsPerTask(result.serviceStatus(STEP));
      await(() -> {
        long[] now = requestsPerTask(quietStatus(result));
        return now[1] > before[1] && now[2] > before[2];
      }, () -> "requests reach the activated instances: " + quietStatus(result), result);
      assertThat("batcher threads of three active instances", batcherThreads(), equalTo(3L));

      ServiceStatus down = result.scaleService(STEP, 1);
      assertThat(down.toString(), down.activeInstances(), equalTo(1));
      await(() -> settled(result), () -> "two instances are parked: " + quietStatus(result), result);
      ServiceStatus parked = result.serviceStatus(STEP);
      assertThat("the job was still taking inputs when the instances were parked", DELIVERIES.size(), lessThan(n));
      for (int subtask : new int[] {1, 2}) {
        ServiceStatus.Instance task = parked.tasks().get(subtask);
        assertThat(parked.toString(), task.state(), equalTo(ServiceStatus.State.PARKED));
        assertThat(parked.toString(), task.modelLoaded(), equalTo(false));
        assertThat(parked.toString(), task.lastDrainWithinBound(), equalTo(true));
        assertThat(parked.toString(), task.lastDrainMillis(), lessThan(parked.drainTimeoutMillis()));
      }
      assertThat(parked.toString(), parked.tasks().get(0).state(), equalTo(ServiceStatus.State.READY));
      assertThat("batcher threads once two instances are parked", batcherThreads(), equalTo(1L));
      seen.add(rest.snapshot());
      assertThat("checkpoints taken", checkpoints.read().completedTriggeredAt.size(), equalTo(0));

      assertThat(result.waitUntilFinish(Duration.standardMinutes(5)), equalTo(PipelineResult.State.DONE));
    } finally {
      if (!result.getState().isTerminal()) {
        result.cancel();
      }
    }
    assertEveryInputOnce(n);
    for (JobVertices.Snapshot s : seen) {
      for (Map.Entry<String, Integer> vertex : s.attempts.entrySet()) {
        assertThat("attempt of " + vertex.getKey() + " in " + s, vertex.getValue(), equalTo(0));
      }
    }
    assertThat("vertices were read", seen.get(0).attempts.size(), greaterThan(0));
  }

  @Test
  public void parkingAnInstanceWithAStuckRequest_stopsItAtTheDrainBound_andItsRequestsAreServedElsewhere() throws Exception {
    int n = 1200;
    long bound = 2000;
    Path conf = tmp.newFolder().toPath();
    int restPort = JobVertices.restPortIn(conf);
    AiNativePipelineResult result =
        run(options(conf, "--maxInferenceInstances=2", "--inferenceDrainTimeoutMillis=" + bound), n, 2, 2);
    try {
      await(() -> ready(result) == 2 && DELIVERIES.size() >= 50, () -> "two instances serve", result);
      gate = new CountDownLatch(1);
      GATE_ARMED.set(true);
      // One model copy per instance: two held calls are one on each instance.
      await(() -> HELD_AT_GATE.get() >= 2, () -> "both instances hold a request at the gate", result);

      long asked = System.nanoTime();
      // Through the JobManager's REST API this time, as for a job the job server submitted.
      ScaleService.scale("localhost:" + restPort, result.getJobId(), STEP, 1);
      await(() -> quietStatus(result).tasks().get(1).state() == ServiceStatus.State.PARKED,
          () -> "instance 1 is parked: " + quietStatus(result), result);
      long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - asked);
      ServiceStatus parked = result.serviceStatus(STEP);
      ServiceStatus.Instance task = parked.tasks().get(1);
      assertThat("the gate was still closed when it parked", gate.getCount(), equalTo(1L));
      assertThat(parked.toString(), task.lastDrainWithinBound(), equalTo(false));
      assertThat(parked.toString(), task.lastDrainMillis(), greaterThanOrEqualTo(bound));
      assertThat("parked within the bound and the server's stop", tookMillis, lessThan(bound + 10_000));
      assertThat("its model call still runs", task.modelLoaded(), equalTo(true));

      gate.countDown();
      await(() -> !quietStatus(result).tasks().get(1).modelLoaded(), () -> "the parked instance freed its model once its call returned", result);
      assertThat(result.waitUntilFinish(Duration.standardMinutes(5)), equalTo(PipelineResult.State.DONE));
      assertThat("requests re-routed", counter(result, RpcClientOperator.REROUTED_REQUESTS), greaterThan(0L));
    } finally {
      gate.countDown();
      if (!result.getState().isTerminal()) {
        result.cancel();
      }
    }
    assertEveryInputOnce(n);
  }

  @Test
  public void byLoad_aBurstScalesTheServiceUp_withoutRestartingAnything() throws Exception {
    int n = 3000;
    Path conf = tmp.newFolder().toPath();
    int restPort = JobVertices.restPortIn(conf);
    AiNativePipelineResult result =
        run(options(conf, "--maxInferenceInstances=3", "--inferenceAutoscaleTargetOngoing=4",
            "--inferenceAutoscaleUpscaleDelayMillis=300", "--inferenceAutoscaleDownscaleDelayMillis=600000"), n, 10, 1);
    JobVertices rest = new JobVertices(restPort, result.getJobId().toString());
    try {
      await(() -> {
        ServiceStatus s = quietStatus(result);
        return s != null && s.activeInstances() == 3 && s.count(ServiceStatus.State.READY) == 3;
      }, () -> "the load scales the service to 3 ready instances: " + quietStatus(result), result);
      assertThat("scaled before the input ran out", DELIVERIES.size(), lessThan(n));
      JobVertices.Snapshot vertices = rest.snapshot();
      assertThat(result.waitUntilFinish(Duration.standardMinutes(5)), equalTo(PipelineResult.State.DONE));
      for (Map.Entry<String, Integer> vertex : vertices.attempts.entrySet()) {
        assertThat("attempt of " + vertex.getKey(), vertex.getValue(), equalTo(0));
      }
    } finally {
      if (!result.getState().isTerminal()) {
        result.cancel();
      }
    }
    assertEveryInputOnce(n);
  }

  @Test
  public void byLoad_aLightLoadScalesTheServiceDown_andAPinnedCountHoldsUntilReleased() throws Exception {
    int n = 1500; // 30 s of input at one element per 20 ms: time for every step below on a busy machine
    Path conf = tmp.newFolder().toPath();
    JobVertices.restPortIn(conf); // writes the Flink configuration the options name
    millisPerEmit = 20;
    AiNativePipelineResult result =
        run(options(conf, "--maxInferenceInstances=3", "--inferenceAutoscaleTargetOngoing=8",
            "--inferenceAutoscaleUpscaleDelayMillis=600000", "--inferenceAutoscaleDownscaleDelayMillis=500"), n, 1, 3);
    try {
      await(() -> {
        ServiceStatus s = quietStatus(result);
        return s != null && s.activeInstances() == 1 && s.settled();
      }, () -> "a light load scales the service down to 1 instance: " + quietStatus(result), result);
      ServiceStatus pinned = result.scaleService(STEP, 2);
      assertThat(pinned.toString(), pinned.activeInstances(), equalTo(2));
      await(() -> settled(result), () -> "two instances serve: " + quietStatus(result), result);
      Thread.sleep(1_500); // three downscale delays: a count chosen by hand stays
      assertThat(quietStatus(result).toString(), quietStatus(result).activeInstances(), equalTo(2));
      result.releaseServiceScale(STEP);
      await(() -> quietStatus(result).activeInstances() == 1, () -> "released, the load scales it down again: " + quietStatus(result), result);
      assertThat("the job was still taking inputs", DELIVERIES.size(), lessThan(n));
      assertThat(result.waitUntilFinish(Duration.standardMinutes(5)), equalTo(PipelineResult.State.DONE));
    } finally {
      if (!result.getState().isTerminal()) {
        result.cancel();
      }
    }
    assertEveryInputOnce(n);
  }

  private static void assertEveryInputOnce(int n) {
    List<Integer> missing = new ArrayList<>();
    List<Integer> twice = new ArrayList<>();
    for (int id = 0; id < n; id++) {
      AtomicInteger d = DELIVERIES.get(id);
      if (d == null) {
        missing.add(id);
      } else if (d.get() != 1) {
        twice.add(id);
      }
    }
    assertThat("inputs without a result", missing, equalTo(List.of()));
    assertThat("inputs with more than one result", twice, equalTo(List.of()));
    assertThat(DELIVERIES.size(), equalTo(n));
  }

  private static long ready(AiNativePipelineResult result) {
    ServiceStatus s = quietStatus(result);
    return s == null ? -1 : s.count(ServiceStatus.State.READY);
  }

  private static boolean settled(AiNativePipelineResult result) {
    ServiceStatus s = quietStatus(result);
    return s != null && s.settled();
  }

  /** The status, or null while the service has not started (its link is not attached yet). */
  private static ServiceStatus quietStatus(AiNativePipelineResult result) {
    try {
      return result.serviceStatus(STEP);
    } catch (IllegalStateException e) {
      return null;
    }
  }

  private static long[] requestsPerTask(ServiceStatus status) {
    long[] requests = new long[status.tasks().size()];
    for (ServiceStatus.Instance t : status.tasks()) {
      requests[t.subtask()] = t.requests();
    }
    return requests;
  }

  private static long batcherThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && t.getName().startsWith(BATCHER_THREADS))
        .count();
  }

  private static long counter(PipelineResult result, String name) {
    return io.ainative.runner.testing.Counters.sum(result, InferenceMetrics.DEFAULT_NAMESPACE, name);
  }

  /** Waits (3 minutes at most) until {@code condition} holds; fails at once if the job ended. */
  private static void await(BooleanSupplier condition, Supplier<String> what, PipelineResult job) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (!condition.getAsBoolean()) {
      if (job.getState().isTerminal()) {
        throw new AssertionError("the job ended (" + job.getState() + ") before " + what.get());
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what.get());
      }
      Thread.sleep(50);
    }
  }
}
