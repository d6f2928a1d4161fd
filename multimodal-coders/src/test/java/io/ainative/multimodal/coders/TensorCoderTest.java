package io.ainative.multimodal.coders;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.Assert.assertThrows;

import io.ainative.multimodal.testing.CoderContract;
import io.ainative.multimodal.types.DType;
import io.ainative.multimodal.types.Tensor;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.util.CoderUtils;
import org.junit.Test;

public class TensorCoderTest extends CoderContract<Tensor> {
  @Override
  protected Coder<Tensor> coder() {
    return TensorCoder.of();
  }

  @Override
  protected List<Tensor> samples() {
    return List.of(
        Tensor.ofInts(new long[] {2, 2}, 1, -2, 3, Integer.MIN_VALUE),
        Tensor.ofFloats(new long[] {3}, 1.5f, Float.NaN, -0.0f),
        Tensor.ofDoubles(new long[] {}, Math.PI),
        Tensor.ofLongs(new long[] {0, 5}),
        Tensor.ofBooleans(new long[] {2}, true, false),
        Tensor.of(DType.FLOAT16, new long[] {2}, new byte[] {0, 0x3C, 0, (byte) 0xC0}),
        Tensor.of(DType.INT8, new long[] {1}, new byte[] {-1}),
        Tensor.of(DType.INT16, new long[] {1}, new byte[] {1, 2}),
        Tensor.of(DType.UINT8, new long[] {4, 4, 3}, new byte[48]),
        Tensor.ofFloats(new long[] {4, 3}, new float[12]).slice(2));
  }

  @Override
  protected Tensor goldenValue() {
    return Tensor.ofInts(new long[] {2, 3}, 1, 2, 3, -1, 256, 0x7fffffff);
  }

  @Override
  protected String goldenHex() {
    return "010502020318010000000200000003000000ffffffff00010000ffffff7f";
  }

  @Test
  public void decode_rejectsTensorWhoseBufferDoesNotMatchShape() {
    // version 1, int32, rank 2, shape [2, 3], but 20 data bytes declared instead of 24
    byte[] bytes = HexFormat.of().parseHex("010502020314" + "00".repeat(20));
    CoderException e = assertThrows(CoderException.class, () -> decode(bytes));
    assertThat(e.getMessage(), containsString("tensor.data has 20 bytes but shape [2, 3] of int32 needs 24"));
  }

  @Test
  public void decode_rejectsUnknownDtype_namingTheField() {
    byte[] bytes = HexFormat.of().parseHex("01630100");
    CoderException e = assertThrows(CoderException.class, () -> decode(bytes));
    assertThat(e.getMessage(), containsString("tensor.dtype: unknown tensor dtype code 99"));
  }

  @Test
  public void decode_rejectsNegativeDimension_namingIt() throws Exception {
    // shape[1] = -1 as a 10-byte varint
    byte[] bytes = HexFormat.of().parseHex("01050202" + "ffffffffffffffffff01" + "00");
    CoderException e = assertThrows(CoderException.class, () -> decode(bytes));
    assertThat(e.getMessage(), containsString("shape[1] = -1 is negative"));
  }

  @Test
  public void decode_rejectsOverflowingShape_beforeAllocating() {
    // float64 [2^31, 2^31]: 2^65 bytes
    byte[] bytes = HexFormat.of().parseHex("01090280808080088080808008" + "00");
    CoderException e = assertThrows(CoderException.class, () -> decode(bytes));
    assertThat(e.getMessage(), containsString("overflows"));
  }

  @Test
  public void decode_rejectsRankAboveMaximum() {
    byte[] bytes = HexFormat.of().parseHex("010821");
    CoderException e = assertThrows(CoderException.class, () -> decode(bytes));
    assertThat(e.getMessage(), containsString("tensor.rank = 33"));
  }

  @Test
  public void encode_ofDirectBufferView_matchesHeapEncoding() throws Exception {
    Tensor heap = Tensor.ofFloats(new long[] {2, 2}, 1f, 2f, 3f, 4f);
    ByteBuffer direct = ByteBuffer.allocateDirect(16);
    direct.put(heap.data()).flip();
    Tensor view = Tensor.wrap(DType.FLOAT32, new long[] {2, 2}, direct);
    assertThat(
        HexFormat.of().formatHex(CoderUtils.encodeToByteArray(coder(), view)),
        org.hamcrest.Matchers.equalTo(
            HexFormat.of().formatHex(CoderUtils.encodeToByteArray(coder(), heap))));
  }

  private static Tensor decode(byte[] bytes) throws Exception {
    return TensorCoder.of().decode(new ByteArrayInputStream(bytes));
  }
}
