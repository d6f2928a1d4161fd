package io.ainative.harness;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import io.ainative.transforms.InferenceStep;
import io.ainative.transforms.ModelLoadException;
import io.ainative.transforms.ModelSpec;
import io.ainative.transforms.runtime.BatchListener;
import io.ainative.transforms.runtime.Outcome;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.Test;

/**
 * TorchScript loading on the real PyTorch engine, with archives that {@code
 * src/test/python/make_torchscript_fixture.py} writes by hand at test time (no PyTorch, nothing
 * downloaded): a linear layer and a scale, {@code (x @ W.T + b) * s}, with W and b module
 * parameters and s a tensor constant. Each test draws its own W, b and s, so the outputs can
 * only match if the engine read those values from the archive.
 */
public class TorchScriptFixtureITCase {
  private static final Path SCRIPT =
      Paths.get(System.getProperty("basedir", "."), "src", "test", "python",
          "make_torchscript_fixture.py");
  private static final Path FIXTURES =
      Paths.get(System.getProperty("basedir", "."), "target", "torchscript-fixtures");

  /** The fixture's values, drawn per test. */
  private static final class Linear {
    final float[][] weight;
    final float[] bias;
    final float[] scale;

    Linear(long seed, int in, int out) {
      Random random = new Random(seed);
      weight = new float[out][in];
      bias = new float[out];
      scale = new float[out];
      for (int o = 0; o < out; o++) {
        for (int i = 0; i < in; i++) {
          weight[o][i] = random.nextInt(17) / 4f - 2f; // quarters: exact in float32 and in text
        }
        bias[o] = random.nextInt(9) / 2f - 2f;
        scale[o] = random.nextInt(7) / 2f + 0.5f;
      }
    }

    int in() {
      return weight[0].length;
    }

    int out() {
      return weight.length;
    }

    float[] apply(float[] x) {
      float[] y = new float[out()];
      for (int o = 0; o < out(); o++) {
        double sum = bias[o];
        for (int i = 0; i < in(); i++) {
          sum += (double) weight[o][i] * x[i];
        }
        y[o] = (float) (sum * scale[o]);
      }
      return y;
    }

    List<String> scriptArguments() {
      String w =
          IntStream.range(0, out()).mapToObj(o -> join(weight[o])).collect(Collectors.joining(";"));
      // "--name=value": a value may start with '-'
      return List.of("--weight=" + w, "--bias=" + join(bias), "--scale=" + join(scale));
    }

    private static String join(float[] values) {
      return IntStream.range(0, values.length)
          .mapToObj(i -> Float.toString(values[i]))
          .collect(Collectors.joining(","));
    }
  }

  /** Runs the fixture script; returns the archive it wrote. */
  private static Path writeFixture(Path file, List<String> arguments) throws Exception {
    Files.createDirectories(file.getParent());
    Files.deleteIfExists(file);
    List<String> command = new ArrayList<>(List.of("python3", SCRIPT.toString(), file.toString()));
    command.addAll(arguments);
    Process process;
    try {
      process = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new AssertionError("python3 is needed to write the TorchScript fixture: " + e, e);
    }
    assertTrue("fixture script did not finish in 30 s", process.waitFor(30, TimeUnit.SECONDS));
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals("fixture script failed: " + output, 0, process.exitValue());
    assertTrue(Files.isRegularFile(file));
    return file;
  }

  private static ModelSpec.Builder<float[], float[]> spec(Path model, int in) {
    return ModelSpec.<float[], float[]>builder()
        .setModelUri(model.toString())
        .setProcessing(
            (manager, x) -> new NDList(manager.create(x, new Shape(x.length))),
            output -> output.singletonOrThrow().toFloatArray());
  }

  private static List<float[]> inputs(long seed, int count, int in) {
    Random random = new Random(seed);
    List<float[]> inputs = new ArrayList<>();
    for (int n = 0; n < count; n++) {
      float[] x = new float[in];
      for (int i = 0; i < in; i++) {
        x[i] = (float) random.nextGaussian();
      }
      inputs.add(x);
    }
    return inputs;
  }

  @Test
  public void handWrittenArchive_loadsThroughModelHost_andComputesItsLinearLayer()
      throws Exception {
    Linear linear = new Linear(11, 3, 2);
    Path file = writeFixture(FIXTURES.resolve("tiny_linear.pt"), linear.scriptArguments());
    float[] warmup = new float[linear.in()];
    try (ModelHost<float[], float[]> host =
        ModelHost.load(
            spec(file, linear.in()).optWarmupInput(() -> warmup).build(),
            ModelHost.Options.defaults().withWarmupBatchSize(2),
            BatchListener.NONE)) {
      assertEquals(Device.cpu(), host.device());
      // weight and bias are parameters; the scale is a constant, not a parameter
      assertEquals((linear.out() * linear.in() + linear.out()) * 4L, host.parameterBytes());

      List<float[]> batch = inputs(5, 7, linear.in());
      List<Outcome<float[]>> outcomes = host.infer(batch);
      assertEquals(batch.size(), outcomes.size());
      for (int n = 0; n < batch.size(); n++) {
        assertTrue(outcomes.get(n).toString(), outcomes.get(n).isSuccess());
        assertArrayEquals(
            "input " + n, linear.apply(batch.get(n)), outcomes.get(n).output(), 1e-5f);
      }
    }
  }

  @Test
  public void directoryHoldingTheArchive_loadsTheFileNamedLikeTheDirectory() throws Exception {
    Linear linear = new Linear(23, 5, 4);
    Path dir = FIXTURES.resolve("scaled");
    writeFixture(dir.resolve("scaled.pt"), linear.scriptArguments());
    try (ModelHost<float[], float[]> host = ModelHost.load(spec(dir, linear.in()).build())) {
      List<float[]> batch = inputs(9, 3, linear.in());
      List<Outcome<float[]>> outcomes = host.infer(batch);
      for (int n = 0; n < batch.size(); n++) {
        assertArrayEquals(
            "input " + n, linear.apply(batch.get(n)), outcomes.get(n).output(), 1e-5f);
      }
    }
  }

  @Test
  public void inputOfTheWrongWidth_failsAlone_atInference() throws Exception {
    Linear linear = new Linear(31, 3, 2);
    Path file = writeFixture(FIXTURES.resolve("width.pt"), linear.scriptArguments());
    try (ModelHost<float[], float[]> host = ModelHost.load(spec(file, linear.in()).build())) {
      List<float[]> batch = inputs(3, 4, linear.in());
      batch.set(2, new float[] {1f, 2f, 3f, 4f});
      List<Outcome<float[]>> outcomes = host.infer(batch);
      assertEquals(InferenceStep.INFERENCE, outcomes.get(2).failedStep());
      for (int n : new int[] {0, 1, 3}) {
        assertArrayEquals(
            "input " + n, linear.apply(batch.get(n)), outcomes.get(n).output(), 1e-5f);
      }
    }
  }

  @Test
  public void archiveOfAFormatVersionLibtorchDoesNotRead_isAModelLoadException_namingIt()
      throws Exception {
    Linear linear = new Linear(41, 3, 2);
    List<String> arguments = new ArrayList<>(linear.scriptArguments());
    arguments.add("--version=99");
    Path file = writeFixture(FIXTURES.resolve("too_new.pt"), arguments);
    ModelLoadException e =
        assertThrows(ModelLoadException.class, () -> ModelHost.load(spec(file, 3).build()));
    assertThat(e.getMessage(), containsString("version 99"));
    assertThat(e.getMessage(), containsString("maximum supported version"));
  }
}
