package io.ainative.transforms.runtime;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.Assert.assertEquals;

import io.ainative.transforms.InferenceStep;
import io.ainative.transforms.ModelSpec;
import io.ainative.transforms.RetryPolicy;
import io.ainative.transforms.TinyModels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** Failure isolation in one session, for per-element and for batch processing. */
public class InferenceSessionTest {
  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  private List<Outcome<Float>> run(ModelSpec<Float, Float> spec, List<Integer> sizes, Float... in)
      throws Exception {
    try (LoadedModel<Float, Float> model = LoadedModel.load(spec);
        InferenceSession<Float, Float> session =
            model.newSession((size, micros, ok) -> sizes.add(ok ? size : -size), RetryPolicy.noRetries())) {
      return session.run(Arrays.asList(in));
    }
  }

  private static void assertIsolated(List<Outcome<Float>> out) {
    assertEquals(2f, out.get(0).output(), 0f);
    assertEquals(InferenceStep.PRE_PROCESS, out.get(1).failedStep());
    assertThat(out.get(1).error().getMessage(), containsString("NaN"));
    assertEquals(InferenceStep.INFERENCE, out.get(2).failedStep());
    assertThat(out.get(2).error().getMessage(), containsString("negative input"));
    assertEquals(InferenceStep.POST_PROCESS, out.get(3).failedStep());
    assertEquals(6f, out.get(4).output(), 0f);
    assertEquals(8f, out.get(5).output(), 0f);
  }

  @Test
  public void perElementProcessing_isolatesEachStepsFailure_andTheRestSucceed() throws Exception {
    List<Integer> sizes = new ArrayList<>();
    ModelSpec<Float, Float> spec =
        TinyModels.doublerSpec(TinyModels.saveDoubler(tmp.getRoot().toPath())).build();
    assertIsolated(run(spec, sizes, 1f, Float.NaN, -2f, 600f, 3f, 4f));
    // 5 pre-processed: [1,-2,600,3,4] fails, [1,-2] fails, [1] ok, [-2] fails, [600,3,4] ok
    assertEquals(Arrays.asList(-5, -2, 1, -1, 3), sizes);
  }

  @Test
  public void batchProcessing_isolatesEachStepsFailure_andTheRestSucceed() throws Exception {
    List<Integer> sizes = new ArrayList<>();
    ModelSpec<Float, Float> spec =
        TinyModels.doublerBatchSpec(TinyModels.saveDoubler(tmp.getRoot().toPath())).build();
    assertIsolated(run(spec, sizes, 1f, Float.NaN, -2f, 600f, 3f, 4f));
  }

  @Test
  public void batchProcessing_runsAHealthyBatchInOneModelCall() throws Exception {
    List<Integer> sizes = new ArrayList<>();
    ModelSpec<Float, Float> spec =
        TinyModels.doublerBatchSpec(TinyModels.saveDoubler(tmp.getRoot().toPath())).build();
    List<Outcome<Float>> out = run(spec, sizes, 1f, 2f, 3f);
    assertEquals(Arrays.asList(2f, 4f, 6f), Arrays.asList(out.get(0).output(), out.get(1).output(), out.get(2).output()));
    assertEquals(Arrays.asList(3), sizes);
  }
}
