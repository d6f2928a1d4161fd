package io.ainative.runner.translation.types;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.sameInstance;

import java.util.Arrays;
import org.apache.beam.sdk.coders.ByteArrayCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.LengthPrefixCoder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.transforms.windowing.PaneInfo;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.beam.sdk.values.KV;
import org.joda.time.Instant;
import org.junit.Test;

public class TranscoderTest {

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Coder<WindowedValue<Object>> windowed(Coder<?> value, Coder<?> window) {
    return (Coder) WindowedValue.getFullCoder((Coder) value, (Coder) window);
  }

  private static final Coder<?> SDK_KV =
      KvCoder.of(StringUtf8Coder.of(), LengthPrefixCoder.of(SerializableCoder.of(java.util.ArrayList.class)));
  private static final Coder<?> RUNNER_KV = KvCoder.of(StringUtf8Coder.of(), LengthPrefixCoder.of(ByteArrayCoder.of()));

  private static WindowedValue<Object> element(Object value) {
    return WindowedValue.of(value, new Instant(42), GlobalWindow.INSTANCE, PaneInfo.ON_TIME_AND_ONLY_FIRING);
  }

  @Test
  public void unknownValueInsideAKv_isEncodedAlone_andDecodedBack() throws Exception {
    Coder<WindowedValue<Object>> sdk = windowed(SDK_KV, GlobalWindow.Coder.INSTANCE);
    Coder<WindowedValue<Object>> runner = windowed(RUNNER_KV, GlobalWindow.Coder.INSTANCE);
    java.util.ArrayList<String> payload = new java.util.ArrayList<>(Arrays.asList("a", "b"));
    WindowedValue<Object> original = element(KV.of("key", payload));

    WindowedValue<Object> inRunnerForm = Transcoder.of(sdk, runner).apply(original);
    // The same bytes as a full encode with the SDK's coder and decode with the runner's.
    byte[] full = CoderUtils.encodeToByteArray(sdk, original);
    assertThat(CoderUtils.encodeToByteArray(runner, inRunnerForm), is(full));
    assertThat(inRunnerForm.getTimestamp(), is(original.getTimestamp()));
    assertThat(inRunnerForm.getPane(), is(original.getPane()));

    WindowedValue<Object> back = Transcoder.of(runner, sdk).apply(inRunnerForm);
    assertThat(back.getValue(), is(KV.of("key", payload)));
    assertThat(Transcoder.of(runner, sdk).isIdentity(), is(false));
  }

  @Test
  public void equalForms_passTheElementAsItIs() throws Exception {
    Coder<WindowedValue<Object>> both = windowed(KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of()), GlobalWindow.Coder.INSTANCE);
    WindowedValue<Object> element = element(KV.of("k", 1L));
    Transcoder transcoder = Transcoder.of(both, windowed(KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of()), GlobalWindow.Coder.INSTANCE));
    assertThat(transcoder.isIdentity(), is(true));
    assertThat(transcoder.apply(element), sameInstance(element));
  }
}
