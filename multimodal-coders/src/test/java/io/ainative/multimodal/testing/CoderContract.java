package io.ainative.multimodal.testing;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.junit.Assert.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.testing.CoderProperties;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.util.common.ElementByteSizeObserver;
import org.junit.Test;

/**
 * The contract every ainative value coder passes: Beam's {@link CoderProperties} (round trip in
 * both contexts, determinism, structural value, serializability, consistency with equals), golden
 * bytes, a version byte, and clean failures on an unknown version or truncated input.
 *
 * <p>Subclasses supply the coder, sample values and one golden value with its checked-in hex.
 */
public abstract class CoderContract<T> {
  protected abstract Coder<T> coder();

  /** At least two distinct values, covering edge cases. */
  protected abstract List<T> samples();

  protected abstract T goldenValue();

  /** Hex of {@code goldenValue()} encoded with version 1 of the format; never change it. */
  protected abstract String goldenHex();

  @Test
  public void roundTrip_returnsEqualValue_inBothContexts() throws Exception {
    for (T v : samples()) {
      CoderProperties.coderDecodeEncodeEqual(coder(), v);
      CoderProperties.coderDecodeEncodeInContext(coder(), Coder.Context.NESTED, v, equalTo(v));
    }
  }

  @Test
  public void encoding_isDeterministic_forEqualValues() throws Exception {
    coder().verifyDeterministic();
    for (T v : samples()) {
      T copy = CoderUtils.clone(coder(), v);
      CoderProperties.coderDeterministic(coder(), v, copy);
    }
  }

  @Test
  public void structuralValue_isConsistentWithEquals() throws Exception {
    for (T v : samples()) {
      CoderProperties.structuralValueDecodeEncodeEqual(coder(), v);
      CoderProperties.structuralValueConsistentWithEquals(coder(), v, CoderUtils.clone(coder(), v));
    }
    List<T> s = samples();
    CoderProperties.coderConsistentWithEquals(coder(), s.get(0), s.get(1));
  }

  @Test
  public void coder_isSerializable() {
    CoderProperties.coderSerializable(coder());
  }

  @Test
  public void golden_encodesToCheckedInBytes() throws Exception {
    String actual = HexFormat.of().formatHex(CoderUtils.encodeToByteArray(coder(), goldenValue()));
    assertThat("wire format changed; add a new version instead", actual, equalTo(goldenHex()));
  }

  @Test
  public void golden_decodesFromCheckedInBytes() throws Exception {
    byte[] golden = HexFormat.of().parseHex(goldenHex());
    assertThat(CoderUtils.decodeFromByteArray(coder(), golden), equalTo(goldenValue()));
  }

  @Test
  public void firstByte_isFormatVersion1() throws Exception {
    for (T v : samples()) {
      assertThat(CoderUtils.encodeToByteArray(coder(), v)[0], equalTo((byte) 1));
    }
  }

  @Test
  public void decode_rejectsUnknownVersion_namingIt() {
    byte[] bytes = HexFormat.of().parseHex(goldenHex());
    bytes[0] = 99;
    CoderException e =
        assertThrows(CoderException.class, () -> coder().decode(new ByteArrayInputStream(bytes)));
    assertThat(e.getMessage(), containsString("version 99"));
  }

  @Test
  public void decode_rejectsEveryTruncation_ofGoldenBytes() {
    byte[] bytes = HexFormat.of().parseHex(goldenHex());
    for (int len = 0; len < bytes.length; len++) {
      byte[] prefix = Arrays.copyOf(bytes, len);
      assertThrows(
          "prefix of " + len + " bytes",
          IOException.class,
          () -> coder().decode(new ByteArrayInputStream(prefix)));
    }
  }

  @Test
  public void byteSizeObserver_reportsExactEncodedSize() throws Exception {
    for (T v : samples()) {
      long[] observed = {0};
      ElementByteSizeObserver observer =
          new ElementByteSizeObserver() {
            @Override
            protected void reportElementSize(long elementByteSize) {
              observed[0] += elementByteSize;
            }
          };
      assertThat(coder().isRegisterByteSizeObserverCheap(v), equalTo(true));
      coder().registerByteSizeObserver(v, observer);
      observer.advance();
      assertThat(
          observed[0], equalTo((long) CoderUtils.encodeToByteArray(coder(), v).length));
    }
    assertThat(samples().size(), greaterThanOrEqualTo(2));
  }
}
