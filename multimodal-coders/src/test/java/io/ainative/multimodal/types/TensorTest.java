package io.ainative.multimodal.types;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.junit.Assert.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.Test;

public class TensorTest {
  @Test
  public void wrap_rejectsBufferWhoseSizeDoesNotMatchShapeTimesDtype() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Tensor.wrap(DType.FLOAT32, new long[] {2, 3}, ByteBuffer.allocate(20)));
    assertThat(e.getMessage(), equalTo("tensor data has 20 bytes but shape [2, 3] of float32 needs 24"));
  }

  @Test
  public void wrap_rejectsNegativeDimension_namingIt() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Tensor.wrap(DType.UINT8, new long[] {4, -2}, ByteBuffer.allocate(0)));
    assertThat(e.getMessage(), containsString("shape[1] = -2 is negative"));
  }

  @Test
  public void byteSizeOf_rejectsOverflow_insteadOfWrappingAround() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Tensor.byteSizeOf(DType.INT64, new long[] {1L << 32, 1L << 32}));
    assertThat(e.getMessage(), containsString("overflows"));
  }

  @Test
  public void wrap_isAViewWithoutCopy_andReshapeAndSliceShareMemory() {
    ByteBuffer buf = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
    Tensor t = Tensor.wrap(DType.INT32, new long[] {2, 3}, buf);
    buf.putInt(4 * 4, 42); // element [1, 1]
    assertThat(t.getAsDouble(4), equalTo(42.0));
    assertThat(t.reshape(3, 2).getAsDouble(4), equalTo(42.0));
    Tensor row = t.slice(1);
    assertThat(row.shape(), equalTo(new long[] {3}));
    assertThat(row.asIntBuffer().get(1), equalTo(42));
    assertThat(t.data().isReadOnly(), equalTo(true));
  }

  @Test
  public void of_copiesTheCallersArray() {
    byte[] data = {1, 2};
    Tensor t = Tensor.of(DType.UINT8, new long[] {2}, data);
    data[0] = 9;
    assertThat(t.getAsDouble(0), equalTo(1.0));
  }

  @Test
  public void elementsAreLittleEndian() {
    Tensor t = Tensor.ofInts(new long[] {1}, 0x01020304);
    assertThat(t.toByteArray(), equalTo(new byte[] {4, 3, 2, 1}));
  }

  @Test
  public void float16_decodesToFloat() {
    // 0x3C00 = 1.0, 0xC000 = -2.0, 0x7BFF = 65504, 0x0001 = smallest subnormal
    Tensor t =
        Tensor.of(
            DType.FLOAT16,
            new long[] {4},
            new byte[] {0x00, 0x3C, 0x00, (byte) 0xC0, (byte) 0xFF, 0x7B, 0x01, 0x00});
    assertThat(t.getAsDouble(0), equalTo(1.0));
    assertThat(t.getAsDouble(1), equalTo(-2.0));
    assertThat(t.getAsDouble(2), equalTo(65504.0));
    assertThat(t.getAsDouble(3), equalTo((double) 0x1p-24f));
  }

  @Test
  public void equality_isByDtypeShapeAndBytes() {
    Tensor a = Tensor.ofInts(new long[] {2}, 1, 2);
    assertThat(a, equalTo(Tensor.ofInts(new long[] {2}, 1, 2)));
    assertThat(a.hashCode(), equalTo(Tensor.ofInts(new long[] {2}, 1, 2).hashCode()));
    assertThat(a, not(equalTo(Tensor.ofInts(new long[] {1, 2}, 1, 2))));
    assertThat(a, not(equalTo(Tensor.of(DType.UINT8, new long[] {8}, a.toByteArray()))));
  }

  @Test
  public void dtype_rejectsUnknownCodeAndName() {
    assertThat(
        assertThrows(IllegalArgumentException.class, () -> DType.fromCode(0)).getMessage(),
        equalTo("unknown tensor dtype code 0"));
    assertThat(
        assertThrows(IllegalArgumentException.class, () -> DType.fromTypeName("complex64"))
            .getMessage(),
        equalTo("unknown tensor dtype 'complex64'"));
  }
}
