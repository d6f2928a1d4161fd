package io.ainative.transforms.images;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.ainative.multimodal.types.DType;
import io.ainative.multimodal.types.Embedding;
import io.ainative.multimodal.types.Tensor;
import java.util.Arrays;
import org.apache.beam.sdk.util.SerializableUtils;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/** {@link TensorProcessing} against the real PyTorch engine. */
public class TensorProcessingTest {
  private NDManager manager;

  @Before
  public void setUp() {
    manager = NDManager.newBaseManager("PyTorch");
  }

  @After
  public void tearDown() {
    manager.close();
  }

  @Test
  public void preProcess_keepsDtypeShapeAndValues() throws Exception {
    Tensor floats = Tensor.ofFloats(new long[] {2, 3}, 1, 2, 3, 4, 5, 6);
    Tensor bytes = Tensor.of(DType.UINT8, new long[] {3}, new byte[] {0, 7, (byte) 255});
    Tensor longs = Tensor.ofLongs(new long[] {2}, -1L, 1L << 40);

    NDArray f = TensorProcessing.preProcess().apply(manager, floats).singletonOrThrow();
    NDArray b = TensorProcessing.preProcess().apply(manager, bytes).singletonOrThrow();
    NDArray l = TensorProcessing.preProcess().apply(manager, longs).singletonOrThrow();

    assertEquals(new Shape(2, 3), f.getShape());
    assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, f.toFloatArray(), 0f);
    assertEquals(DataType.UINT8, b.getDataType());
    assertArrayEquals(new int[] {0, 7, 255}, b.toUint8Array());
    assertArrayEquals(new long[] {-1L, 1L << 40}, l.toLongArray());
  }

  @Test
  public void preProcessAsFloat32_convertsOtherDtypes() throws Exception {
    Tensor ints = Tensor.ofInts(new long[] {3}, -2, 0, 9);

    NDArray a = TensorProcessing.preProcessAsFloat32().apply(manager, ints).singletonOrThrow();

    assertEquals(DataType.FLOAT32, a.getDataType());
    assertArrayEquals(new float[] {-2, 0, 9}, a.toFloatArray(), 0f);
  }

  @Test
  public void toTensor_copiesTheOutput_withItsDtypeAndShape() throws Exception {
    NDList output =
        new NDList(
            manager.create(new float[] {1.5f, -2f, 3f, 4f}, new Shape(2, 2)),
            manager.create(new long[] {5L, 6L}));

    Tensor first = TensorProcessing.toTensor().apply(output);
    Tensor second = TensorProcessing.toTensor(1).apply(output);

    assertEquals(Tensor.ofFloats(new long[] {2, 2}, 1.5f, -2f, 3f, 4f), first);
    assertEquals(Tensor.ofLongs(new long[] {2}, 5L, 6L), second);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> TensorProcessing.toTensor(2).apply(output));
    assertThat(e.getMessage(), containsString("2 outputs"));
  }

  @Test
  public void tensor_roundTripsThroughTheEngine_forEveryDtype() throws Exception {
    for (Tensor t :
        Arrays.asList(
            Tensor.ofBooleans(new long[] {2}, true, false),
            Tensor.of(DType.INT8, new long[] {2}, new byte[] {-3, 4}),
            Tensor.of(DType.FLOAT16, new long[] {1}, new byte[] {0, 0x3C}),
            Tensor.ofInts(new long[] {1, 1}, 42),
            Tensor.ofDoubles(new long[] {2}, 0.1, -0.2))) {
      NDList list = TensorProcessing.preProcess().apply(manager, t);
      assertEquals(t.toString(), t, TensorProcessing.toTensor().apply(list));
    }
  }

  @Test
  public void int16_isWidenedToInt32_becausePyTorchInDjlCannotHoldIt() throws Exception {
    Tensor shorts = Tensor.of(DType.INT16, new long[] {2}, new byte[] {1, 2, (byte) 0xFF, (byte) 0xFF});

    NDArray a = TensorProcessing.preProcess().apply(manager, shorts).singletonOrThrow();

    assertEquals(DataType.INT32, a.getDataType());
    assertArrayEquals(new int[] {513, -1}, a.toIntArray());
  }

  @Test
  public void toEmbedding_flattensTheFirstOutputToFloat32() throws Exception {
    NDList output = new NDList(manager.create(new double[] {0.5, 1.5, -1}, new Shape(1, 3)));

    Embedding e = TensorProcessing.toEmbedding("encoder-v1").apply(output);

    assertEquals(Embedding.of(new float[] {0.5f, 1.5f, -1f}, "encoder-v1"), e);
  }

  @Test
  public void batchArgMax_givesEachRowsLargestScore_andRefusesAnOutputWithoutABatchDimension() throws Exception {
    NDList output = new NDList(manager.create(new float[] {0.1f, 0.7f, 0.2f, 0.9f, 0.05f, 0.05f, 0f, 0f, 1f}, new Shape(3, 3)));
    assertEquals(Arrays.asList(1, 0, 2), SerializableUtils.clone(TensorProcessing.batchArgMax()).apply(output));

    NDList flat = new NDList(manager.create(new float[] {0.1f, 0.7f}, new Shape(2)));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TensorProcessing.batchArgMax().apply(flat));
    assertThat(e.getMessage(), containsString("[batch, classes]"));
  }

  @Test
  public void argMax_andArgMaxLabel_pickTheLargestScore() throws Exception {
    NDList output = new NDList(manager.create(new float[] {0.1f, 2f, -1f}));

    assertEquals(Integer.valueOf(1), TensorProcessing.argMax().apply(output));
    assertEquals(
        "dog",
        SerializableUtils.clone(TensorProcessing.argMaxLabel(Arrays.asList("cat", "dog", "eel")))
            .apply(output));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> TensorProcessing.argMaxLabel(Arrays.asList("cat")).apply(output));
    assertThat(e.getMessage(), containsString("class 1, but there are only 1 labels"));
  }
}
