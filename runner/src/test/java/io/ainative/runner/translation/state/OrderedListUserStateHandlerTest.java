package io.ainative.runner.translation.state;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.Assert.assertThrows;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.beam.fn.harness.state.OrderedListUserState.TimestampedValueCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.util.ByteStringOutputStream;
import org.apache.beam.sdk.values.TimestampedValue;
import org.apache.beam.vendor.grpc.v1p60p1.com.google.protobuf.ByteString;
import org.joda.time.Instant;
import org.junit.Test;

/** The ordered-list protocol's entry stream, split as the runner stores it. */
public class OrderedListUserStateHandlerTest {

  /** Encodes entries as the Java SDK harness appends them. */
  private static ByteString entries(List<TimestampedValue<String>> values) throws Exception {
    TimestampedValueCoder<String> coder = TimestampedValueCoder.of(StringUtf8Coder.of());
    ByteStringOutputStream out = new ByteStringOutputStream();
    for (TimestampedValue<String> value : values) {
      coder.encode(value, out);
    }
    return out.toByteString();
  }

  @Test
  public void splitBySortKey_groupsEntriesBySortKey_inAppendOrder_keepingTheirBytes() throws Exception {
    TimestampedValue<String> a = TimestampedValue.of("a", Instant.ofEpochMilli(-5)); // a 10-byte var-long
    TimestampedValue<String> b = TimestampedValue.of("bb", Instant.ofEpochMilli(300));
    TimestampedValue<String> c = TimestampedValue.of("", Instant.ofEpochMilli(-5));
    Map<Long, ByteString> split = OrderedListUserStateHandler.splitBySortKey(entries(Arrays.asList(a, b, c)));

    assertThat(split.keySet().size(), equalTo(2));
    assertThat(split.get(-5L), equalTo(entries(Arrays.asList(a, c))));
    assertThat(split.get(300L), equalTo(entries(Arrays.asList(b))));
  }

  @Test
  public void splitBySortKey_refusesDataCutInsideAnEntry() throws Exception {
    ByteString whole = entries(Arrays.asList(TimestampedValue.of("value", Instant.ofEpochMilli(7))));
    ByteString cut = whole.substring(0, whole.size() - 2);
    assertThrows(IllegalArgumentException.class, () -> OrderedListUserStateHandler.splitBySortKey(cut));
  }
}
