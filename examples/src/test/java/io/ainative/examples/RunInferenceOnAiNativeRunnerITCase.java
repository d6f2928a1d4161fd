package io.ainative.examples;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;

import io.ainative.harness.testing.FloatArrayCoder;
import io.ainative.harness.testing.ShapeImages;
import io.ainative.harness.testing.ShapesClassifier;
import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import io.ainative.runner.TestAiNativeFlinkRunner;
import io.ainative.transforms.InferenceFailure;
import io.ainative.transforms.InferenceMetrics;
import io.ainative.transforms.InferenceResult;
import io.ainative.transforms.InferenceStep;
import io.ainative.transforms.RunInference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.junit.Test;

/**
 * RunInference on AiNativeFlinkRunner's embedded cluster, with the real DJL PyTorch engine and a
 * model trained on generated shapes: accuracy, bad-element isolation into the failure output, and
 * metrics.
 */
public class RunInferenceOnAiNativeRunnerITCase {

  private static final int IMAGES = 300;
  private static final long SEED = 42;
  private static final int BAD_FROM = 1000;

  @Test
  public void shapesClassifier_labelsGeneratedImages_andIsolatesMalformedOnes() {
    Path model = ShapesClassifier.trainedModel(Path.of("target/test-models"), 32, 1);
    List<KV<Integer, float[]>> inputs = new ArrayList<>();
    ShapeImages images = new ShapeImages(32, 1, SEED);
    for (int id = 0; id < IMAGES; id++) {
      inputs.add(KV.of(id, images.next().pixels()));
    }
    for (int i = 0; i < 3; i++) {
      inputs.add(KV.of(BAD_FROM + i, new float[7]));
    }

    AiNativeFlinkPipelineOptions options = PipelineOptionsFactory.create().as(AiNativeFlinkPipelineOptions.class);
    options.setRunner(TestAiNativeFlinkRunner.class);
    options.setFlinkMaster("[local]");
    options.setParallelism(2);
    TestPipeline p = TestPipeline.fromOptions(options).enableAbandonedNodeEnforcement(false);
    PCollection<KV<Integer, float[]>> input =
        p.apply(Create.of(inputs).withCoder(KvCoder.of(VarIntCoder.of(), FloatArrayCoder.of())));
    WithFailures.Result<PCollection<KV<Integer, InferenceResult<float[], Integer>>>, InferenceFailure<KV<Integer, float[]>>> result =
        input.apply(
            RunInference.<Integer, float[], Integer>keyed(ShapesClassifier.spec(model, 32, 1))
                .withOutputCoder(VarIntCoder.of())
                .withBatchSize(1, 32)
                .withFailures());

    PAssert.that(result.output()).satisfies(results -> {
      // The labels, regenerated from the same seed.
      ShapeImages again = new ShapeImages(32, 1, SEED);
      int[] labels = new int[IMAGES];
      for (int id = 0; id < IMAGES; id++) {
        labels[id] = again.next().label();
      }
      int n = 0;
      int correct = 0;
      for (KV<Integer, InferenceResult<float[], Integer>> r : results) {
        n++;
        if (r.getValue().getOutput() == labels[r.getKey()]) {
          correct++;
        }
      }
      assertThat("every well-formed image has a result", n, equalTo(IMAGES));
      assertThat("accuracy " + correct + "/" + n, correct * 100, greaterThanOrEqualTo(95 * IMAGES));
      return null;
    });
    PAssert.that(result.failures()).satisfies(failures -> {
      Set<Integer> ids = new TreeSet<>();
      for (InferenceFailure<KV<Integer, float[]>> f : failures) {
        assertThat(f.getStep(), equalTo(InferenceStep.PRE_PROCESS));
        ids.add(f.getElement().getKey());
      }
      assertThat(ids, equalTo(Set.of(BAD_FROM, BAD_FROM + 1, BAD_FROM + 2)));
      return null;
    });

    PipelineResult run = p.run();
    long inferences = 0;
    for (MetricResult<Long> c :
        run.metrics()
            .queryMetrics(
                MetricsFilter.builder()
                    .addNameFilter(MetricNameFilter.named(InferenceMetrics.DEFAULT_NAMESPACE, "num_inferences"))
                    .build())
            .getCounters()) {
      inferences += c.getAttempted();
    }
    assertThat(inferences, equalTo((long) IMAGES));
  }
}
