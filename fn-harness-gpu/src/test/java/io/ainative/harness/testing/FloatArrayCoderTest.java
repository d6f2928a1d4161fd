package io.ainative.harness.testing;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.util.Arrays;
import java.util.Random;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.testing.CoderProperties;
import org.apache.beam.sdk.util.VarInt;
import org.junit.Test;

public class FloatArrayCoderTest {
  private static final FloatArrayCoder CODER = FloatArrayCoder.of();

  @Test
  public void goldenBytes_areTheVarIntLengthThenBigEndianFloats() throws Exception {
    byte[] bytes = encode(new float[] {1.0f, -2.5f});
    assertArrayEquals(
        new byte[] {2, 0x3f, (byte) 0x80, 0, 0, (byte) 0xc0, 0x20, 0, 0}, bytes);
  }

  @Test
  public void roundTrip_isExact_andDeterministic_includingSpecialValues() throws Exception {
    float[] special = {
      0f, -0f, Float.MIN_VALUE, Float.MAX_VALUE, Float.NEGATIVE_INFINITY, Float.NaN,
      Float.intBitsToFloat(0x7fc00123) // a NaN with a payload: its bits are kept
    };
    CoderProperties.coderDecodeEncodeEqual(CODER, special);
    CoderProperties.coderDeterministic(CODER, special, special.clone());
    float[] decoded = CODER.decode(new ByteArrayInputStream(encode(special)));
    for (int i = 0; i < special.length; i++) {
      assertEquals(Float.floatToRawIntBits(special[i]), Float.floatToRawIntBits(decoded[i]));
    }
    CoderProperties.coderDecodeEncodeEqual(CODER, new float[0]);
  }

  @Test
  public void bytes_matchDataOutputStream_forAnImageSizedArray() throws Exception {
    Random random = new Random(3);
    float[] image = new float[3 * 64 * 64];
    for (int i = 0; i < image.length; i++) {
      image[i] = (float) random.nextGaussian();
    }
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    VarInt.encode(image.length, expected);
    DataOutputStream data = new DataOutputStream(expected);
    for (float f : image) {
      data.writeFloat(f);
    }
    data.flush();
    assertArrayEquals(expected.toByteArray(), encode(image));
    assertArrayEquals(image, CODER.decode(new ByteArrayInputStream(expected.toByteArray())), 0f);
  }

  @Test
  public void truncatedInput_isAnEofException_namingWhatWasMissing() throws Exception {
    byte[] bytes = encode(new float[] {1f, 2f, 3f});
    byte[] truncated = Arrays.copyOf(bytes, bytes.length - 2);
    EOFException e =
        assertThrows(EOFException.class, () -> CODER.decode(new ByteArrayInputStream(truncated)));
    assertThat(e.getMessage(), containsString("3 values ended after 10 of 12 bytes"));
  }

  @Test
  public void truncatedInput_pastTheFirstChunk_countsEveryByteRead() throws Exception {
    float[] large = new float[10_000]; // the coder converts 4,096 floats at a time
    byte[] bytes = encode(large);
    byte[] truncated = Arrays.copyOf(bytes, bytes.length - 5);
    EOFException e =
        assertThrows(EOFException.class, () -> CODER.decode(new ByteArrayInputStream(truncated)));
    assertThat(e.getMessage(), containsString("10000 values ended after 39995 of 40000 bytes"));
  }

  @Test
  public void lengthBeyondAnArray_isACoderException() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    VarInt.encode(Integer.MAX_VALUE, out);
    CoderException e =
        assertThrows(
            CoderException.class, () -> CODER.decode(new ByteArrayInputStream(out.toByteArray())));
    assertThat(e.getMessage(), containsString("out of range"));
  }

  private static byte[] encode(float[] value) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CODER.encode(value, out);
    return out.toByteArray();
  }
}
