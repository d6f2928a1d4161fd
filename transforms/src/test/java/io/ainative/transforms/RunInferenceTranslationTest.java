package io.ainative.transforms;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.empty;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.stream.Collectors;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.FloatCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.CrashingRunner;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.util.construction.PipelineTranslation;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.vendor.grpc.v1p60p1.com.google.protobuf.ByteString;
import org.joda.time.Duration;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** RunInference in the portable pipeline: its URN, its payload, and its inline expansion. */
public class RunInferenceTranslationTest {
  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  private ModelSpec<Float, Float> spec() {
    return TinyModels.doublerSpec(TinyModels.saveDoubler(tmp.getRoot().toPath()))
        .optDevice("auto")
        .build();
  }

  /** Constructs but never runs: no Beam runner in this module (see README). */
  private static Pipeline newPipeline() {
    PipelineOptions options = PipelineOptionsFactory.create();
    options.setRunner(CrashingRunner.class);
    return Pipeline.create(options);
  }

  private static List<RunnerApi.PTransform> withUrn(RunnerApi.Pipeline proto) {
    return proto.getComponents().getTransformsMap().values().stream()
        .filter(t -> RunInferencePayload.URN.equals(t.getSpec().getUrn()))
        .collect(Collectors.toList());
  }

  @Test
  public void toProto_emitsTheUrn_withTheInlineExpansionAsSubtransforms() {
    Pipeline p = newPipeline();
    p.apply(Create.of(1f, 2f))
        .apply(
            "Infer",
            RunInference.of(spec())
                .withOutputCoder(FloatCoder.of())
                .withBatchSize(2, 64)
                .withMaxBatchingDelay(Duration.millis(7))
                .withInstances(3)
                .withModelCopies(2)
                .withOrdering(InferenceOptions.Ordering.ORDERED));
    RunnerApi.Pipeline proto = PipelineTranslation.toProto(p);

    List<RunnerApi.PTransform> found = withUrn(proto);
    assertEquals(1, found.size());
    RunnerApi.PTransform transform = found.get(0);
    assertThat(transform.getSubtransformsList(), not(empty()));
    RunnerApi.PTransform inner =
        proto.getComponents().getTransformsOrThrow(transform.getSubtransforms(0));
    assertEquals("beam:transform:pardo:v1", inner.getSpec().getUrn());

    RunInferencePayload payload = RunInferencePayload.fromFunctionSpec(transform.getSpec());
    assertEquals(2, payload.getOptions().minBatchSize());
    assertEquals(64, payload.getOptions().maxBatchSize());
    assertEquals(Duration.millis(7), payload.getOptions().maxBatchingDelay());
    assertEquals(3, payload.getOptions().instances());
    assertEquals(2, payload.getOptions().modelCopies());
    assertEquals(InferenceOptions.Ordering.ORDERED, payload.getOptions().ordering());
    assertEquals(DeviceSpec.auto(), payload.getDevice());
    assertEquals("PyTorch", payload.getEngine());
    assertEquals(TinyModels.NAME, payload.getModelName());
    assertFalse(payload.isKeyed());
    assertFalse(payload.hasFailureOutput());
    assertEquals(spec().modelUri().replaceAll("doubler[0-9]+$", ""),
        payload.getModelUri().replaceAll("doubler[0-9]+$", ""));
    assertEquals(TinyModels.NAME, payload.getJavaModelSpec().modelName());
  }

  @Test
  public void keyedVariantWithFailures_isDescribedAsSuch() {
    Pipeline p = newPipeline();
    PCollection<KV<String, Float>> input =
        p.apply(
            Create.of(KV.of("a", 1f)).withCoder(KvCoder.of(StringUtf8Coder.of(), FloatCoder.of())));
    input.apply(
        RunInference.<String, Float, Float>keyed(spec())
            .withOutputCoder(FloatCoder.of())
            .withFailures());
    RunInferencePayload payload =
        RunInferencePayload.fromFunctionSpec(
            withUrn(PipelineTranslation.toProto(p)).get(0).getSpec());
    assertTrue(payload.isKeyed());
    assertTrue(payload.hasFailureOutput());
  }

  @Test
  public void payload_roundTripsThroughItsRow() {
    RunInferencePayload written =
        RunInferencePayload.of(
            spec(), InferenceOptions.defaults().withBatchSize(3, 9), "ns", true, false, "shared");
    RunInferencePayload read = RunInferencePayload.fromFunctionSpec(written.toFunctionSpec());
    assertEquals(written, read);
  }

  @Test
  public void sharedService_isCarriedInThePayload_andAbsentByDefault() {
    Pipeline p = newPipeline();
    PCollection<KV<String, Float>> input =
        p.apply(
            Create.of(KV.of("a", 1f)).withCoder(KvCoder.of(StringUtf8Coder.of(), FloatCoder.of())));
    input.apply("Shared",
        RunInference.<String, Float, Float>keyed(spec()).withOutputCoder(FloatCoder.of()).withSharedService("doubler"));
    input.apply("Own", RunInference.<String, Float, Float>keyed(spec()).withOutputCoder(FloatCoder.of()));
    RunnerApi.Pipeline proto = PipelineTranslation.toProto(p);
    java.util.Map<String, String> shared = new java.util.HashMap<>();
    for (RunnerApi.PTransform t : withUrn(proto)) {
      shared.put(t.getUniqueName(), RunInferencePayload.fromFunctionSpec(t.getSpec()).getSharedService());
    }
    assertEquals("doubler", shared.get("Shared"));
    assertTrue(shared.containsKey("Own"));
    assertEquals(null, shared.get("Own"));
  }

  @Test
  public void payloadWrittenBeforeSharedServices_readsAsAServiceOfItsOwn() {
    RunInferencePayload written =
        RunInferencePayload.of(spec(), InferenceOptions.defaults(), "ns", false, false, null);
    org.apache.beam.sdk.schemas.Schema.Builder older = org.apache.beam.sdk.schemas.Schema.builder();
    for (org.apache.beam.sdk.schemas.Schema.Field f : RunInferencePayload.SCHEMA.getFields()) {
      if (!f.getName().equals("shared_service")) {
        older.addField(f);
      }
    }
    org.apache.beam.sdk.schemas.Schema olderSchema = older.build();
    List<Object> values = new java.util.ArrayList<>();
    for (org.apache.beam.sdk.schemas.Schema.Field f : olderSchema.getFields()) {
      values.add(written.toRow().getValue(f.getName()));
    }
    RunInferencePayload read =
        RunInferencePayload.fromRow(org.apache.beam.sdk.values.Row.withSchema(olderSchema).addValues(values).build());
    assertEquals(null, read.getSharedService());
    assertEquals(written, read);
  }

  @Test
  public void blankSharedServiceName_failsAtTheCallThatSetsIt() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> RunInference.of(spec()).withSharedService(" "));
    assertThat(e.getMessage(), containsString("shared service"));
  }

  @Test
  public void payloadOfAnotherVersion_isRejected_namingTheUrnAndVersion() {
    RunInferencePayload written =
        RunInferencePayload.of(spec(), InferenceOptions.defaults(), "ns", false, false, null);
    org.apache.beam.sdk.values.Row row =
        org.apache.beam.sdk.values.Row.fromRow(written.toRow())
            .withFieldValue("payload_version", 2)
            .build();
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> RunInferencePayload.fromRow(row));
    assertThat(e.getMessage(), containsString(RunInferencePayload.URN));
    assertThat(e.getMessage(), containsString("payload_version 2"));
  }

  @Test
  public void garbagePayload_isRejected_namingTheUrn() {
    RunnerApi.FunctionSpec garbage =
        RunnerApi.FunctionSpec.newBuilder()
            .setUrn(RunInferencePayload.URN)
            .setPayload(ByteString.copyFromUtf8("not a proto"))
            .build();
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> RunInferencePayload.fromFunctionSpec(garbage));
    assertThat(e.getMessage(), containsString(RunInferencePayload.URN));
  }

  @Test
  public void missingOutputCoder_failsAtConstruction_namingTheMethod() {
    Pipeline p = newPipeline();
    PCollection<Float> input = p.apply(Create.of(1f));
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> input.apply(RunInference.of(spec())));
    assertThat(e.getMessage(), containsString("withOutputCoder"));
  }

  @Test
  public void minBatchAboveMax_failsAtTheCallThatSetsIt() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> RunInference.of(spec()).withBatchSize(10, 5));
    assertThat(e.getMessage(), containsString("minBatchSize (10) must be <= maxBatchSize (5)"));
  }
}
