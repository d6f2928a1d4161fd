package io.ainative.runner.translation.service;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import io.ainative.harness.testing.FloatArrayCoder;
import io.ainative.harness.testing.IdentityModel;
import io.ainative.transforms.ModelSpec;
import io.ainative.transforms.RunInference;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.CrashingRunner;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.util.construction.PipelineTranslation;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** Which transforms share a service, and the check that they agree on what it runs. */
public class SharedServiceTest {
  @ClassRule public static final TemporaryFolder MODEL_DIR = new TemporaryFolder();
  private static Path model;

  @BeforeClass
  public static void saveModel() {
    model = IdentityModel.saved(MODEL_DIR.getRoot().toPath());
  }

  /**
   * Two keyed RunInference steps, "A" and "B", sharing the service "s", and one alone; {@code b}
   * changes B; B gets A's ModelSpec object, or another one built from the same values.
   */
  private static RunnerApi.Components twoSharing(
      UnaryOperator<RunInference.Keyed<Integer, float[], float[]>> b, boolean sameSpecObject) {
    ModelSpec<float[], float[]> spec = IdentityModel.spec(model, 1);
    ModelSpec<float[], float[]> specOfB = sameSpecObject ? spec : IdentityModel.spec(model, 1);
    PipelineOptions options = PipelineOptionsFactory.create();
    options.setRunner(CrashingRunner.class);
    Pipeline p = Pipeline.create(options);
    PCollection<KV<Integer, float[]>> in =
        p.apply(Create.of(KV.of(1, new float[] {1f})).withCoder(KvCoder.of(VarIntCoder.of(), FloatArrayCoder.of())));
    in.apply("A", RunInference.<Integer, float[], float[]>keyed(spec)
        .withOutputCoder(FloatArrayCoder.of()).withSharedService("s"));
    in.apply("B", b.apply(RunInference.<Integer, float[], float[]>keyed(specOfB)
        .withOutputCoder(FloatArrayCoder.of()).withSharedService("s")));
    in.apply("Alone", RunInference.<Integer, float[], float[]>keyed(spec)
        .withOutputCoder(FloatArrayCoder.of()));
    return PipelineTranslation.toProto(p).getComponents();
  }

  private static void checkB(SharedService shared) {
    shared.checkAgrees("B", FloatArrayCoder.of(), FloatArrayCoder.of(), FloatArrayCoder.of(), FloatArrayCoder.of());
  }

  @Test
  public void theStepsNamingAService_shareIt_andTheFirstByNameHostsIt() {
    SharedService shared = SharedService.named("s", twoSharing(t -> t.withRequestTimeout(org.joda.time.Duration.millis(5)), true));
    assertEquals(List.of("A", "B"), shared.steps());
    assertTrue(shared.isHostedBy("A"));
    assertFalse(shared.isHostedBy("B"));
    checkB(shared); // a client-side option may differ
  }

  @Test
  public void differentModelCopies_areRefused_namingBothStepsTheServiceAndTheField() {
    SharedService shared = SharedService.named("s", twoSharing(t -> t.withModelCopies(2), true));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> checkB(shared));
    assertThat(e.getMessage(), allOf(
        containsString("'A' and 'B'"), containsString("service 's'"), containsString("model_copies (1 vs 2)")));
  }

  @Test
  public void twoModelSpecsBuiltFromTheSameValues_areRefused_asTwoSpecs() {
    // A ModelSpec is an identity (its id keys the loaded model), not a value.
    SharedService shared = SharedService.named("s", twoSharing(t -> t, false));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> checkB(shared));
    assertThat(e.getMessage(), allOf(
        containsString("java_model_spec (two different ModelSpecs"), containsString("pass the same ModelSpec")));
  }

  @Test
  public void differentModelCoders_areRefused() {
    SharedService shared = SharedService.named("s", twoSharing(t -> t, true));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> shared.checkAgrees("B", FloatArrayCoder.of(), FloatArrayCoder.of(), StringUtf8Coder.of(), FloatArrayCoder.of()));
    assertThat(e.getMessage(), containsString("model input coder"));
  }
}
