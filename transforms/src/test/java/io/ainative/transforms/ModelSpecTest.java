package io.ainative.transforms;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;

import ai.djl.ndarray.NDList;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.beam.sdk.util.SerializableUtils;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class ModelSpecTest {
  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  private ModelSpec.Builder<Float, Float> doubler() {
    return TinyModels.doublerSpec(TinyModels.saveDoubler(tmp.getRoot().toPath()));
  }

  @Test
  public void missingModelUri_isRejected_namingTheSetter() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                ModelSpec.<Float, Float>builder()
                    .setProcessing((m, x) -> new NDList(), o -> 0f)
                    .build());
    assertThat(e.getMessage(), containsString("setModelUri is required"));
  }

  @Test
  public void modelPathThatDoesNotExist_isRejected_namingThePath() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> doubler().setModelUri("/no/such/model").build());
    assertThat(e.getMessage(), containsString("'/no/such/model' does not exist"));
  }

  @Test
  public void unknownEngine_isRejected_listingTheSupportedOnes() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> doubler().optEngine("Caffe").build());
    assertThat(e.getMessage(), containsString("unknown engine 'Caffe'"));
    assertThat(e.getMessage(), containsString("PyTorch"));
  }

  @Test
  public void engineName_isCaseInsensitive_andCanonicalized() {
    assertEquals("PyTorch", doubler().optEngine("pytorch").build().engine());
  }

  @Test
  public void impossibleDevices_areRejected_namingTheDevice() {
    for (String device : new String[] {"tpu", "gpu:-1", "gpu:x", "gpu:", ""}) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> doubler().optDevice(device));
      assertThat(e.getMessage(), containsString("'" + device + "' cannot exist"));
    }
  }

  @Test
  public void devices_parseToTheirCanonicalForm() {
    assertEquals("cpu", DeviceSpec.parse("CPU").toString());
    assertEquals("gpu:0", DeviceSpec.parse("gpu").toString());
    assertEquals("gpu:3", DeviceSpec.parse("gpu:3").toString());
    assertEquals("auto", DeviceSpec.parse("auto").toString());
    assertEquals(DeviceSpec.gpu(3), DeviceSpec.parse(DeviceSpec.gpu(3).toString()));
  }

  @Test
  public void parametersOnlyDirectory_withoutBlock_isRejected_askingForTheArchitecture() {
    Path dir = TinyModels.saveDoubler(tmp.getRoot().toPath());
    ModelSpec.Builder<Float, Float> b =
        ModelSpec.<Float, Float>builder()
            .setModelUri(dir.toString())
            .setProcessing((m, x) -> new NDList(), o -> 0f);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, b::build);
    assertThat(e.getMessage(), containsString("give the architecture with optBlock"));
  }

  @Test
  public void directoryWithoutModelFiles_isRejected() throws Exception {
    Path empty = Files.createDirectory(tmp.getRoot().toPath().resolve("empty"));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                ModelSpec.<Float, Float>builder()
                    .setModelUri(empty.toString())
                    .setProcessing((m, x) -> new NDList(), o -> 0f)
                    .build());
    assertThat(e.getMessage(), containsString("holds no TorchScript file"));
  }

  @Test
  public void processing_isRequired_andFunctionsAndTranslatorExcludeEachOther() {
    Path dir = TinyModels.saveDoubler(tmp.getRoot().toPath());
    IllegalArgumentException none =
        assertThrows(
            IllegalArgumentException.class,
            () -> ModelSpec.<Float, Float>builder().setModelUri(dir.toString()).build());
    assertThat(none.getMessage(), containsString("processing is required"));
    IllegalArgumentException both =
        assertThrows(
            IllegalArgumentException.class,
            () -> doubler().setTranslator(() -> null).build());
    assertThat(both.getMessage(), containsString("not both"));
  }

  @Test
  public void unregisteredScheme_isRejected_unlessValidationIsOff() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> doubler().setModelUri("gs://bucket/model").build());
    assertThat(e.getMessage(), containsString("no Beam FileSystem on the classpath serves"));
    ModelSpec<Float, Float> spec =
        doubler().setModelUri("gs://bucket/model").optValidateModelPath(false).build();
    assertEquals("gs://bucket/model", spec.modelUri());
  }

  @Test
  public void spec_survivesJavaSerialization_withItsIdentity() {
    ModelSpec<Float, Float> spec = doubler().optDevice("auto").build();
    ModelSpec<?, ?> copy = SerializableUtils.clone(spec);
    assertEquals(spec.id(), copy.id());
    assertEquals(spec.modelUri(), copy.modelUri());
    assertEquals(DeviceSpec.auto(), copy.device());
  }
}
