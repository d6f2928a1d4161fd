package io.ainative.transforms.xlang;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.Assert.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.ainative.transforms.InferenceOptions;
import io.ainative.transforms.ModelSpec;
import io.ainative.transforms.TinyModels;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.apache.beam.sdk.values.Row;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The cross-language configuration: every bad field is refused naming it, and the named processors
 * turn bytes into the tensors a model takes and its outputs into rows (with the real DJL engine,
 * without a pipeline).
 */
public class RunInferenceExternalTest {

  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();

  private static Path model;
  private static NDManager manager;

  @BeforeClass
  public static void setUp() {
    model = TinyModels.saveDoubler(TMP.getRoot().toPath());
    manager = NDManager.newBaseManager("PyTorch");
  }

  @AfterClass
  public static void tearDown() {
    if (manager != null) {
      manager.close();
    }
  }

  private static RunInferenceExternal.Configuration tensorConfig() {
    RunInferenceExternal.Configuration c = new RunInferenceExternal.Configuration();
    c.setModelUri(model.toString());
    c.setModelName(TinyModels.NAME);
    c.setArchitecture(DoublerArchitecture.NAME);
    c.setProcessor("float32_tensor");
    c.setTensorShape(List.of(2L, 3L));
    return c;
  }

  private static RunInferenceExternal.Configuration imageConfig() {
    RunInferenceExternal.Configuration c = tensorConfig();
    c.setProcessor("image_classifier");
    c.setTensorShape(null);
    return c;
  }

  private static String expansionError(RunInferenceExternal.Configuration c) {
    return assertThrows(IllegalArgumentException.class, () -> new RunInferenceExternal.Builder().buildExternal(c))
        .getMessage();
  }

  @Test
  public void validConfiguration_buildsTheTransform_withItsOptions() {
    RunInferenceExternal.Configuration c = tensorConfig();
    c.setMinBatchSize(2L);
    c.setMaxBatchSize(16L);
    c.setInstances(3L);
    c.setTimeoutMs(5000L);
    c.setOrdered(true);
    new RunInferenceExternal.Builder().buildExternal(c);
    InferenceOptions options = c.options();
    assertThat(options.minBatchSize(), equalTo(2));
    assertThat(options.maxBatchSize(), equalTo(16));
    assertThat(options.instances(), equalTo(3));
    assertThat(options.requestTimeout().getMillis(), equalTo(5000L));
    assertThat(options.ordering(), equalTo(InferenceOptions.Ordering.ORDERED));
  }

  @Test
  public void badFields_areRefusedAtExpansion_namingTheField() {
    RunInferenceExternal.Configuration c = tensorConfig();
    c.setProcessor("sentiment");
    assertThat(expansionError(c), containsString("processor: unknown processor 'sentiment'; known: [image_classifier, float32_tensor]"));

    c = tensorConfig();
    c.setModelUri(null);
    assertThat(expansionError(c), containsString("model_uri: required"));

    c = tensorConfig();
    c.setModelUri(model.resolve("no-such-model").toString());
    assertThat(expansionError(c), containsString("model_uri: ModelSpec: model path"));

    c = tensorConfig();
    c.setInstances(0L);
    assertThat(expansionError(c), containsString("instances: must be in [1, 1024], was 0"));

    c = tensorConfig();
    c.setMinBatchSize(8L);
    c.setMaxBatchSize(4L);
    assertThat(expansionError(c), containsString("min_batch_size: must be <= max_batch_size, was 8 > 4"));

    c = tensorConfig();
    c.setTimeoutMs(-1L);
    assertThat(expansionError(c), containsString("timeout_ms: must be in"));

    c = tensorConfig();
    c.setTensorShape(List.of(2L, 0L));
    assertThat(expansionError(c), containsString("tensor_shape: dimension 1 must be >= 1, was 0"));

    c = tensorConfig();
    c.setTensorShape(null);
    assertThat(expansionError(c), containsString("tensor_shape: required for processor 'float32_tensor'"));

    c = imageConfig();
    c.setImageHeight(32L);
    assertThat(expansionError(c), containsString("image_height and image_width: give both"));

    c = imageConfig();
    c.setImageChannels(2L);
    assertThat(expansionError(c), containsString("image_channels: must be 1 (grey) or 3 (RGB), was 2"));

    c = tensorConfig();
    c.setArchitecture("resnet-999");
    assertThat(expansionError(c), containsString("architecture: no model architecture named 'resnet-999'"));

    c = tensorConfig();
    c.setArchitecture(null);
    assertThat(expansionError(c), containsString("architecture: ModelSpec: model directory"));
  }

  @Test
  public void float32Tensor_readsLittleEndianBytes_andGivesShapeAndValues() throws Exception {
    ModelSpec<byte[], Row> spec = tensorConfig().modelSpec(NamedProcessor.of(tensorConfig()));
    ByteBuffer bytes = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 6; i++) {
      bytes.putFloat(i * 1.5f);
    }
    try (NDManager m = manager.newSubManager()) {
      NDArray tensor = spec.preProcess().apply(m, bytes.array()).singletonOrThrow();
      assertThat(tensor.getShape(), equalTo(new Shape(2, 3)));
      assertThat(tensor.getFloat(1, 2), equalTo(7.5f));
      Row row = spec.postProcess().apply(new NDList(tensor.mul(2)));
      assertThat(row.getArray("shape"), equalTo(List.of(2L, 3L)));
      assertThat(row.getArray("values"), equalTo(List.of(0f, 3f, 6f, 9f, 12f, 15f)));
      Exception wrong = assertThrows(IllegalArgumentException.class, () -> spec.preProcess().apply(m, new byte[20]));
      assertThat(wrong.getMessage(), containsString("input has 20 bytes; tensor_shape [2, 3] of float32 needs 24"));
    }
    assertThat(spec.warmupInput().get().length, equalTo(24));
  }

  @Test
  public void imageClassifier_decodesPngAndJpeg_resizes_andScoresWithSoftmax() throws Exception {
    RunInferenceExternal.Configuration c = imageConfig();
    c.setImageChannels(1L);
    ModelSpec<byte[], Row> grey = c.modelSpec(NamedProcessor.of(c));
    BufferedImage image = new BufferedImage(4, 3, BufferedImage.TYPE_BYTE_GRAY);
    image.getRaster().setSample(2, 1, 0, 51);
    try (NDManager m = manager.newSubManager()) {
      NDArray png = grey.preProcess().apply(m, encode(image, "png")).singletonOrThrow();
      assertThat(png.getShape(), equalTo(new Shape(1, 3, 4)));
      assertThat((double) png.getFloat(0, 1, 2), closeTo(0.2, 1e-6));
      assertThat((double) png.sum().getFloat(), closeTo(0.2, 1e-6));
      NDArray jpeg = grey.preProcess().apply(m, encode(image, "jpeg")).singletonOrThrow();
      assertThat(jpeg.getShape(), equalTo(new Shape(1, 3, 4)));

      c.setImageHeight(6L);
      c.setImageWidth(8L);
      c.setImageChannels(3L);
      ModelSpec<byte[], Row> rgb = c.modelSpec(NamedProcessor.of(c));
      NDArray resized = rgb.preProcess().apply(m, encode(image, "png")).singletonOrThrow();
      assertThat(resized.getShape(), equalTo(new Shape(3, 6, 8)));
      assertThat(rgb.warmupInput(), org.hamcrest.Matchers.notNullValue());
      assertThat(rgb.preProcess().apply(m, rgb.warmupInput().get()).singletonOrThrow().getShape(), equalTo(new Shape(3, 6, 8)));

      Exception notImage = assertThrows(IllegalArgumentException.class, () -> grey.preProcess().apply(m, new byte[] {1, 2, 3}));
      assertThat(notImage.getMessage(), containsString("input is not an image"));

      Row row = grey.postProcess().apply(new NDList(m.create(new float[] {1f, 3f, 2f})));
      assertThat(row.getInt64("label"), equalTo(1L));
      List<Float> p = List.copyOf(row.<Float>getArray("probabilities"));
      double e1 = Math.exp(1);
      double e2 = Math.exp(2);
      double e3 = Math.exp(3);
      assertThat((double) p.get(1), closeTo(e3 / (e1 + e2 + e3), 1e-6));
      assertThat((double) row.getFloat("score"), closeTo(e3 / (e1 + e2 + e3), 1e-6));
      assertThat((double) (p.get(0) + p.get(1) + p.get(2)), closeTo(1.0, 1e-6));
    }
  }

  private static byte[] encode(BufferedImage image, String format) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    if (!ImageIO.write(image, format, out)) {
      throw new AssertionError("no ImageIO writer for " + format);
    }
    return out.toByteArray();
  }
}
