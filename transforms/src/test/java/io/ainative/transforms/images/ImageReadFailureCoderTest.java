package io.ainative.transforms.images;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;

import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.util.SerializableUtils;
import org.junit.Test;

public class ImageReadFailureCoderTest {
  private static final ImageReadFailure FAILURE =
      ImageReadFailure.of("/d/a.png", "java.io.IOException", "gone", "trace");

  @Test
  public void roundTrips_andIsDeterministic() throws Exception {
    ImageReadFailureCoder coder = SerializableUtils.clone(ImageReadFailureCoder.of());
    ImageReadFailure equal = ImageReadFailure.of("/d/a.png", "java.io.IOException", "gone", "trace");

    assertEquals(FAILURE, CoderUtils.clone(coder, FAILURE));
    assertArrayEquals(
        CoderUtils.encodeToByteArray(coder, FAILURE), CoderUtils.encodeToByteArray(coder, equal));
    coder.verifyDeterministic();
  }

  @Test
  public void encoding_isPinned() throws Exception {
    byte[] golden = {
      1, // version
      8, '/', 'd', '/', 'a', '.', 'p', 'n', 'g',
      19, 'j', 'a', 'v', 'a', '.', 'i', 'o', '.', 'I', 'O', 'E', 'x', 'c', 'e', 'p', 't', 'i', 'o', 'n',
      4, 'g', 'o', 'n', 'e',
      5, 't', 'r', 'a', 'c', 'e'
    };

    assertArrayEquals(golden, CoderUtils.encodeToByteArray(ImageReadFailureCoder.of(), FAILURE));
    assertEquals(FAILURE, CoderUtils.decodeFromByteArray(ImageReadFailureCoder.of(), golden));
  }

  @Test
  public void unknownVersion_isRejected() {
    assertThrows(
        CoderException.class,
        () -> CoderUtils.decodeFromByteArray(ImageReadFailureCoder.of(), new byte[] {2, 0, 0, 0, 0}));
  }

  @Test
  public void isTheDefaultCoder() throws Exception {
    assertEquals(
        ImageReadFailureCoder.of(), CoderRegistry.createDefault().getCoder(ImageReadFailure.class));
  }
}
