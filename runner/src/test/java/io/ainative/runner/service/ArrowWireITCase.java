package io.ainative.runner.service;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import io.ainative.harness.testing.IdentityModel;
import io.ainative.multimodal.coders.EmbeddingCoder;
import io.ainative.multimodal.schemas.TensorType;
import io.ainative.multimodal.types.DType;
import io.ainative.multimodal.types.Embedding;
import io.ainative.multimodal.types.Tensor;
import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import io.ainative.runner.options.WireEncoding;
import io.ainative.runner.service.client.RequestCodec;
import io.ainative.transforms.InferenceFailure;
import io.ainative.transforms.InferenceMetrics;
import io.ainative.transforms.InferenceResult;
import io.ainative.transforms.ModelSpec;
import io.ainative.transforms.RetryPolicy;
import io.ainative.transforms.RunInference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * RunInference with {@code --inferenceWireEncoding}: schema'd rows with a fixed-shape tensor field
 * in, embeddings out, through an identity model on the embedded cluster. The same pipeline runs in
 * both encodings with the same results, and the request counters show which encoding travelled.
 */
public class ArrowWireITCase {
  private static final int WIDTH = 6;
  private static final int N = 60;
  private static final int BAD = 13;
  private static final Schema SCHEMA =
      Schema.builder()
          .addInt64Field("id")
          .addLogicalTypeField("vector", TensorType.fixed(DType.FLOAT32, WIDTH))
          .build();

  private static Path identity;

  @BeforeClass
  public static void saveModel() {
    identity = IdentityModel.saved(Path.of("target/test-models"));
  }

  /** Rows in, embeddings out, a whole batch at a time; a batch with a NaN fails (and is split). */
  private static ModelSpec<Row, Embedding> rowsToEmbeddings() {
    return ModelSpec.<Row, Embedding>builder()
        .setModelUri(identity.toString())
        .optModelName(IdentityModel.MODEL_NAME)
        .optBlock(IdentityModel::newBlock)
        .setBatchProcessing(
            (manager, rows) -> {
              float[] batch = new float[rows.size() * WIDTH];
              for (int i = 0; i < rows.size(); i++) {
                Tensor t = rows.get(i).getLogicalTypeValue("vector", Tensor.class);
                t.asFloatBuffer().get(batch, i * WIDTH, WIDTH);
                for (int j = 0; j < WIDTH; j++) {
                  if (Float.isNaN(batch[i * WIDTH + j])) {
                    throw new IllegalArgumentException("row " + rows.get(i).getInt64("id") + " holds a NaN");
                  }
                }
              }
              return new NDList(manager.create(batch, new Shape(rows.size(), WIDTH)));
            },
            output -> {
              NDArray all = output.singletonOrThrow();
              float[] values = all.toFloatArray();
              List<Embedding> result = new ArrayList<>();
              for (int i = 0; i < values.length / WIDTH; i++) {
                result.add(Embedding.of(Arrays.copyOfRange(values, i * WIDTH, (i + 1) * WIDTH)));
              }
              return result;
            })
        .build();
  }

  private static Row row(long id) {
    float[] v = new float[WIDTH];
    Arrays.fill(v, id == BAD ? Float.NaN : id);
    return Row.withSchema(SCHEMA).addValues(id, Tensor.ofFloats(new long[] {WIDTH}, v)).build();
  }

  private static PipelineResult run(WireEncoding encoding) {
    AiNativeFlinkPipelineOptions options = InferenceSemanticsITCase.embeddedOptions();
    options.setInferenceWireEncoding(encoding);
    TestPipeline p = TestPipeline.fromOptions(options).enableAbandonedNodeEnforcement(false);
    List<Row> rows = new ArrayList<>();
    for (long i = 0; i < N; i++) {
      rows.add(row(i));
    }
    WithFailures.Result<PCollection<InferenceResult<Row, Embedding>>, InferenceFailure<Row>> result =
        p.apply(Create.of(rows).withRowSchema(SCHEMA))
            .apply(
                RunInference.of(rowsToEmbeddings())
                    .withOutputCoder(EmbeddingCoder.of())
                    .withInstances(2)
                    .withBatchSize(1, 8)
                    .withRetryPolicy(RetryPolicy.noRetries())
                    .withFailures());
    List<String> expected = new ArrayList<>();
    for (long i = 0; i < N; i++) {
      if (i != BAD) {
        expected.add(i + ":" + (float) i + "x" + WIDTH);
      }
    }
    PAssert.that(
            result.output()
                .apply(
                    MapElements.into(TypeDescriptors.strings())
                        .via(r -> r.getInput().getInt64("id") + ":" + r.getOutput().get(WIDTH - 1) + "x" + r.getOutput().dimension())))
        .containsInAnyOrder(expected);
    PAssert.that(
            result.failures()
                .apply(MapElements.into(TypeDescriptors.strings()).via(f -> f.getElement().getInt64("id") + ": " + f.getErrorMessage())))
        .containsInAnyOrder(BAD + ": row " + BAD + " holds a NaN");
    PipelineResult done = p.run();
    done.waitUntilFinish();
    return done;
  }

  private static long requests(PipelineResult result, String counter) {
    return io.ainative.runner.testing.Counters.sum(result, InferenceMetrics.DEFAULT_NAMESPACE, counter);
  }

  @Test
  public void auto_rowsWithATensorField_travelAsArrow_andABadRowFailsAlone() {
    PipelineResult result = run(WireEncoding.AUTO);
    assertThat(requests(result, RequestCodec.ARROW_IPC_REQUESTS), greaterThan(0L));
    assertThat(requests(result, RequestCodec.BEAM_CODER_REQUESTS), equalTo(0L));
  }

  @Test
  public void auto_floatArrays_haveNoTypedColumns_andTravelCoderEncoded_whileArrowIpcForcesArrow() {
    for (WireEncoding encoding : new WireEncoding[] {WireEncoding.AUTO, WireEncoding.ARROW_IPC}) {
      AiNativeFlinkPipelineOptions options = InferenceSemanticsITCase.embeddedOptions();
      options.setInferenceWireEncoding(encoding);
      TestPipeline p = TestPipeline.fromOptions(options).enableAbandonedNodeEnforcement(false);
      List<float[]> inputs = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        inputs.add(InferenceSemanticsITCase.vector(i));
      }
      PCollection<InferenceResult<float[], float[]>> results =
          p.apply(Create.of(inputs).withCoder(io.ainative.harness.testing.FloatArrayCoder.of()))
              .apply(
                  RunInference.of(IdentityModel.spec(identity, 4))
                      .withOutputCoder(io.ainative.harness.testing.FloatArrayCoder.of())
                      .withBatchSize(1, 8));
      List<Float> expected = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        expected.add((float) i);
      }
      PAssert.that(results.apply(MapElements.into(TypeDescriptors.floats()).via(r -> r.getOutput()[3]))).containsInAnyOrder(expected);
      PipelineResult result = p.run();
      result.waitUntilFinish();
      boolean arrow = encoding == WireEncoding.ARROW_IPC;
      assertThat(encoding + ": Arrow requests", requests(result, RequestCodec.ARROW_IPC_REQUESTS) > 0, equalTo(arrow));
      assertThat(encoding + ": coder requests", requests(result, RequestCodec.BEAM_CODER_REQUESTS) > 0, equalTo(!arrow));
    }
  }

  @Test
  public void beamCoder_theSamePipeline_givesTheSameResults() {
    PipelineResult result = run(WireEncoding.BEAM_CODER);
    assertThat(requests(result, RequestCodec.BEAM_CODER_REQUESTS), greaterThan(0L));
    assertThat(requests(result, RequestCodec.ARROW_IPC_REQUESTS), equalTo(0L));
  }
}
