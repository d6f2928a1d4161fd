package io.ainative.transforms;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;

import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.testing.CoderProperties;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.io.BaseEncoding;
import org.junit.Test;

public class CodersTest {
  private static final InferenceResultCoder<String, Integer> RESULT =
      InferenceResultCoder.of(StringUtf8Coder.of(), VarIntCoder.of());
  private static final InferenceFailureCoder<String> FAILURE =
      InferenceFailureCoder.of(StringUtf8Coder.of());

  @Test
  public void resultCoder_roundTrips_isDeterministic_andKeepsItsGoldenBytes() throws Exception {
    InferenceResult<String, Integer> value = InferenceResult.of("cat", 7);
    CoderProperties.coderDecodeEncodeEqual(RESULT, value);
    CoderProperties.coderDeterministic(RESULT, value, InferenceResult.of("cat", 7));
    CoderProperties.coderSerializable(RESULT);
    // version 1, nested "cat" (length 3), varint 7
    assertEquals("0103636174" + "07", hex(CoderUtils.encodeToByteArray(RESULT, value)));
  }

  @Test
  public void failureCoder_roundTrips_andKeepsItsGoldenBytes() throws Exception {
    InferenceFailure<String> value =
        InferenceFailure.of("x", InferenceStep.INFERENCE, "java.lang.E", "m", "t");
    CoderProperties.coderDecodeEncodeEqual(FAILURE, value);
    CoderProperties.coderSerializable(FAILURE);
    // version 1, "x", step 2, "java.lang.E", "m", "t"
    assertEquals(
        "01" + "0178" + "02" + "0b6a6176612e6c616e672e45" + "016d" + "0174",
        hex(CoderUtils.encodeToByteArray(FAILURE, value)));
  }

  @Test
  public void failureFromAnException_keepsStepClassMessageAndTrace() throws Exception {
    InferenceFailure<String> f =
        InferenceFailure.of("e", InferenceStep.POST_PROCESS, new IllegalStateException("boom"));
    InferenceFailure<String> decoded =
        CoderUtils.decodeFromByteArray(FAILURE, CoderUtils.encodeToByteArray(FAILURE, f));
    assertEquals(InferenceStep.POST_PROCESS, decoded.getStep());
    assertEquals("java.lang.IllegalStateException", decoded.getErrorClass());
    assertEquals("boom", decoded.getErrorMessage());
    assertEquals(f.getStackTrace(), decoded.getStackTrace());
  }

  @Test
  public void unknownVersion_isRejected_namingTheVersion() {
    CoderException e =
        assertThrows(
            CoderException.class,
            () -> CoderUtils.decodeFromByteArray(RESULT, new byte[] {9, 0, 0}));
    assertEquals("InferenceResult: unknown format version 9, expected 1", e.getMessage());
  }

  private static String hex(byte[] bytes) {
    return BaseEncoding.base16().lowerCase().encode(bytes);
  }
}
