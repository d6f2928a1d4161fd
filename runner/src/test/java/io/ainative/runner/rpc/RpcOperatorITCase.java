package io.ainative.runner.rpc;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.ainative.harness.testing.FloatArrayCoder;
import io.ainative.harness.testing.ShapeImages;
import io.ainative.harness.testing.ShapesClassifier;
import io.ainative.runner.AiNativeFlinkPipelineOptions;
import io.ainative.runner.AiNativeFlinkRunner;
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
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.options.PortablePipelineOptions;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
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
    FIRST_REAL_NANOS.set(0);
    RESULTS.clear();
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

  static int label(NDList output) {
    return (int) output.singletonOrThrow().argMax().getLong();
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

  static final class Collect extends DoFn<KV<Integer, InferenceResult<float[], Integer>>, Void> {
    @ProcessElement
    public void process(@Element KV<Integer, InferenceResult<float[], Integer>> result) {
      ARRIVALS.add(System.nanoTime());
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

  private static int highestSnapshotAttempt(List<JobVertices.Snapshot> seen, String namePart) {
    return seen.stream().mapToInt(s -> s.attemptOf(namePart)).max().orElse(-1);
  }

  private static long rerouted(PipelineResult result) {
    long sum = 0;
    for (MetricResult<Long> c :
        result.metrics()
            .queryMetrics(
                MetricsFilter.builder()
                    .addNameFilter(MetricNameFilter.named(InferenceMetrics.DEFAULT_NAMESPACE, RpcClientOperator.REROUTED_REQUESTS))
                    .build())
            .getCounters()) {
      sum += c.getAttempted();
    }
    return sum;
  }

  @Test
  public void failedInstance_restartsOnlyTheServiceRegion_andEveryInputGetsOneResult() throws Exception {
    int n = 6000;
    Path conf = tmp.newFolder().toPath();
    int restPort = JobVertices.restPortIn(conf);
    Pipeline p = Pipeline.create(options(conf));
    ModelSpec<float[], Integer> spec =
        ModelSpec.<float[], Integer>builder()
            .setModelUri(model.toString())
            .optModelName(ShapesClassifier.MODEL_NAME)
            .optBlock(ShapesClassifier::newBlock)
            .setProcessing(RpcOperatorITCase::crashOncePreProcess, RpcOperatorITCase::label)
            .build();
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
    assertThat("the service region restarted", highestSnapshotAttempt(seen, "inference service"), greaterThanOrEqualTo(1));
    for (String vertex : seen.get(seen.size() - 1).attempts.keySet()) {
      if (!vertex.contains("inference service")) {
        assertThat("attempt of pipeline vertex " + vertex, highestSnapshotAttempt(seen, vertex), equalTo(0));
      }
    }
    // Flink restarts a failed region after 1 s at the earliest (the runner's restart strategy),
    // so results in that second came from the surviving instance.
    assertThat("the crashed request was sent elsewhere", rerouted(result), greaterThanOrEqualTo(1L));
    long crash = CRASH_NANOS.get();
    long during = ARRIVALS.stream().filter(t -> t > crash && t < crash + 1_000_000_000L).count();
    assertThat("results kept flowing while the instance restarted", during, greaterThan(0L));
  }

  @Test
  public void noRequestReachesAnInstance_beforeItsWarmupRan() throws Exception {
    int n = 200;
    Path conf = tmp.newFolder().toPath();
    JobVertices.restPortIn(conf);
    Pipeline p = Pipeline.create(options(conf, "--numberOfExecutionRetries=0"));
    ModelSpec<float[], Integer> spec =
        ModelSpec.<float[], Integer>builder()
            .setModelUri(model.toString())
            .optModelName(ShapesClassifier.MODEL_NAME)
            .optBlock(ShapesClassifier::newBlock)
            .setProcessing(RpcOperatorITCase::crashOncePreProcess, RpcOperatorITCase::label)
            .optWarmupInput(RpcOperatorITCase::slowWarmupImage)
            .build();
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
}
