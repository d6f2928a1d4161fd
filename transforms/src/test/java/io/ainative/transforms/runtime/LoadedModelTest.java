package io.ainative.transforms.runtime;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDList;
import ai.djl.nn.LambdaBlock;
import io.ainative.transforms.InferenceStep;
import io.ainative.transforms.ModelLoadException;
import io.ainative.transforms.ModelSpec;
import io.ainative.transforms.RetryPolicy;
import io.ainative.transforms.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.joda.time.Duration;
import org.junit.Assume;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class LoadedModelTest {
  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  private Path doublerDir() {
    return TinyModels.saveDoubler(tmp.getRoot().toPath());
  }

  @Test
  public void gpu_onAMachineWithoutOne_failsClearly_andAutoFallsBackToCpu() throws Exception {
    Assume.assumeTrue("needs a machine without a GPU", Engine.getEngine("PyTorch").getGpuCount() == 0);
    Path dir = doublerDir();
    ModelLoadException e =
        assertThrows(
            ModelLoadException.class,
            () -> LoadedModel.load(TinyModels.doublerSpec(dir).optDevice("gpu").build()));
    assertThat(e.getMessage(), containsString("asks for device gpu:0"));
    assertThat(e.getMessage(), containsString("sees no GPU"));
    try (LoadedModel<Float, Float> model =
        LoadedModel.load(TinyModels.doublerSpec(dir).optDevice("auto").build())) {
      assertEquals(Device.cpu(), model.device());
    }
  }

  @Test
  public void fileUriOfAnotherFileSystemPath_isCopiedLocally_andLoads() throws Exception {
    Path dir = doublerDir();
    Path staged = ModelStaging.stageLocally(dir.toUri().toString());
    try {
      assertTrue(Files.isRegularFile(staged.resolve(TinyModels.NAME + "-0000.params")));
    } finally {
      ModelStaging.deleteQuietly(staged);
    }
    try (LoadedModel<Float, Float> model =
            LoadedModel.load(TinyModels.doublerSpec(dir).setModelUri(dir.toUri().toString()).build());
        InferenceSession<Float, Float> session =
            model.newSession(BatchListener.NONE, RetryPolicy.noRetries())) {
      assertEquals(6f, session.run(Arrays.asList(3f)).get(0).output(), 0f);
    }
  }

  @Test
  public void unreadableModel_failsWithTheLocationEngineAndDevice() throws Exception {
    Path dir = tmp.newFolder("broken").toPath();
    Files.write(dir.resolve("broken-0000.params"), new byte[] {1, 2, 3});
    ModelSpec<Float, Float> spec =
        TinyModels.doublerSpec(dir).setModelUri(dir.toString()).optModelName("broken").build();
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> LoadedModel.load(spec));
    assertThat(e.getMessage(), containsString("cannot load model '" + dir + "'"));
    assertThat(e.getMessage(), containsString("engine PyTorch, device cpu()"));
  }

  /** Fails the first {@link #FAILURES} calls, then doubles. */
  static final AtomicInteger FAILURES = new AtomicInteger();

  @Test
  public void transientModelFailure_ofASingleElement_isRetriedPerPolicy() throws Exception {
    Path dir = doublerDir();
    ModelSpec<Float, Float> spec =
        TinyModels.doublerSpec(dir)
            .optBlock(
                () ->
                    new LambdaBlock(
                        list -> {
                          if (FAILURES.getAndDecrement() > 0) {
                            throw new IllegalStateException("transient");
                          }
                          return new NDList(list.singletonOrThrow().mul(2));
                        }))
            .build();
    AtomicInteger failedCalls = new AtomicInteger();
    try (LoadedModel<Float, Float> model = LoadedModel.load(spec)) {
      FAILURES.set(2);
      try (InferenceSession<Float, Float> session =
          model.newSession(
              (size, micros, ok) -> failedCalls.addAndGet(ok ? 0 : 1),
              RetryPolicy.exponential(3, Duration.millis(1), Duration.millis(1)))) {
        List<Outcome<Float>> out = session.run(Arrays.asList(4f));
        assertEquals(8f, out.get(0).output(), 0f);
        assertEquals(2, failedCalls.get());
      }
      FAILURES.set(5);
      try (InferenceSession<Float, Float> session =
          model.newSession(BatchListener.NONE, RetryPolicy.noRetries())) {
        Outcome<Float> out = session.run(Arrays.asList(4f)).get(0);
        assertEquals(InferenceStep.INFERENCE, out.failedStep());
      }
    } finally {
      FAILURES.set(0);
    }
  }
}
