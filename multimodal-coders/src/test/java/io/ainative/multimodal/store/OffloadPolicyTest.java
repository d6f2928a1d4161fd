package io.ainative.multimodal.store;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.lessThan;

import io.ainative.multimodal.coders.TensorCoder;
import io.ainative.multimodal.types.DType;
import io.ainative.multimodal.types.Tensor;
import org.apache.beam.sdk.util.CoderUtils;
import org.junit.Test;

public class OffloadPolicyTest {
  private static Tensor tensorOfBytes(int bytes) {
    return Tensor.of(DType.UINT8, new long[] {bytes}, new byte[bytes]);
  }

  @Test
  public void defaultThreshold_isOneMebibyte() {
    assertThat(OffloadPolicy.defaults().thresholdBytes(), equalTo(1L << 20));
  }

  @Test
  public void valuesAboveThreshold_travelByReference_andResolveToTheSameValue() throws Exception {
    try (LocalObjectStore store = LocalObjectStore.builder().setJobId("j").build()) {
      Tensor big = tensorOfBytes(2 << 20);
      Payload<Tensor> p = OffloadPolicy.defaults().apply(big, TensorCoder.of(), store);
      assertThat(p.isRef(), equalTo(true));
      assertThat(p.ref().valueType(), equalTo("beam:logical_type:ainative:tensor:v1"));
      assertThat(p.resolve(store, TensorCoder.of()), equalTo(big));
      int encoded = CoderUtils.encodeToByteArray(PayloadCoder.of(TensorCoder.of()), p).length;
      assertThat(encoded, lessThan(200));
    }
  }

  @Test
  public void valuesAtOrBelowThreshold_travelInline_andWriteNothing() throws Exception {
    try (LocalObjectStore store = LocalObjectStore.builder().setJobId("j").build()) {
      OffloadPolicy policy = OffloadPolicy.defaults().withThresholdBytes(1000);
      Tensor small = tensorOfBytes(990); // 990 data bytes + 6 header bytes = 996 encoded
      Payload<Tensor> p = policy.apply(small, TensorCoder.of(), store);
      assertThat(p.isRef(), equalTo(false));
      assertThat(p.resolve(store, TensorCoder.of()), equalTo(small));
      assertThat(policy.apply(tensorOfBytes(1000), TensorCoder.of(), store).isRef(), equalTo(true));
      assertThat(store.stats().objectsWritten(), equalTo(1L));
    }
  }
}
