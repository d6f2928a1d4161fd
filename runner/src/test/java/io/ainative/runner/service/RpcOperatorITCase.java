package io.ainative.runner.service;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.lessThanOrEqualTo;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.ainative.harness.testing.FloatArrayCoder;
import io.ainative.harness.testing.ShapeImages;
import io.ainative.harness.testing.ShapesClassifier;
import io.ainative.runner.AiNativeFlinkRunner;
import io.ainative.runner.AiNativePipelineResult;
import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import io.ainative.runner.service.client.RpcClientOperator;
import io.ainative.runner.testing.JobCheckpoints;
import io.ainative.runner.testing.JobVertices;
import io.ainative.transforms.InferenceFailure;
import io.ainative.transforms.InferenceMetrics;
import io.ainative.transforms.InferenceResult;
import io.ainative.transforms.InferenceStep;
import io.ainative.transforms.ModelSpec;
import io.ainative.transforms.RetryPolicy;
import io.ainative.transforms.RunInference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.io.GenerateSequence;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.options.PortablePipelineOptions;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Impulse;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.Before;
import org.junit.BeforeClass;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * RunInference served by RpcOperators on the embedded cluster, with the real DJL PyTorch engine,
 * real gRPC over loopback and Flink's own failover: what the service region promises.
 */
public class RpcOperatorITCase {
  private static final int SIZE = 32;
  private static final float CRASH_MARK = 12345f;
  private static final float WARMUP_MARK = -777f;

  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  private static Path model;

  // The embedded cluster runs in this JVM: the model's functions and the sink report here.
  static final AtomicBoolean CRASHED = new AtomicBoolean();
  static final AtomicLong CRASH_NANOS = new AtomicLong();
  static final AtomicLong WARMUP_NANOS = new AtomicLong();
  static final AtomicLong REWARMED_NANOS = new AtomicLong();
  static final AtomicLong FIRST_REAL_NANOS = new AtomicLong();
  static final Map<Integer, Integer> RESULTS = new ConcurrentHashMap<>();
  static final AtomicInteger DELIVERIES = new AtomicInteger();
  static final ConcurrentLinkedQueue<Long> ARRIVALS = new ConcurrentLinkedQueue<>();

  /** What a native crash of the model looks like to Java: an Error, not an Exception. */
  static final class InjectedCrash extends Error {
    InjectedCrash() {
      super("injected model crash");
    }
  }

  @BeforeClass
  public static void trainModel() {
    model = ShapesClassifier.trainedModel(Path.of("target/test-models"), SIZE, 1);
  }

  @Before
  public void reset() {
    CRASHED.set(false);
    CRASH_NANOS.set(0);
    WARMUP_NANOS.set(0);
    REWARMED_NANOS.set(0);
    FIRST_REAL_NANOS.set(0);
    RESULTS.clear();
    FAILURES.clear();
    FAILED_ONCE.set(false);
    FAIL_ARMED.set(false);
    PREPROCESSED.set(0);
    GATE_CLOSED_AT_MILLIS.set(0);
    RELEASED.set(0);
    gateAfter = Integer.MAX_VALUE;
    gate = new CountDownLatch(0);
    DELIVERED_AT.clear();
    FIRST_LABELS.clear();
    DELIVERIES.set(0);
    ARRIVALS.clear();
  }

  /** Pre-processing that crashes its instance the first time it sees the crash mark. */
  static NDList crashOncePreProcess(NDManager manager, float[] pixels) {
    if (pixels[0] == CRASH_MARK && CRASHED.compareAndSet(false, true)) {
      CRASH_NANOS.set(System.nanoTime());
      throw new InjectedCrash();
    }
    if (pixels[0] == WARMUP_MARK) {
      WARMUP_NANOS.compareAndSet(0, System.nanoTime());
    } else {
      FIRST_REAL_NANOS.compareAndSet(0, System.nanoTime());
    }
    return new NDList(manager.create(pixels, new Shape(1, SIZE, SIZE)));
  }

  static final float POISON_MARK = 666f;

  /** Pre-processing that crashes its instance every time it sees the poison mark. */
  static NDList poisonPreProcess(NDManager manager, float[] pixels) {
    if (pixels[0] == POISON_MARK) {
      throw new InjectedCrash();
    }
    return new NDList(manager.create(pixels, new Shape(1, SIZE, SIZE)));
  }

  /** The trained shapes model with {@code pre} as its pre-processing. */
  static ModelSpec.Builder<float[], Integer> spec(ModelSpec.PreProcessFn<float[]> pre) {
    return ModelSpec.<float[], Integer>builder()
        .setModelUri(model.toString())
        .optModelName(ShapesClassifier.MODEL_NAME)
        .optBlock(ShapesClassifier::newBlock)
        .setProcessing(pre, RpcOperatorITCase::label);
  }

  static int label(NDList output) {
    return (int) output.singletonOrThrow().argMax().getLong();
  }

  /** A warm-up image that notes when the first warm-up after the crash (the restarted instance's) ran. */
  static float[] recordingWarmupImage() {
    if (CRASH_NANOS.get() != 0) {
      REWARMED_NANOS.compareAndSet(0, System.nanoTime());
    }
    float[] pixels = new float[SIZE * SIZE];
    pixels[0] = WARMUP_MARK;
    return pixels;
  }

  static float[] slowWarmupImage() {
    try {
      Thread.sleep(1500); // a model whose warm-up takes a while
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    float[] pixels = new float[SIZE * SIZE];
    pixels[0] = WARMUP_MARK;
    return pixels;
  }

  static final AtomicBoolean FAILED_ONCE = new AtomicBoolean();
  static final AtomicBoolean FAIL_ARMED = new AtomicBoolean();
  static final AtomicInteger PREPROCESSED = new AtomicInteger();
  static final AtomicLong GATE_CLOSED_AT_MILLIS = new AtomicLong();
  /** Elements that waited at the gate and went on once it opened. */
  static final AtomicInteger RELEASED = new AtomicInteger();
  static volatile int gateAfter = Integer.MAX_VALUE;
  static volatile CountDownLatch gate = new CountDownLatch(0);
  /** Per input id, the wall-clock times (ms) at which its result reached the sink. */
  static final Map<Integer, List<Long>> DELIVERED_AT = new ConcurrentHashMap<>();

  /**
   * Pre-processing that lets {@link #gateAfter} elements through and then holds every further one
   * until the test opens {@link #gate}: from then on, elements are in flight for as long as the
   * test wants, whatever the machine's load.
   */
  static NDList gatedPreProcess(NDManager manager, float[] pixels) {
    if (PREPROCESSED.incrementAndGet() > gateAfter && gate.getCount() > 0) {
      GATE_CLOSED_AT_MILLIS.compareAndSet(0, System.currentTimeMillis());
      try {
        gate.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted at the gate", e);
      }
      RELEASED.incrementAndGet();
    }
    return new NDList(manager.create(pixels, new Shape(1, SIZE, SIZE)));
  }

  /** Turns the impulse into {@code n} images keyed by id (what {@link #images} makes). */
  static final class EmitImages extends DoFn<byte[], KV<Integer, float[]>> {
    private final int n;

    EmitImages(int n) {
      this.n = n;
    }

    @ProcessElement
    public void process(OutputReceiver<KV<Integer, float[]>> out) {
      for (KV<Integer, float[]> image : images(n, -1)) {
        out.output(image);
      }
    }
  }

  /** Fails its task once, on the first result it sees after the test armed it. */
  static final class FailOnce extends DoFn<KV<Integer, InferenceResult<float[], Integer>>, KV<Integer, InferenceResult<float[], Integer>>> {
    @ProcessElement
    public void process(@Element KV<Integer, InferenceResult<float[], Integer>> result, OutputReceiver<KV<Integer, InferenceResult<float[], Integer>>> out) {
      if (FAIL_ARMED.get() && FAILED_ONCE.compareAndSet(false, true)) {
        throw new IllegalStateException("failing the pipeline once, on purpose");
      }
      out.output(result);
    }
  }

  static final Map<Integer, InferenceStep> FAILURES = new ConcurrentHashMap<>();

  static final class CollectFailures extends DoFn<InferenceFailure<KV<Integer, float[]>>, Void> {
    @ProcessElement
    public void process(@Element InferenceFailure<KV<Integer, float[]>> failure) {
      FAILURES.put(failure.getElement().getKey(), failure.getStep());
    }
  }

  static final class Collect extends DoFn<KV<Integer, InferenceResult<float[], Integer>>, Void> {
    @ProcessElement
    public void process(@Element KV<Integer, InferenceResult<float[], Integer>> result) {
      ARRIVALS.add(System.nanoTime());
      DELIVERED_AT.computeIfAbsent(result.getKey(), k -> new CopyOnWriteArrayList<>()).add(System.currentTimeMillis());
      DELIVERIES.incrementAndGet();
      RESULTS.put(result.getKey(), result.getValue().getOutput());
    }
  }

  private static List<KV<Integer, float[]>> images(int n, int crashAt) {
    ShapeImages images = new ShapeImages(SIZE, 1, 7);
    List<KV<Integer, float[]>> inputs = new ArrayList<>();
    for (int id = 0; id < n; id++) {
      float[] pixels = images.next().pixels();
      if (id == crashAt) {
        pixels[0] = CRASH_MARK;
      }
      inputs.add(KV.of(id, pixels));
    }
    return inputs;
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

  private static long rerouted(PipelineResult result) {
    return counter(result, RpcClientOperator.REROUTED_REQUESTS);
  }

  private static long counter(PipelineResult result, String name) {
    return io.ainative.runner.testing.Counters.sum(result, InferenceMetrics.DEFAULT_NAMESPACE, name);
  }

  @Test
  public void failedInstance_restartsOnlyTheServiceRegion_andEveryInputGetsOneResult() throws Exception {
    int n = 6000;
    Path conf = tmp.newFolder().toPath();
    int restPort = JobVertices.restPortIn(conf);
    Pipeline p = Pipeline.create(options(conf));
    ModelSpec<float[], Integer> spec =
        spec(RpcOperatorITCase::crashOncePreProcess).optWarmupInput(RpcOperatorITCase::recordingWarmupImage).build();
    p.apply(Create.of(images(n, 150)).withCoder(KvCoder.of(VarIntCoder.of(), FloatArrayCoder.of())))
        .apply("Classify", RunInference.<Integer, float[], Integer>keyed(spec)
            .withOutputCoder(VarIntCoder.of())
            .withInstances(2)
            .withBatchSize(1, 16))
        .apply("Collect", ParDo.of(new Collect()));

    PipelineResult result = p.run();
    String jobId = ((io.ainative.runner.AiNativePipelineResult) result).getJobId().toString();
    JobVertices rest = new JobVertices(restPort, jobId);
    List<JobVertices.Snapshot> seen = new ArrayList<>();
    while (!result.getState().isTerminal()) {
      try {
        seen.add(rest.snapshot());
      } catch (java.io.IOException e) {
        // not up yet, or gone with the finished job
      }
      Thread.sleep(100);
    }
    assertThat(result.waitUntilFinish(), equalTo(PipelineResult.State.DONE));

    assertThat("the model crashed once", CRASHED.get(), equalTo(true));
    assertThat("every input has a result", RESULTS.size(), equalTo(n));
    assertThat("no input has two", DELIVERIES.get(), equalTo(n));
    assertThat("the REST API was read while the job ran", seen.size(), greaterThan(0));
    // The REST API shows attempt 1 while the restarted instance runs, which can be too short for a
    // poll every 100 ms on a loaded machine; the restarted instance also warms its model up again.
    assertThat(
        "the service region restarted (attempt 1 seen over REST, or a warm-up after the crash)",
        JobVertices.highestAttempt(seen, "inference service") >= 1 || REWARMED_NANOS.get() != 0,
        equalTo(true));
    for (String vertex : seen.get(seen.size() - 1).attempts.keySet()) {
      if (!vertex.contains("inference service")) {
        assertThat("attempt of pipeline vertex " + vertex, JobVertices.highestAttempt(seen, vertex), equalTo(0));
      }
    }
    // Between the crash and the restarted instance's warm-up (Flink restarts a failed region after
    // 1 s at the earliest, then the model loads) only the surviving instance can answer.
    assertThat("the crashed request was sent elsewhere", rerouted(result), greaterThanOrEqualTo(1L));
    long crash = CRASH_NANOS.get();
    long restarted = REWARMED_NANOS.get() == 0 ? Long.MAX_VALUE : REWARMED_NANOS.get();
    long during = ARRIVALS.stream().filter(t -> t > crash && t < restarted).count();
    assertThat("results kept flowing while the instance restarted", during, greaterThan(0L));
  }

  @Test
  public void noRequestReachesAnInstance_beforeItsWarmupRan() throws Exception {
    int n = 200;
    Path conf = tmp.newFolder().toPath();
    JobVertices.restPortIn(conf);
    Pipeline p = Pipeline.create(options(conf, "--numberOfExecutionRetries=0"));
    ModelSpec<float[], Integer> spec =
        spec(RpcOperatorITCase::crashOncePreProcess).optWarmupInput(RpcOperatorITCase::slowWarmupImage).build();
    p.apply(Create.of(images(n, -1)).withCoder(KvCoder.of(VarIntCoder.of(), FloatArrayCoder.of())))
        .apply("Classify", RunInference.<Integer, float[], Integer>keyed(spec).withOutputCoder(VarIntCoder.of()))
        .apply("Collect", ParDo.of(new Collect()));

    PipelineResult result = p.run();
    assertThat(result.waitUntilFinish(), equalTo(PipelineResult.State.DONE));
    assertThat(RESULTS.size(), equalTo(n));
    assertThat("requests an instance refused (it was not ready)", rerouted(result), equalTo(0L));
    assertThat("the warm-up ran", WARMUP_NANOS.get(), greaterThan(0L));
    assertThat("the first real element came after the warm-up", FIRST_REAL_NANOS.get() - WARMUP_NANOS.get(), greaterThan(0L));
  }

  /**
   * What "loses nothing" means here. The sink ({@link Collect}) is not transactional, so after a
   * restore it sees again what the pipeline emitted between the restored checkpoint and the
   * failure: the guarantee is per checkpointed epoch. Checked: every input has a result; a result
   * that reached the sink before the restored checkpoint was triggered never comes again; the
   * duplicates are at most the elements the client re-sent; no input has more than two.
   */
  @Test
  public void restoreFromCheckpoint_resendsInFlightElements_andLosesNothing() throws Exception {
    int n = 600;
    gateAfter = 200;
    gate = new CountDownLatch(1);
    Path conf = tmp.newFolder().toPath();
    int restPort = JobVertices.restPortIn(conf);
    // Every in-flight image is in the client's state: more than the JobManager keeps in memory.
    java.nio.file.Files.writeString(conf.resolve("config.yaml"),
        "state.checkpoints.dir: " + tmp.newFolder().toURI() + "\n", java.nio.file.StandardOpenOption.APPEND);
    // The client takes every element in (capacity n), so checkpoints pass while elements wait at
    // the gate. The impulse source stays up (the test cancels the job once every input has its
    // result): a finished source would start the end of input, and a client that finishes holds
    // checkpoints back until it has emitted everything. --finishBundleBeforeCheckpointing: without
    // it, Beam's stage operator finishes a bundle that a checkpoint interrupts into a buffer that
    // only the next element or watermark flushes, and after the single impulse none comes: the
    // images would stay in that buffer until the job ends (see the known limitations).
    Pipeline p = Pipeline.create(options(conf,
        "--checkpointingInterval=300", "--shutdownSourcesAfterIdleMs=600000", "--inferenceClientCapacity=" + n,
        "--finishBundleBeforeCheckpointing=true"));
    p.apply(Impulse.create())
        .apply("Images", ParDo.of(new EmitImages(n)))
        .setCoder(KvCoder.of(VarIntCoder.of(), FloatArrayCoder.of()))
        .apply("Classify", RunInference.<Integer, float[], Integer>keyed(spec(RpcOperatorITCase::gatedPreProcess).build())
            .withOutputCoder(VarIntCoder.of())
            .withBatchSize(1, 8))
        .apply("FailOnce", ParDo.of(new FailOnce()))
        .apply("Collect", ParDo.of(new Collect()));

    AiNativePipelineResult result = (AiNativePipelineResult) p.run();
    JobCheckpoints checkpoints = new JobCheckpoints(restPort, result.getJobId().toString());
    try {
      await(() -> GATE_CLOSED_AT_MILLIS.get() > 0, () -> "an element reached the closed gate", result);
      long closedAt = GATE_CLOSED_AT_MILLIS.get();
      // A checkpoint triggered after an element stopped at the gate holds that element: the client
      // sent it before, and cannot have emitted it since.
      long[] taken = new long[2];
      await(() -> {
        JobCheckpoints.Snapshot s = readQuietly(checkpoints);
        for (Map.Entry<Long, Long> c : s.completedTriggeredAt.entrySet()) {
          if (c.getValue() > closedAt) {
            taken[0] = c.getKey();
            taken[1] = c.getValue();
            return true;
          }
        }
        return false;
      }, () -> "a checkpoint triggered after the gate closed completed", result);

      FAIL_ARMED.set(true);
      gate.countDown();
      await(() -> RESULTS.size() == n, () -> "every input has a result (" + RESULTS.size() + " of " + n + ", first missing " + firstMissing(n) + ")", result);
      long[] restored = {-1};
      await(() -> (restored[0] = readQuietly(checkpoints).restoredId) >= 0, () -> "the job restored from a checkpoint", result);
      await(() -> counter(result, RpcClientOperator.RESENT_AFTER_RESTORE) > 0, () -> "the client reported re-sent elements", result);
      long resent = counter(result, RpcClientOperator.RESENT_AFTER_RESTORE);

      assertThat("the pipeline failed once", FAILED_ONCE.get(), equalTo(true));
      assertThat("restored from checkpoint " + restored[0] + ", one taken after the gate closed or later",
          restored[0], greaterThanOrEqualTo(taken[0]));
      assertThat("every input has a result", RESULTS.size(), equalTo(n));
      int beforeCheckpoint = 0;
      for (Map.Entry<Integer, List<Long>> d : DELIVERED_AT.entrySet()) {
        List<Long> times = d.getValue();
        assertThat("deliveries of input " + d.getKey(), times.size(), lessThanOrEqualTo(2));
        if (times.get(0) < taken[1]) {
          beforeCheckpoint++;
          assertThat("input " + d.getKey() + " reached the sink before checkpoint " + taken[0] + " and again",
              times.size(), equalTo(1));
        }
      }
      assertThat("results reached the sink before the checkpoint", beforeCheckpoint, greaterThan(0));
      assertThat("duplicates (results emitted after the checkpoint, emitted again after the restore)",
          (long) DELIVERIES.get() - n, lessThanOrEqualTo(resent));
    } finally {
      gate.countDown();
      result.cancel();
    }
  }

  /** Waits (2 minutes at most) until {@code condition} holds; fails at once if the job ended. */
  private static void await(BooleanSupplier condition, java.util.function.Supplier<String> what, PipelineResult job)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
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

  private static JobCheckpoints.Snapshot readQuietly(JobCheckpoints checkpoints) {
    try {
      return checkpoints.read();
    } catch (java.io.IOException e) {
      return new JobCheckpoints.Snapshot(); // not up yet
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new JobCheckpoints.Snapshot();
    }
  }

  @Test
  public void elementThatCrashesEveryInstance_endsInTheFailureOutput_andTheRestSucceed() throws Exception {
    int n = 400;
    int poison = 123;
    Path conf = tmp.newFolder().toPath();
    JobVertices.restPortIn(conf);
    Pipeline p = Pipeline.create(options(conf));
    ModelSpec<float[], Integer> spec =
        spec(RpcOperatorITCase::poisonPreProcess).build();
    List<KV<Integer, float[]>> inputs = images(n, -1);
    inputs.get(poison).getValue()[0] = POISON_MARK;
    WithFailures.Result<PCollection<KV<Integer, InferenceResult<float[], Integer>>>, InferenceFailure<KV<Integer, float[]>>> out =
        p.apply(Create.of(inputs).withCoder(KvCoder.of(VarIntCoder.of(), FloatArrayCoder.of())))
            .apply("Classify", RunInference.<Integer, float[], Integer>keyed(spec)
                .withOutputCoder(VarIntCoder.of())
                .withInstances(2)
                .withBatchSize(1, 8)
                .withRetryPolicy(RetryPolicy.exponential(3, org.joda.time.Duration.millis(100), org.joda.time.Duration.millis(200)))
                .withFailures());
    out.output().apply("Collect", ParDo.of(new Collect()));
    out.failures().apply("CollectFailures", ParDo.of(new CollectFailures()));

    PipelineResult result = p.run();
    assertThat(result.waitUntilFinish(), equalTo(PipelineResult.State.DONE));
    assertThat("every other input has its result", RESULTS.size(), equalTo(n - 1));
    assertThat("the poison has none", RESULTS.containsKey(poison), equalTo(false));
    assertThat("the poison is the only failure", FAILURES, equalTo(Map.of(poison, InferenceStep.INFERENCE)));
  }

  @Test
  public void twoRunInferenceTransforms_getAServiceEach_overTlsBetweenJvms() throws Exception {
    int n = 300;
    Path conf = tmp.newFolder().toPath();
    int restPort = JobVertices.restPortIn(conf);
    // Over TCP with TLS, as between TaskManagers: the job's self-signed certificate and its token.
    Pipeline p = Pipeline.create(options(conf, "--numberOfExecutionRetries=0", "--inferenceInProcess=false", "--inferenceTls=ON"));
    ModelSpec<float[], Integer> spec = ShapesClassifier.batchSpecBuilder(model, SIZE, 1).build();
    p.apply(Create.of(images(n, -1)).withCoder(KvCoder.of(VarIntCoder.of(), FloatArrayCoder.of())))
        .apply("First", RunInference.<Integer, float[], Integer>keyed(spec).withOutputCoder(VarIntCoder.of()))
        .apply("Again", MapElements.into(TypeDescriptors.kvs(TypeDescriptors.integers(), TypeDescriptor.of(float[].class)))
            .via((KV<Integer, InferenceResult<float[], Integer>> r) -> KV.of(r.getKey(), r.getValue().getInput())))
        .setCoder(KvCoder.of(VarIntCoder.of(), FloatArrayCoder.of()))
        .apply("Second", RunInference.<Integer, float[], Integer>keyed(spec).withOutputCoder(VarIntCoder.of()))
        .apply("Collect", ParDo.of(new Collect()));

    AiNativePipelineResult result = (AiNativePipelineResult) p.run();
    JobVertices rest = new JobVertices(restPort, result.getJobId().toString());
    JobVertices.Snapshot running = rest.await(s -> !s.attempts.isEmpty(), "the job's vertices are listed");
    assertThat(result.waitUntilFinish(), equalTo(PipelineResult.State.DONE));
    assertThat(RESULTS.size(), equalTo(n));
    long services = running.attempts.keySet().stream().filter(v -> v.contains("(inference service)")).count();
    assertThat("service vertices in " + running.attempts.keySet(), services, equalTo(2L));
    for (String step : List.of("First", "Second")) {
      long inferences = 0;
      for (MetricResult<Long> c : result.metrics().queryMetrics(MetricsFilter.builder()
          .addNameFilter(MetricNameFilter.named(InferenceMetrics.DEFAULT_NAMESPACE, "num_inferences"))
          .addStep(step).build()).getCounters()) {
        inferences += c.getAttempted();
      }
      assertThat("inferences of " + step, inferences, equalTo((long) n));
    }
  }

  static final Map<Integer, Integer> FIRST_LABELS = new ConcurrentHashMap<>();

  /** Keeps the first transform's label of each input and passes the input on. */
  static final class KeepFirstLabel extends DoFn<KV<Integer, InferenceResult<float[], Integer>>, KV<Integer, float[]>> {
    @ProcessElement
    public void process(@Element KV<Integer, InferenceResult<float[], Integer>> r, OutputReceiver<KV<Integer, float[]>> out) {
      FIRST_LABELS.put(r.getKey(), r.getValue().getOutput());
      out.output(KV.of(r.getKey(), r.getValue().getInput()));
    }
  }

  @Test
  public void twoRunInferenceTransforms_sharingAService_getOneServiceVertex_andEachItsOwnResults() throws Exception {
    int n = 300;
    Path conf = tmp.newFolder().toPath();
    int restPort = JobVertices.restPortIn(conf);
    Pipeline p = Pipeline.create(options(conf, "--numberOfExecutionRetries=0"));
    ModelSpec<float[], Integer> spec = ShapesClassifier.batchSpecBuilder(model, SIZE, 1).build();
    p.apply(Create.of(images(n, -1)).withCoder(KvCoder.of(VarIntCoder.of(), FloatArrayCoder.of())))
        .apply("First", RunInference.<Integer, float[], Integer>keyed(spec).withOutputCoder(VarIntCoder.of())
            .withInstances(2).withSharedService("shapes"))
        .apply("KeepFirstLabel", ParDo.of(new KeepFirstLabel()))
        .setCoder(KvCoder.of(VarIntCoder.of(), FloatArrayCoder.of()))
        // Client-side options may differ between the steps of a shared service.
        .apply("Second", RunInference.<Integer, float[], Integer>keyed(spec).withOutputCoder(VarIntCoder.of())
            .withInstances(2).withSharedService("shapes")
            .withOrdering(io.ainative.transforms.InferenceOptions.Ordering.ORDERED)
            .withRequestTimeout(org.joda.time.Duration.standardSeconds(30)))
        .apply("Collect", ParDo.of(new Collect()));

    AiNativePipelineResult result = (AiNativePipelineResult) p.run();
    JobVertices rest = new JobVertices(restPort, result.getJobId().toString());
    JobVertices.Snapshot running = rest.await(s -> !s.attempts.isEmpty(), "the job's vertices are listed");
    assertThat(result.waitUntilFinish(), equalTo(PipelineResult.State.DONE));
    List<String> services = new ArrayList<>();
    for (String vertex : running.attempts.keySet()) {
      if (vertex.contains("(inference service)")) {
        services.add(vertex);
      }
    }
    assertThat("service vertices in " + running.attempts.keySet(), services, equalTo(List.of("Source: shapes (inference service) -> Sink: shapes (inference service end)")));
    assertThat("results of First", FIRST_LABELS.size(), equalTo(n));
    assertThat("results of Second", RESULTS.size(), equalTo(n));
    assertThat("both steps label each input alike", RESULTS, equalTo(FIRST_LABELS));
    for (String step : List.of("First", "Second")) {
      long inferences = 0;
      for (MetricResult<Long> c : result.metrics().queryMetrics(MetricsFilter.builder()
          .addNameFilter(MetricNameFilter.named(InferenceMetrics.DEFAULT_NAMESPACE, "num_inferences"))
          .addStep(step).build()).getCounters()) {
        inferences += c.getAttempted();
      }
      assertThat("inferences of " + step, inferences, equalTo((long) n));
    }
  }

  @Test
  public void sharedServiceWithDifferentBatching_isRefused_namingBothStepsAndTheField() throws Exception {
    Path conf = tmp.newFolder().toPath();
    JobVertices.restPortIn(conf);
    Pipeline p = Pipeline.create(options(conf, "--numberOfExecutionRetries=0"));
    ModelSpec<float[], Integer> spec = ShapesClassifier.batchSpecBuilder(model, SIZE, 1).build();
    PCollection<KV<Integer, float[]>> input =
        p.apply(Create.of(images(10, -1)).withCoder(KvCoder.of(VarIntCoder.of(), FloatArrayCoder.of())));
    input.apply("Small", RunInference.<Integer, float[], Integer>keyed(spec).withOutputCoder(VarIntCoder.of())
        .withBatchSize(1, 8).withSharedService("shapes"));
    input.apply("Large", RunInference.<Integer, float[], Integer>keyed(spec).withOutputCoder(VarIntCoder.of())
        .withBatchSize(1, 16).withSharedService("shapes"));

    Throwable thrown = null;
    try {
      p.run().waitUntilFinish();
    } catch (RuntimeException e) {
      thrown = e;
    }
    assertThat("the pipeline was refused", thrown != null, equalTo(true));
    String messages = "";
    for (Throwable t = thrown; t != null; t = t.getCause()) {
      messages += t.getMessage() + "\n";
    }
    assertThat(messages, org.hamcrest.Matchers.allOf(
        org.hamcrest.Matchers.containsString("'Large' and 'Small'"),
        org.hamcrest.Matchers.containsString("'shapes'"),
        org.hamcrest.Matchers.containsString("max_batch_size (16 vs 8)")));
  }

  @Test
  public void finishedJob_leavesNoServiceThreadBehind() throws Exception {
    int n = 200;
    Path conf = tmp.newFolder().toPath();
    JobVertices.restPortIn(conf);
    Pipeline p = Pipeline.create(options(conf, "--numberOfExecutionRetries=0"));
    p.apply(Create.of(images(n, -1)).withCoder(KvCoder.of(VarIntCoder.of(), FloatArrayCoder.of())))
        .apply("Classify", RunInference.<Integer, float[], Integer>keyed(ShapesClassifier.batchSpecBuilder(model, SIZE, 1).build())
            .withOutputCoder(VarIntCoder.of())
            .withInstances(2))
        .apply("Collect", ParDo.of(new Collect()));
    PipelineResult result = p.run();
    List<String> during = new ArrayList<>();
    while (!result.getState().isTerminal() && during.isEmpty()) {
      during = serviceThreads();
      Thread.sleep(20);
    }
    assertThat(result.waitUntilFinish(), equalTo(PipelineResult.State.DONE));
    assertThat(RESULTS.size(), equalTo(n));
    assertThat("service threads were seen while the job ran", during.isEmpty(), equalTo(false));

    long deadline = System.nanoTime() + 20_000_000_000L;
    List<String> left = serviceThreads();
    while (!left.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(100);
      left = serviceThreads();
    }
    assertThat("threads left behind", left, equalTo(List.of()));
  }

  @Test
  public void cancelledJob_drainsItsInstances_andLeavesNoThreadOrPortBehind() throws Exception {
    org.junit.Assume.assumeTrue("listening ports are read from /proc", java.nio.file.Files.isDirectory(Path.of("/proc/self/fd")));
    int n = 300;
    gateAfter = 100;
    gate = new CountDownLatch(1);
    Path conf = tmp.newFolder().toPath();
    JobVertices.restPortIn(conf);
    java.util.Set<Integer> before = listeningPorts();
    // The impulse source stays up: the job runs until it is cancelled.
    Pipeline p = Pipeline.create(options(conf, "--numberOfExecutionRetries=0", "--shutdownSourcesAfterIdleMs=600000"));
    p.apply(Impulse.create())
        .apply("Images", ParDo.of(new EmitImages(n)))
        .setCoder(KvCoder.of(VarIntCoder.of(), FloatArrayCoder.of()))
        .apply("Classify", RunInference.<Integer, float[], Integer>keyed(spec(RpcOperatorITCase::gatedPreProcess).build())
            .withOutputCoder(VarIntCoder.of())
            .withInstances(2)
            .withBatchSize(1, 8))
        .apply("Collect", ParDo.of(new Collect()));

    PipelineResult result = p.run();
    java.util.concurrent.CompletableFuture<PipelineResult.State> cancelled = null;
    try {
      await(() -> GATE_CLOSED_AT_MILLIS.get() > 0, () -> "an element reached the closed gate", result);
      java.util.Set<Integer> opened = new java.util.TreeSet<>(listeningPorts());
      opened.removeAll(before);
      assertThat("ports the job opened (its cluster and services)", opened.isEmpty(), equalTo(false));
      assertThat("service threads while the job runs", serviceThreads().isEmpty(), equalTo(false));

      cancelled = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
        try {
          return result.cancel();
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      // An element is in the model: the instance that holds it drains instead of dropping it, so
      // the job cannot have ended while that drain goes on.
      await(() -> serviceThreads().stream().anyMatch(t -> t.startsWith("ainative-service-drain")),
          () -> "an instance drains after the cancel", result);
      assertThat("the job while an instance drains", result.getState().isTerminal(), equalTo(false));
      gate.countDown();
      assertThat(cancelled.get(2, TimeUnit.MINUTES), equalTo(PipelineResult.State.CANCELLED));
      assertThat("elements held in the model when the job was cancelled were answered", RELEASED.get(), greaterThan(0));

      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      List<String> threads = leftovers();
      java.util.Set<Integer> ports = new java.util.TreeSet<>(listeningPorts());
      ports.removeAll(before);
      while ((!threads.isEmpty() || !ports.isEmpty()) && System.nanoTime() < deadline) {
        Thread.sleep(100);
        threads = leftovers();
        ports = new java.util.TreeSet<>(listeningPorts());
        ports.removeAll(before);
      }
      assertThat("threads left behind", threads, equalTo(List.of()));
      assertThat("listening ports left behind (of " + opened + " the job opened)", ports, equalTo(java.util.Set.of()));
    } finally {
      gate.countDown();
      if (cancelled == null) {
        result.cancel();
      } else {
        cancelled.join();
      }
    }
  }

  /** The threads of the services, the clients, and gRPC's Netty event loops (shared, released when unused). */
  private static List<String> leftovers() {
    List<String> names = serviceThreads();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.isAlive() && t.getName().contains("-ELG-")) {
        names.add(t.getName());
      }
    }
    return names;
  }

  /** The TCP ports this JVM listens on (Linux: its socket inodes in /proc/net/tcp and tcp6). */
  private static java.util.Set<Integer> listeningPorts() throws java.io.IOException {
    java.util.Set<String> inodes = new java.util.HashSet<>();
    try (java.nio.file.DirectoryStream<Path> fds = java.nio.file.Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
      for (Path fd : fds) {
        try {
          String target = java.nio.file.Files.readSymbolicLink(fd).toString();
          if (target.startsWith("socket:[")) {
            inodes.add(target.substring("socket:[".length(), target.length() - 1));
          }
        } catch (java.io.IOException e) {
          // closed meanwhile
        }
      }
    }
    java.util.Set<Integer> ports = new java.util.TreeSet<>();
    for (String table : List.of("/proc/self/net/tcp", "/proc/self/net/tcp6")) {
      Path path = Path.of(table);
      if (!java.nio.file.Files.exists(path)) {
        continue;
      }
      List<String> lines = java.nio.file.Files.readAllLines(path);
      for (String line : lines.subList(1, lines.size())) {
        // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
        String[] f = line.trim().split("\\s+");
        if (f.length > 9 && f[3].equals("0A") && inodes.contains(f[9])) {
          ports.add(Integer.parseInt(f[1].substring(f[1].indexOf(':') + 1), 16));
        }
      }
    }
    return ports;
  }

  /** Threads the inference services and clients start (not gRPC's shared event loops). */
  private static List<String> serviceThreads() {
    List<String> names = new ArrayList<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      String name = t.getName();
      if (t.isAlive()
          && (name.startsWith("inference-server-") || name.startsWith("dynamic-batcher-")
              || name.startsWith("ainative-service-drain") || name.startsWith("ainative-rpc-client-coordinator-"))) {
        names.add(name);
      }
    }
    return names;
  }

  private static int firstMissing(int wanted) {
    for (int id = 0; id < wanted; id++) {
      if (!RESULTS.containsKey(id)) {
        return id;
      }
    }
    return -1;
  }
}
