package io.ainative.benchmarks.inference;

import io.ainative.harness.DynamicBatcher;
import io.ainative.harness.ModelHost;
import io.ainative.harness.fnapi.FnApiModelHosts;
import io.ainative.harness.testing.FloatArrayCoder;
import io.ainative.harness.testing.IdentityModel;
import io.ainative.harness.testing.ShapeImages;
import io.ainative.harness.testing.ShapesClassifier;
import io.ainative.transforms.ModelSpec;
import io.ainative.transforms.runtime.BatchListener;
import io.ainative.transforms.runtime.Outcome;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.VarIntCoder;

/**
 * What running a model copy behind the Beam Fn API costs (one bundle element = one batch, so the
 * Fn API costs once per batch): the same batches, one caller, through {@link
 * ModelHost#infer} directly and through {@link FnApiModelHosts} (Beam's Java SDK harness
 * in-process, a bundle per batch). Prints microseconds per batch for each and the difference.
 *
 * <pre>
 * bin/bench inference.FnApiOverheadBenchmark [seconds per cell, default 3]
 * </pre>
 */
public final class FnApiOverheadBenchmark {
  private static final int[] BATCHES = {1, 8, 64};

  private FnApiOverheadBenchmark() {}

  public static void main(String[] args) throws Exception {
    double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 3;
    Path models = Path.of("benchmarks/target/bench-models");
    ModelSpec<float[], float[]> identity = IdentityModel.spec(IdentityModel.saved(models), 16);
    ModelSpec<float[], Integer> shapes = ShapesClassifier.batchSpecBuilder(ShapesClassifier.trainedModel(models, 32, 1), 32, 1).build();
    List<String> rows = new ArrayList<>();
    rows.addAll(measure("identity (16 floats)", identity, FloatArrayCoder.of(), i -> vector(i), seconds));
    rows.addAll(measure("shapes CNN (1x32x32)", shapes, VarIntCoder.of(), i -> new ShapeImages(32, 1, i).next().pixels(), seconds));
    System.out.println();
    System.out.println("| model | batch | direct µs/batch | Fn API µs/batch | Fn API cost µs/batch | Fn API cost µs/element |");
    System.out.println("| --- | ---: | ---: | ---: | ---: | ---: |");
    rows.forEach(System.out::println);
  }

  private static float[] vector(long i) {
    float[] v = new float[16];
    v[0] = i;
    return v;
  }

  private static <O> List<String> measure(
      String name, ModelSpec<float[], O> spec, Coder<O> outputCoder, java.util.function.LongFunction<float[]> input, double seconds)
      throws Exception {
    List<String> rows = new ArrayList<>();
    ModelHost.Options options = ModelHost.Options.defaults();
    try (ModelHost<float[], O> host = ModelHost.load(spec, options, BatchListener.NONE);
        FnApiModelHosts<float[], O> harness = FnApiModelHosts.start(spec, FloatArrayCoder.of(), outputCoder, options, 1)) {
      DynamicBatcher.BatchHandler<float[], Outcome<O>> viaFnApi = harness.handler();
      for (int size : BATCHES) {
        List<float[]> batch = new ArrayList<>();
        for (int i = 0; i < size; i++) {
          batch.add(input.apply(i));
        }
        double direct = microsPerBatch(host::infer, batch, seconds);
        double fnApi = microsPerBatch(viaFnApi, batch, seconds);
        rows.add(
            String.format(
                Locale.ROOT, "| %s | %d | %.0f | %.0f | %.0f | %.1f |", name, size, direct, fnApi, fnApi - direct, (fnApi - direct) / size));
      }
    }
    return rows;
  }

  private static <O> double microsPerBatch(DynamicBatcher.BatchHandler<float[], Outcome<O>> handler, List<float[]> batch, double seconds)
      throws Exception {
    for (int i = 0; i < 50; i++) {
      check(handler.handle(batch), batch.size());
    }
    long start = System.nanoTime();
    long end = start + (long) (seconds * 1e9);
    long n = 0;
    while (System.nanoTime() < end) {
      check(handler.handle(batch), batch.size());
      n++;
    }
    return (System.nanoTime() - start) / 1e3 / n;
  }

  private static <O> void check(List<Outcome<O>> outcomes, int expected) {
    if (outcomes.size() != expected || !outcomes.get(0).isSuccess()) {
      throw new IllegalStateException("unexpected outcomes: " + outcomes);
    }
  }
}
