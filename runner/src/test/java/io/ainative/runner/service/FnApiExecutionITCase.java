package io.ainative.runner.service;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import io.ainative.harness.testing.FloatArrayCoder;
import io.ainative.harness.testing.IdentityModel;
import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import io.ainative.transforms.InferenceFailure;
import io.ainative.transforms.InferenceResult;
import io.ainative.transforms.ModelSpec;
import io.ainative.transforms.RetryPolicy;
import io.ainative.transforms.RunInference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * RunInference with {@code --inferenceExecution=FN_API_HARNESS}: each instance runs its model copy
 * in Beam's Java SDK harness, a bundle per batch. Same results, same per-element failures, and a
 * model that throws an {@link Error} in the harness breaks its instance, which Flink restarts
 * alone while the client re-routes.
 */
public class FnApiExecutionITCase {
  static final float CRASH_MARK = 4242f;
  static final AtomicBoolean CRASHED = new AtomicBoolean();

  private static Path identity;

  @BeforeClass
  public static void saveModel() {
    identity = IdentityModel.saved(Path.of("target/test-models"));
  }

  private static TestPipeline pipeline(int retries) {
    AiNativeFlinkPipelineOptions options = InferenceSemanticsITCase.embeddedOptions();
    options.setNumberOfExecutionRetries(retries);
    options.setInferenceExecution(io.ainative.runner.options.InferenceExecution.FN_API_HARNESS);
    return TestPipeline.fromOptions(options).enableAbandonedNodeEnforcement(false);
  }

  /** Identity per element; rejects null; throws an Error (a crash) the first time it sees the mark. */
  private static ModelSpec<float[], float[]> spec() {
    return ModelSpec.<float[], float[]>builder()
        .setModelUri(identity.toString())
        .optModelName(IdentityModel.MODEL_NAME)
        .optBlock(IdentityModel::newBlock)
        .setProcessing(
            (manager, v) -> {
              if (v == null) {
                throw new IllegalArgumentException("null has no values");
              }
              if (v[0] == CRASH_MARK && CRASHED.compareAndSet(false, true)) {
                throw new OutOfMemoryError("injected crash in the SDK harness");
              }
              return new NDList(manager.create(v, new Shape(v.length)));
            },
            output -> output.singletonOrThrow().toFloatArray())
        .build();
  }

  @Test
  public void resultsAndElementFailures_areTheSameAsInProcess() {
    TestPipeline p = pipeline(0);
    List<float[]> inputs = new ArrayList<>();
    List<Float> expected = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      inputs.add(i == 42 ? null : InferenceSemanticsITCase.vector(i));
      if (i != 42) {
        expected.add((float) i);
      }
    }
    WithFailures.Result<PCollection<InferenceResult<float[], float[]>>, InferenceFailure<float[]>> result =
        p.apply(Create.of(inputs).withCoder(NullableCoder.of(FloatArrayCoder.of())))
            .apply(
                RunInference.of(spec())
                    .withOutputCoder(FloatArrayCoder.of())
                    .withInstances(2)
                    .withBatchSize(1, 16)
                    .withRetryPolicy(RetryPolicy.noRetries())
                    .withFailures());
    PAssert.that(result.output().apply(MapElements.into(TypeDescriptors.floats()).via(r -> r.getOutput()[0]))).containsInAnyOrder(expected);
    PAssert.that(
            result.failures()
                .apply(MapElements.into(TypeDescriptors.strings()).via(f -> f.getStep() + " " + f.getErrorClass() + ": " + f.getErrorMessage())))
        .containsInAnyOrder("PRE_PROCESS java.lang.IllegalArgumentException: null has no values");
    p.run();
  }

  @Test
  public void errorInTheHarness_restartsTheInstance_andEveryElementGetsOneResult() {
    CRASHED.set(false);
    TestPipeline p = pipeline(3);
    List<float[]> inputs = new ArrayList<>();
    List<Float> expected = new ArrayList<>();
    for (int i = 0; i < 600; i++) {
      inputs.add(InferenceSemanticsITCase.vector(i == 300 ? CRASH_MARK : i));
      expected.add(i == 300 ? CRASH_MARK : (float) i);
    }
    PCollection<InferenceResult<float[], float[]>> results =
        p.apply(Create.of(inputs).withCoder(FloatArrayCoder.of()))
            .apply(RunInference.of(spec()).withOutputCoder(FloatArrayCoder.of()).withInstances(2).withBatchSize(1, 16));
    PAssert.that(results.apply(MapElements.into(TypeDescriptors.floats()).via(r -> r.getOutput()[0]))).containsInAnyOrder(expected);
    p.run();
    assertThat("the crash happened", CRASHED.get(), is(true));
  }
}
