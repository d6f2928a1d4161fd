package io.ainative.benchmarks.pipeline;

import io.ainative.harness.ModelHost;
import io.ainative.harness.testing.FloatArrayCoder;
import io.ainative.harness.testing.IdentityModel;
import io.ainative.harness.testing.ShapeImages;
import io.ainative.harness.testing.ShapesClassifier;
import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import io.ainative.runner.AiNativeFlinkRunner;
import io.ainative.transforms.InferenceResult;
import io.ainative.transforms.ModelSpec;
import io.ainative.transforms.RunInference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.runners.flink.FlinkRunner;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.io.GenerateSequence;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.values.TypeDescriptor;

/**
 * End-to-end throughput of RunInference served by RpcOperators on the embedded cluster, against
 * the model's own ceiling (the model host called directly with full batches, no pipeline) and
 * against the same pipeline on Beam's stock (classic) FlinkRunner, where RunInference runs inline.
 *
 * <p>Two models: {@code identity} (16 floats in, the same out: the pipeline's overhead bound) and
 * {@code shapes} (the demo's CNN, on 32x32x1 images unless asked otherwise). The pipeline is {@code GenerateSequence -> to float[] ->
 * RunInference -> count}, parallelism 2, one service instance. Throughput is counted from the
 * first input made to the last result counted (no cluster start-up, but the source starts while
 * the service still loads its model, so part of that is in), and again over the
 * second half of the results only (the job's code is compiled by then: each run starts a cluster
 * whose classes the JIT compiles anew); the wall time from submission to the end
 * of the job is shown beside them.
 *
 * <p>Run: {@code bin/bench pipeline.RpcServiceBenchmark [elements] [batch] [objectReuse]
 * [encodings] [image] [cpu] [models]}: {@code encodings} the comma-separated {@code --inferenceWireEncoding}s of
 * the ainative rows (default {@code BEAM_CODER,ARROW_IPC}; {@code BEAM_CODER/FN_API_HARNESS} also
 * sets {@code --inferenceExecution}, {@code BEAM_CODER/DIRECT/2} the service's model copies and
 * {@code BEAM_CODER/DIRECT/1/1} its intra-op threads per copy, {@code BEAM_CODER/DIRECT/2/1/false}
 * turns {@code --inferenceInProcess} off: TCP even in one JVM, and {@code .../false/ON} sets
 * {@code --inferenceTls}: TLS on that TCP),
 * {@code image} the CNN's input as
 * SIZExCHANNELS (default {@code 32x1}), {@code cpu} whether to print where each run's CPU went by
 * thread ({@link ThreadCpu}): {@code cpu} over the second half, {@code cpu-all} from the first
 * input on, {@code -} not at all; {@code models} {@code identity,shapes}
 * (default) or one of them.
 */
public final class RpcServiceBenchmark {

  static final AtomicLong FIRST = new AtomicLong();
  static final AtomicLong LAST = new AtomicLong();
  static final AtomicLong COUNT = new AtomicLong();
  /** When the result that completes the first half arrived; and how many make that half. */
  static final AtomicLong HALF_AT = new AtomicLong();
  static final AtomicLong HALF = new AtomicLong();

  private static boolean objectReuse;
  private static int imageSize;
  private static int imageChannels;
  private static boolean cpu;
  /** "cpu-all": the pipelines' CPU from the first input on, instead of over the second half. */
  private static boolean cpuWholeRun;
  private static final List<String> CPU_ROWS = new ArrayList<>();

  private RpcServiceBenchmark() {}

  public static void main(String[] args) throws Exception {
    long elements = args.length > 0 ? Long.parseLong(args[0]) : 100_000;
    int batch = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    // Flink's object reuse (Beam's --objectReuse, on both runners): without it every record is
    // copied through its coder between chained operators.
    objectReuse = args.length > 2 && Boolean.parseBoolean(args[2]);
    System.out.println("object reuse: " + objectReuse);
    // The wire encodings the ainative rows use (--inferenceWireEncoding), one row each; an entry
    // ENCODING/EXECUTION also sets --inferenceExecution (DIRECT or FN_API_HARNESS).
    String[] encodings = (args.length > 3 ? args[3] : "BEAM_CODER,ARROW_IPC").split(",");
    Path models = Path.of("benchmarks/target/bench-models");
    Path identity = IdentityModel.saved(models);
    // The shapes CNN's input: SIZExCHANNELS, the demo's 32x1 by default; 64x3 is the model of
    // ARCHITECTURE.md's "bar to clear" measurement.
    String[] image = (args.length > 4 ? args[4] : "32x1").split("x");
    // "cpu" / "cpu-all": also where each run's CPU went, by thread (ThreadCpu), over the second half / from the first input to the
    // last result.
    cpu = args.length > 5 && args[5].startsWith("cpu");
    cpuWholeRun = args.length > 5 && args[5].equals("cpu-all");
    // the models to run, comma-separated (default identity,shapes)
    String[] modelNames = (args.length > 6 ? args[6] : "identity,shapes").split(",");
    imageSize = Integer.parseInt(image[0]);
    imageChannels = Integer.parseInt(image[1]);
    Path shapes = ShapesClassifier.trainedModel(models, imageSize, imageChannels);

    // A run that is not reported: the first pipeline in a JVM pays for class loading and the JIT,
    // and runs far slower than the next ones.
    pipeline("ainative-rpc " + encodings[0], Math.max(1000, elements / 5), batch, IdentityModel.spec(identity, 16),
        RpcServiceBenchmark::vector, FloatArrayCoder.of());
    CPU_ROWS.clear();
    List<String[]> rows = new ArrayList<>();
    for (String model : modelNames) {
      ModelSpec<float[], float[]> idSpec = IdentityModel.spec(identity, 16);
      ModelSpec<float[], Integer> shapeSpec = ShapesClassifier.batchSpecBuilder(shapes, imageSize, imageChannels).build();
      long n = model.equals("identity") ? elements : Math.max(1000, elements / 5);
      // The ceiling: the better of one model copy with every core and two copies called at once
      // (Beam's inline ParDo runs two; a service with --modelCopies 2 too).
      double ceiling = 0;
      for (int copies = 1; copies <= 2; copies++) {
        double c =
            model.equals("identity")
                ? ceiling(idSpec, RpcServiceBenchmark::vector, batch, copies)
                : ceiling(shapeSpec, RpcServiceBenchmark::image, batch, copies);
        rows.add(row(model, "model alone, " + copies + " cop" + (copies == 1 ? "y" : "ies") + ", full batches", batch, c, 0, c, c));
        ceiling = Math.max(ceiling, c);
      }
      rows.add(row(model, "**model ceiling** (the better of the two)", batch, ceiling, 0, ceiling, ceiling));
      List<String> runners = new ArrayList<>();
      for (String encoding : encodings) {
        runners.add("ainative-rpc " + encoding);
      }
      runners.add("beam-flink-inline");
      for (String runner : runners) {
        Run r =
            model.equals("identity")
                ? pipeline(runner, n, batch, idSpec, RpcServiceBenchmark::vector, FloatArrayCoder.of())
                : pipeline(runner, n, batch, shapeSpec, RpcServiceBenchmark::image, org.apache.beam.sdk.coders.VarIntCoder.of());
        rows.add(row(model, runner + " (" + n + " elements)", batch, r.perSecond, r.wallSeconds, ceiling, r.secondHalfPerSecond));
      }
    }
    System.out.println();
    System.out.println("| model | path | batch | elements/s | wall s | % of ceiling | second half elements/s | % of ceiling |");
    System.out.println("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (String[] row : rows) {
      System.out.println("| " + String.join(" | ", row) + " |");
    }
    if (cpu) {
      System.out.println();
      System.out.println(
          "CPU by thread (name with digits as #); pipelines over "
              + (cpuWholeRun ? "the whole run" : "their second half")
              + ", the model alone over its run:");
      System.out.println();
      System.out.println("| run | threads | CPU us/element | share |");
      System.out.println("| --- | --- | ---: | ---: |");
      CPU_ROWS.forEach(System.out::println);
    }
  }

  private static String[] row(
      String model, String path, int batch, double perSecond, double wall, double ceiling, double secondHalf) {
    return new String[] {
      model,
      path,
      Integer.toString(batch),
      String.format(Locale.ROOT, "%,.0f", perSecond),
      wall == 0 ? "-" : String.format(Locale.ROOT, "%.1f", wall),
      String.format(Locale.ROOT, "%.0f%%", 100 * perSecond / ceiling),
      String.format(Locale.ROOT, "%,.0f", secondHalf),
      String.format(Locale.ROOT, "%.0f%%", 100 * secondHalf / ceiling)
    };
  }

  static float[] vector(Long i) {
    float[] v = new float[16];
    v[0] = i;
    return v;
  }

  /**
   * Drawing an image (Java2D) costs more than classifying it, and it is the benchmark's input, not
   * the runner's work: the pipeline cycles through images drawn once per JVM.
   */
  static float[] image(Long i) {
    return Images.DRAWN[(int) (i % Images.DRAWN.length)];
  }

  private static final class Images {
    static final float[][] DRAWN = draw(256);

    private static float[][] draw(int n) {
      ShapeImages images = new ShapeImages(imageSize, imageChannels, 17);
      float[][] drawn = new float[n][];
      for (int i = 0; i < n; i++) {
        drawn[i] = images.next().pixels();
      }
      return drawn;
    }
  }

  /**
   * Elements per second of the model host alone on full batches, over about 5 s: {@code copies}
   * model copies, each called by its own thread with {@code cores / copies} intra-op threads (what
   * a service with that many copies, or Beam's inline ParDo on as many subtasks, can do at best).
   */
  private static <OutputT> double ceiling(
      ModelSpec<float[], OutputT> spec, SerializableFunction<Long, float[]> input, int batch, int copies) throws Exception {
    List<ModelHost<float[], OutputT>> hosts = new ArrayList<>();
    try {
      for (int c = 0; c < copies; c++) {
        hosts.add(ModelHost.load(spec, ModelHost.Options.defaults().withCopiesPerJvm(copies), io.ainative.transforms.runtime.BatchListener.NONE));
      }
      List<float[]> inputs = new ArrayList<>();
      for (long i = 0; i < batch; i++) {
        inputs.add(input.apply(i));
      }
      java.util.concurrent.atomic.AtomicBoolean started = new java.util.concurrent.atomic.AtomicBoolean();
      java.util.concurrent.atomic.AtomicBoolean ended = new java.util.concurrent.atomic.AtomicBoolean();
      ThreadCpu threads = cpu ? ThreadCpu.between(started::get, ended::get) : null;
      java.util.concurrent.atomic.AtomicLong done = new java.util.concurrent.atomic.AtomicLong();
      java.util.concurrent.CyclicBarrier warm = new java.util.concurrent.CyclicBarrier(copies);
      long[] window = new long[2];
      List<Thread> callers = new ArrayList<>();
      for (ModelHost<float[], OutputT> host : hosts) {
        Thread t =
            new Thread(
                () -> {
                  try {
                    for (int i = 0; i < 20; i++) {
                      host.infer(inputs);
                    }
                    if (warm.await() == 0) {
                      window[0] = System.nanoTime();
                      started.set(true);
                    }
                    long start = System.nanoTime();
                    while (System.nanoTime() - start < 5_000_000_000L) {
                      host.infer(inputs);
                      done.addAndGet(batch);
                    }
                  } catch (Exception e) {
                    throw new IllegalStateException(e);
                  }
                },
                "model-alone-" + callers.size());
        t.start();
        callers.add(t);
      }
      for (Thread t : callers) {
        t.join();
      }
      double rate = done.get() / ((System.nanoTime() - window[0]) / 1e9);
      if (threads != null) {
        ended.set(true);
        Map<String, Double> micros = threads.stop();
        CPU_ROWS.addAll(
            ThreadCpu.table("ceiling " + spec.modelName() + " x" + copies, micros, Math.round(rate * threads.seconds()), 4));
      }
      return rate;
    } finally {
      for (ModelHost<float[], OutputT> host : hosts) {
        host.close();
      }
    }
  }

  /**
   * Makes each input and notes when the first was made. Throughput runs from there to the last
   * result: results reach the counting stage in chunks (a data message of the Fn API at a time),
   * so their own first arrival is no start mark.
   */
  static final class FirstInput implements SerializableFunction<Long, float[]> {
    private final SerializableFunction<Long, float[]> make;

    FirstInput(SerializableFunction<Long, float[]> make) {
      this.make = make;
    }

    @Override
    public float[] apply(Long i) {
      FIRST.compareAndSet(0, System.nanoTime());
      return make.apply(i);
    }
  }

  /** Chunk number k to the element numbers k * size .. k * size + size - 1. */
  static final class Expand extends DoFn<Long, Long> {
    private final long size;

    Expand(long size) {
      this.size = size;
    }

    @ProcessElement
    public void process(@Element Long k, OutputReceiver<Long> out) {
      for (long i = k * size; i < (k + 1) * size; i++) {
        out.output(i);
      }
    }
  }

  static final class Count<T> extends DoFn<InferenceResult<float[], T>, Void> {
    @ProcessElement
    public void process(@Element InferenceResult<float[], T> result) {
      long now = System.nanoTime();
      LAST.set(now);
      if (COUNT.incrementAndGet() == HALF.get()) {
        HALF_AT.set(now);
      }
    }
  }

  static final class Run {
    final double perSecond;
    final double secondHalfPerSecond;
    final double wallSeconds;

    Run(double perSecond, double secondHalfPerSecond, double wallSeconds) {
      this.perSecond = perSecond;
      this.secondHalfPerSecond = secondHalfPerSecond;
      this.wallSeconds = wallSeconds;
    }
  }

  private static <OutputT> Run pipeline(
      String runner,
      long n,
      int batch,
      ModelSpec<float[], OutputT> spec,
      SerializableFunction<Long, float[]> input,
      org.apache.beam.sdk.coders.Coder<OutputT> outputCoder) {
    PipelineOptions options;
    int copies = 1;
    if (runner.startsWith("ainative-rpc ")) {
      String[] wire = runner.substring("ainative-rpc ".length()).split("/");
      options =
          AiNativeFlinkRunner.parseOptions(
              "--flinkMaster=[local]",
              "--parallelism=2",
              "--numberOfExecutionRetries=0",
              "--objectReuse=" + objectReuse,
              "--inferenceWireEncoding=" + wire[0],
              "--inferenceExecution=" + (wire.length > 1 ? wire[1] : "DIRECT"),
              "--inferenceIntraOpThreads=" + (wire.length > 3 ? wire[3] : "0"),
              "--inferenceInProcess=" + (wire.length > 4 ? wire[4] : "true"),
              "--inferenceTls=" + (wire.length > 5 ? wire[5] : "AUTO"));
      copies = wire.length > 2 ? Integer.parseInt(wire[2]) : 1;
    } else {
      FlinkPipelineOptions flink = PipelineOptionsFactory.create().as(FlinkPipelineOptions.class);
      flink.setRunner(FlinkRunner.class);
      flink.setFlinkMaster("[local]");
      flink.setParallelism(2);
      flink.setObjectReuse(objectReuse);
      options = flink;
    }
    String maxBundleSize = System.getProperty("ainative.bench.maxBundleSize");
    if (maxBundleSize != null) {
      options.as(FlinkPipelineOptions.class).setMaxBundleSize(Long.parseLong(maxBundleSize));
    }
    FIRST.set(0);
    LAST.set(0);
    COUNT.set(0);
    HALF.set(n / 2);
    HALF_AT.set(0);
    Pipeline p = Pipeline.create(options);
    // -Dainative.bench.rate=R: the source rate-limited to about R elements a second (still bounded
    // by n). On ainative a bounded read's output reaches the service only as each restriction ends
    // (runner README, "Known limitations"), so this shows that delay, not a throughput.
    String rate = System.getProperty("ainative.bench.rate");
    GenerateSequence source = GenerateSequence.from(0).to(n);
    if (rate != null) {
      source = source.withRate(Long.parseLong(rate), org.joda.time.Duration.standardSeconds(1));
    }
    // -Dainative.bench.chunk=C: the source reads n / C chunk numbers, reshuffles them and expands
    // each into C element numbers in the stage before RunInference, so that stage makes its images
    // a bundle of chunks at a time (-Dainative.bench.maxBundleSize, Beam's --maxBundleSize) while
    // the service serves, instead of a whole restriction ahead of it.
    String chunk = System.getProperty("ainative.bench.chunk");
    PCollection<Long> numbers;
    if (chunk != null) {
      long c = Long.parseLong(chunk);
      numbers =
          p.apply(GenerateSequence.from(0).to(n / c))
              .apply(Reshuffle.viaRandomKey())
              .apply(ParDo.of(new Expand(c)));
    } else {
      numbers = p.apply(source);
    }
    numbers
        .apply(MapElements.into(TypeDescriptor.of(float[].class)).via(new FirstInput(input)))
        .setCoder(FloatArrayCoder.of())
        .apply(RunInference.of(spec).withOutputCoder(outputCoder).withBatchSize(1, batch).withModelCopies(copies))
        .apply(ParDo.of(new Count<OutputT>()));
    // Over the second half, as the second-half rate: the first pays for the JIT's compiling of
    // every path, which a long-running job pays once.
    ThreadCpu threads =
        !cpu ? null
            : cpuWholeRun
                ? ThreadCpu.between(() -> FIRST.get() != 0, () -> COUNT.get() >= n)
                : ThreadCpu.between(() -> HALF_AT.get() != 0, () -> COUNT.get() >= n);
    long start = System.nanoTime();
    // Results per second over the run, so a slow start (the service's model load and warm-up, the
    // JIT) shows apart from the steady rate.
    List<Long> perSecond = new ArrayList<>();
    Thread timeline =
        new Thread(
            () -> {
              long seen = 0;
              try {
                while (true) {
                  Thread.sleep(1000);
                  long c = COUNT.get();
                  synchronized (perSecond) {
                    perSecond.add(c - seen);
                  }
                  seen = c;
                }
              } catch (InterruptedException e) {
                // the run ended
              }
            },
            "results-timeline");
    timeline.setDaemon(true);
    timeline.start();
    PipelineResult result = p.run();
    PipelineResult.State state = result.waitUntilFinish();
    timeline.interrupt();
    synchronized (perSecond) {
      System.out.println(runner + " " + spec.modelName() + ": results per second from submission: " + perSecond);
    }
    if (threads != null) {
      try {
        CPU_ROWS.addAll(ThreadCpu.table(runner + " " + spec.modelName(), threads.stop(), cpuWholeRun ? n : n - n / 2, 8));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    double wall = (System.nanoTime() - start) / 1e9;
    if (state != PipelineResult.State.DONE || COUNT.get() != n) {
      throw new IllegalStateException(runner + ": state " + state + ", " + COUNT.get() + " results for " + n + " elements");
    }
    double steady = n / ((LAST.get() - FIRST.get()) / 1e9);
    double secondHalf = (n - n / 2) / ((LAST.get() - HALF_AT.get()) / 1e9);
    return new Run(steady, secondHalf, wall);
  }
}
