package io.ainative.benchmarks.inference;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.translate.NoopTranslator;
import io.ainative.harness.DynamicBatcher;
import io.ainative.harness.ModelHost;
import io.ainative.harness.fnapi.FnApiModelHosts;
import io.ainative.harness.testing.FloatArrayCoder;
import io.ainative.harness.testing.ShapeImages;
import io.ainative.harness.testing.ShapesClassifier;
import io.ainative.transforms.runtime.BatchListener;
import io.ainative.transforms.ModelSpec;
import io.ainative.transforms.runtime.Outcome;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.coders.VarIntCoder;

/**
 * How close the model host gets to the model alone.
 *
 * <ol>
 *   <li><b>Raw</b>: the demo CNN (shapes, 3x64x64 by default) through a plain DJL predictor, one
 *       thread, a stacked float batch in and the arg-max out, at batch sizes 1..256: the ceiling.
 *   <li><b>Host</b>: the same model behind {@link ModelHost} copies and a {@link DynamicBatcher}
 *       (max and preferred batch = the best raw batch size), fed single images by N concurrent
 *       callers that keep requests in flight: per-element pre-processing, batching, failure
 *       isolation bookkeeping, futures.
 *   <li><b>Host + Fn API</b>: the same batcher, but its handlers run each batch as one bundle in
 *       Beam's Java SDK harness (in-process, {@link FnApiModelHosts}), where the model copies
 *       live: on top of the host path, a bundle per batch whose element refers to the batch
 *       (the default), and once more with the batch encoded to bytes and back (input and output
 *       coders) across the Fn API data plane. {@code --fn-api false} leaves them out.
 * </ol>
 *
 * <p>Prints a table; the overhead line is {@code 1/host - 1/raw} in microseconds per element.
 *
 * <pre>
 * java -Dai.djl.offline=true -cp ... io.ainative.benchmarks.inference.InferenceThroughputBenchmark \
 *     [--size 64] [--channels 3] [--inputs 4096] [--callers 8] [--copies 1] [--repeats 3] \
 *     [--threads cores/copies] [--rounds 5] [--batch best] [--fn-api true] \
 *     [--model-dir target/bench-models]
 * </pre>
 */
public final class InferenceThroughputBenchmark {
  private static final int[] BATCH_SIZES = {1, 2, 4, 8, 16, 32, 64, 128, 256};

  private InferenceThroughputBenchmark() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = parse(args);
    int size = Integer.parseInt(a.getOrDefault("size", "64"));
    int channels = Integer.parseInt(a.getOrDefault("channels", "3"));
    int inputs = Integer.parseInt(a.getOrDefault("inputs", "4096"));
    int copies = Integer.parseInt(a.getOrDefault("copies", "1"));
    int repeats = Integer.parseInt(a.getOrDefault("repeats", "3"));
    Path cache = Paths.get(a.getOrDefault("model-dir", "target/bench-models"));
    // intra-op threads per model copy; the same for the raw run and for every host
    int threads =
        Integer.parseInt(
            a.getOrDefault(
                "threads",
                Integer.toString(Math.max(1, Runtime.getRuntime().availableProcessors() / copies))));

    long trainStart = System.nanoTime();
    Path dir = ShapesClassifier.trainedModel(cache, size, channels);
    System.out.printf(
        Locale.ROOT,
        "model: %s (ready in %.1f s), %d cores, %d intra-op thread(s) per model copy,"
            + " %d x %dx%dx%d inputs%n",
        dir, (System.nanoTime() - trainStart) / 1e9, Runtime.getRuntime().availableProcessors(),
        threads, inputs, channels, size, size);

    ShapeImages images = new ShapeImages(size, channels, 7);
    List<float[]> data = new ArrayList<>(inputs);
    for (int i = 0; i < inputs; i++) {
      data.add(images.next().pixels());
    }

    System.out.println();
    System.out.println("| path | batch | inputs/s (median of " + repeats + ") | ms/batch |");
    System.out.println("|---|---:|---:|---:|");
    try (Model model = Model.newInstance(ShapesClassifier.MODEL_NAME, Device.cpu(), "PyTorch")) {
      model.setBlock(ShapesClassifier.newBlock());
      model.load(dir, ShapesClassifier.MODEL_NAME);
      JniUtils.setNumThreads(threads);
      try (Predictor<NDList, NDList> predictor = model.newPredictor(new NoopTranslator(null))) {
        double best = 0;
        int bestBatch = 1;
        for (int batch : BATCH_SIZES) {
          double rate = median(repeats, () -> raw(predictor, model, data, batch, size, channels));
          System.out.printf(
              Locale.ROOT, "| raw DJL | %d | %.0f | %.2f |%n", batch, rate, 1000.0 * batch / rate);
          if (rate > best) {
            best = rate;
            bestBatch = batch;
          }
        }
        int batch = a.containsKey("batch") ? Integer.parseInt(a.get("batch")) : bestBatch;
        compareSideBySide(a, dir, data, batch, predictor, model);
      }
    }
  }

  /**
   * Raw and host at one batch size, alternating run by run so that both see the same machine
   * (this matters on a shared machine); reports the medians and their ratio.
   */
  private static void compareSideBySide(
      Map<String, String> a,
      Path dir,
      List<float[]> data,
      int batch,
      Predictor<NDList, NDList> predictor,
      Model model)
      throws Exception {
    int size = Integer.parseInt(a.getOrDefault("size", "64"));
    int channels = Integer.parseInt(a.getOrDefault("channels", "3"));
    int callers = Integer.parseInt(a.getOrDefault("callers", "8"));
    int copies = Integer.parseInt(a.getOrDefault("copies", "1"));
    int rounds = Integer.parseInt(a.getOrDefault("rounds", "5"));
    int threads =
        Integer.parseInt(
            a.getOrDefault(
                "threads",
                Integer.toString(Math.max(1, Runtime.getRuntime().availableProcessors() / copies))));
    boolean fnApi = Boolean.parseBoolean(a.getOrDefault("fn-api", "true"));
    ModelHost.Options options =
        ModelHost.Options.defaults().withCopiesPerJvm(copies).withIntraOpThreads(threads);
    String[] processing = {"per-element processing", "batch processing"};
    List<ModelSpec<float[], Integer>> specs =
        List.of(
            ShapesClassifier.specBuilder(dir, size, channels).build(),
            ShapesClassifier.batchSpecBuilder(dir, size, channels).build());
    List<AutoCloseable> owned = new ArrayList<>(); // closed in reverse: batchers before hosts
    List<HostedPath> paths = new ArrayList<>();
    double[] rawRates = new double[rounds];
    try {
      for (int s = 0; s < specs.size(); s++) {
        List<DynamicBatcher.BatchHandler<float[], Outcome<Integer>>> handlers = new ArrayList<>();
        for (int c = 0; c < copies; c++) {
          ModelHost<float[], Integer> host = ModelHost.load(specs.get(s), options, BatchListener.NONE);
          owned.add(host);
          handlers.add(host::infer);
        }
        paths.add(new HostedPath("ModelHost + DynamicBatcher, " + processing[s], handlers, batch, copies, rounds, owned));
      }
      if (fnApi) {
        // the copies live in Beam's Java SDK harness (in-process); one Fn API bundle per batch,
        // which carries a reference to the batch (the default) or the batch coded inline
        for (int s = 0; s <= specs.size(); s++) {
          boolean inline = s == specs.size();
          ModelSpec<float[], Integer> spec = specs.get(inline ? 1 : s);
          FnApiModelHosts<float[], Integer> harness =
              FnApiModelHosts.start(
                  spec,
                  FloatArrayCoder.of(),
                  VarIntCoder.of(),
                  options,
                  copies,
                  inline ? FnApiModelHosts.BatchTransfer.INLINE : FnApiModelHosts.BatchTransfer.IN_PROCESS_REFERENCE);
          owned.add(harness);
          List<DynamicBatcher.BatchHandler<float[], Outcome<Integer>>> handlers = new ArrayList<>();
          for (int c = 0; c < copies; c++) {
            handlers.add(harness.handler());
          }
          String name =
              "ModelHost + DynamicBatcher + Fn API harness, "
                  + (inline ? processing[1] + ", batch coded inline" : processing[s] + ", batch by reference");
          paths.add(new HostedPath(name, handlers, batch, copies, rounds, owned));
        }
      }
      raw(predictor, model, data, batch, size, channels); // warm-up of every path
      for (HostedPath path : paths) {
        hosted(path.batcher, data, callers);
        path.formed.clear();
      }
      for (int r = 0; r < rounds; r++) {
        rawRates[r] = raw(predictor, model, data, batch, size, channels);
        for (HostedPath path : paths) {
          path.rates[r] = hosted(path.batcher, data, callers);
        }
      }
    } finally {
      for (int i = owned.size() - 1; i >= 0; i--) {
        owned.get(i).close();
      }
    }
    double rawRate = medianOf(rawRates);
    System.out.println();
    System.out.printf(
        Locale.ROOT,
        "side by side at batch %d, alternating run by run, median of %d rounds, %d caller threads,"
            + " %d model cop%s:%n",
        batch, rounds, callers, copies, copies == 1 ? "y" : "ies");
    System.out.println();
    System.out.println(
        "| path | inputs/s (min..max) | us/input | % of raw | overhead us/input | mean batch |");
    System.out.println("|---|---:|---:|---:|---:|---:|");
    System.out.printf(
        Locale.ROOT, "| raw DJL | %.0f (%.0f..%.0f) | %.1f | 100.0 | 0.0 | %d |%n",
        rawRate, min(rawRates), max(rawRates), 1e6 / rawRate, batch);
    for (HostedPath path : paths) {
      double rate = medianOf(path.rates);
      double meanBatch = path.formed.stream().mapToInt(Integer::intValue).average().orElse(0);
      System.out.printf(
          Locale.ROOT,
          "| %s | %.0f (%.0f..%.0f) | %.1f | %.1f | %.1f | %.1f |%n",
          path.name, rate, min(path.rates), max(path.rates), 1e6 / rate,
          100 * rate / rawRate, 1e6 / rate - 1e6 / rawRate, meanBatch);
    }
  }

  /** One batcher in front of model copies (in this JVM, or in the SDK harness), and its rates. */
  private static final class HostedPath {
    final String name;
    final DynamicBatcher<float[], Outcome<Integer>> batcher;
    final List<Integer> formed = java.util.Collections.synchronizedList(new ArrayList<>());
    final double[] rates;

    HostedPath(
        String name,
        List<DynamicBatcher.BatchHandler<float[], Outcome<Integer>>> handlers,
        int batch,
        int copies,
        int rounds,
        List<AutoCloseable> owned) {
      this.name = name;
      this.rates = new double[rounds];
      this.batcher =
          DynamicBatcher.<float[], Outcome<Integer>>builder()
              .setHandlers(handlers)
              .optMaxBatchSize(batch)
              .optPreferredBatchSizes(batch)
              .optMaxDelay(Duration.ofMillis(20))
              .optQueueCapacity(4 * batch * copies)
              .optBatchSizeListener(formed::add)
              .build();
      owned.add(batcher);
    }
  }

  private static double min(double[] values) {
    return java.util.Arrays.stream(values).min().orElse(0);
  }

  private static double max(double[] values) {
    return java.util.Arrays.stream(values).max().orElse(0);
  }

  private static double medianOf(double[] values) {
    double[] sorted = values.clone();
    java.util.Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  /** Inputs per second of the model alone at one batch size. */
  private static double raw(
      Predictor<NDList, NDList> predictor, Model model, List<float[]> data, int batch, int size,
      int channels) throws Exception {
    int pixels = channels * size * size;
    float[] buffer = new float[batch * pixels];
    int n = (data.size() / batch) * batch;
    long start = System.nanoTime();
    long checksum = 0;
    for (int i = 0; i < n; i += batch) {
      for (int k = 0; k < batch; k++) {
        System.arraycopy(data.get(i + k), 0, buffer, k * pixels, pixels);
      }
      try (NDManager manager = model.getNDManager().newSubManager()) {
        NDList out =
            predictor.predict(
                new NDList(manager.create(buffer, new Shape(batch, channels, size, size))));
        for (long label : out.singletonOrThrow().argMax(1).toLongArray()) {
          checksum += label;
        }
      }
    }
    double rate = n / ((System.nanoTime() - start) / 1e9);
    if (checksum < 0) {
      throw new IllegalStateException("impossible");
    }
    return rate;
  }

  /** Inputs per second through the batcher, {@code callers} threads each with all requests in flight. */
  private static double hosted(
      DynamicBatcher<float[], Outcome<Integer>> batcher, List<float[]> data, int callers)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(callers);
    try {
      long start = System.nanoTime();
      List<Future<Integer>> done = new ArrayList<>();
      int share = data.size() / callers;
      for (int c = 0; c < callers; c++) {
        List<float[]> mine = data.subList(c * share, (c + 1) * share);
        done.add(
            pool.submit(
                () -> {
                  List<CompletableFuture<Outcome<Integer>>> futures = new ArrayList<>(mine.size());
                  for (float[] image : mine) {
                    futures.add(batcher.submit(image));
                  }
                  int ok = 0;
                  for (CompletableFuture<Outcome<Integer>> f : futures) {
                    ok += f.get(10, TimeUnit.MINUTES).isSuccess() ? 1 : 0;
                  }
                  return ok;
                }));
      }
      int ok = 0;
      for (Future<Integer> f : done) {
        ok += f.get();
      }
      double rate = ok / ((System.nanoTime() - start) / 1e9);
      if (ok != share * callers) {
        throw new IllegalStateException((share * callers - ok) + " requests failed");
      }
      return rate;
    } finally {
      pool.shutdownNow();
    }
  }

  private interface Measurement {
    double run() throws Exception;
  }

  private static double median(int repeats, Measurement m) throws Exception {
    m.run(); // warm-up
    double[] rates = new double[repeats];
    for (int i = 0; i < repeats; i++) {
      rates[i] = m.run();
    }
    java.util.Arrays.sort(rates);
    return rates[repeats / 2];
  }

  private static Map<String, String> parse(String[] args) {
    Map<String, String> map = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException(
            "arguments are --name value pairs (--size --channels --inputs --callers --copies "
                + "--repeats --threads --rounds --batch --fn-api --model-dir); got '" + args[i] + "'");
      }
      map.put(args[i].substring(2), args[++i]);
    }
    return map;
  }
}
