package io.ainative.runner.service.client;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.Assert.assertArrayEquals;

import com.google.protobuf.ByteString;
import io.ainative.harness.testing.FloatArrayCoder;
import io.ainative.runner.options.WireEncoding;
import io.ainative.transforms.InferenceResult;
import io.ainative.transforms.InferenceResultCoder;
import org.apache.beam.sdk.coders.ByteArrayCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.LengthPrefixCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.transforms.windowing.IntervalWindow;
import org.apache.beam.sdk.transforms.windowing.PaneInfo;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.beam.sdk.values.KV;
import org.joda.time.Instant;
import org.junit.Test;

/**
 * When the client may send the runner's bytes of an input as the request, and build the result's
 * bytes from them: the bytes must be exactly what the decode-and-encode path would have made.
 */
public class WireBytesTest {
  private static final Coder<? extends BoundedWindow> WINDOWS = IntervalWindow.getCoder();
  private static final Coder<byte[]> RUNNER_BYTES = LengthPrefixCoder.of(ByteArrayCoder.of());

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Coder<WindowedValue<Object>> windowed(Coder<?> value) {
    return (Coder) WindowedValue.FullWindowedValueCoder.of(value, WINDOWS);
  }

  private static ClientConfig config(boolean keyed, Coder<?> inputSdk, Coder<?> inputWire, Coder<?> mainSdk, Coder<?> mainWire) {
    return new ClientConfig(
        null, "step", "ns", keyed, windowed(inputWire), windowed(inputSdk), windowed(mainWire), windowed(mainSdk),
        null, null, null, 64, 0, WireEncoding.BEAM_CODER, true, null, 0);
  }

  private static final WindowedValue<Object> WIRE_IMAGE =
      WindowedValue.of(
          (Object) bytes(FloatArrayCoder.of(), new float[] {1f, -2.5f, Float.NaN}),
          new Instant(42),
          new IntervalWindow(new Instant(0), new Instant(100)),
          PaneInfo.ON_TIME_AND_ONLY_FIRING);

  private static <T> byte[] bytes(Coder<T> coder, T value) {
    try {
      return CoderUtils.encodeToByteArray(coder, value);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  public void unkeyedInput_requestIsTheRunnerBytes_andTheResultDecodesToInputAndOutput() throws Exception {
    WireBytes w =
        WireBytes.of(
            config(
                false,
                LengthPrefixCoder.of(FloatArrayCoder.of()),
                RUNNER_BYTES,
                LengthPrefixCoder.of(InferenceResultCoder.of(FloatArrayCoder.of(), VarIntCoder.of())),
                RUNNER_BYTES),
            FloatArrayCoder.of(),
            VarIntCoder.of());
    assertThat(w, notNullValue());
    assertThat(w.results(), is(true));
    assertArrayEquals((byte[]) WIRE_IMAGE.getValue(), w.payload(WIRE_IMAGE));

    WindowedValue<Object> result = w.result(WIRE_IMAGE, ByteString.copyFrom(bytes(VarIntCoder.of(), 7)));
    InferenceResult<float[], Integer> decoded =
        CoderUtils.decodeFromByteArray(InferenceResultCoder.of(FloatArrayCoder.of(), VarIntCoder.of()), (byte[]) result.getValue());
    assertArrayEquals(new float[] {1f, -2.5f, Float.NaN}, decoded.getInput(), 0f);
    assertThat(decoded.getOutput(), equalTo(7));
    assertThat(result.getTimestamp(), equalTo(WIRE_IMAGE.getTimestamp()));
    assertThat(result.getWindows(), equalTo(WIRE_IMAGE.getWindows()));
    assertThat(result.getPane(), equalTo(WIRE_IMAGE.getPane()));
  }

  @Test
  public void keyedInput_keepsTheKey_andTakesTheValueBytes() throws Exception {
    Coder<?> keyWire = StringUtf8Coder.of(); // a coder the runner knows stays as it is
    WireBytes w =
        WireBytes.of(
            config(
                true,
                KvCoder.of(StringUtf8Coder.of(), LengthPrefixCoder.of(FloatArrayCoder.of())),
                KvCoder.of(keyWire, RUNNER_BYTES),
                KvCoder.of(StringUtf8Coder.of(), LengthPrefixCoder.of(InferenceResultCoder.of(FloatArrayCoder.of(), VarIntCoder.of()))),
                KvCoder.of(keyWire, RUNNER_BYTES)),
            FloatArrayCoder.of(),
            VarIntCoder.of());
    assertThat(w, notNullValue());
    assertThat(w.results(), is(true));
    byte[] image = (byte[]) WIRE_IMAGE.getValue();
    WindowedValue<Object> wire = WIRE_IMAGE.withValue(KV.of("camera-3", image));
    assertArrayEquals(image, w.payload(wire));

    KV<?, ?> result = (KV<?, ?>) w.result(wire, ByteString.copyFrom(bytes(VarIntCoder.of(), 1))).getValue();
    assertThat(result.getKey(), equalTo("camera-3"));
    InferenceResult<float[], Integer> decoded =
        CoderUtils.decodeFromByteArray(InferenceResultCoder.of(FloatArrayCoder.of(), VarIntCoder.of()), (byte[]) result.getValue());
    assertThat(decoded.getOutput(), equalTo(1));
  }

  @Test
  public void modelInputCoderOtherThanTheElementsCoder_decodesAndEncodesInstead() {
    ClientConfig c =
        config(
            false,
            LengthPrefixCoder.of(FloatArrayCoder.of()),
            RUNNER_BYTES,
            LengthPrefixCoder.of(InferenceResultCoder.of(FloatArrayCoder.of(), VarIntCoder.of())),
            RUNNER_BYTES);
    // the bytes would be FloatArrayCoder's where the service reads a ByteArrayCoder's
    assertThat(WireBytes.of(c, ByteArrayCoder.of(), VarIntCoder.of()), nullValue());
  }

  @Test
  public void inputTheRunnerKnows_isNotBytes_soNoShortCut() {
    ClientConfig c =
        config(
            false,
            StringUtf8Coder.of(),
            StringUtf8Coder.of(),
            LengthPrefixCoder.of(InferenceResultCoder.of(StringUtf8Coder.of(), VarIntCoder.of())),
            RUNNER_BYTES);
    assertThat(WireBytes.of(c, StringUtf8Coder.of(), VarIntCoder.of()), nullValue());
  }

  @Test
  public void contextDependentCoder_sendsTheBytes_butBuildsResultsTheLongWay() {
    // Element coder String (wrapped, so the runner holds it as bytes): its outer bytes are the
    // request's, but InferenceResultCoder writes it nested, with a length the outer bytes lack.
    WireBytes w =
        WireBytes.of(
            config(
                false,
                LengthPrefixCoder.of(StringUtf8Coder.of()),
                RUNNER_BYTES,
                LengthPrefixCoder.of(InferenceResultCoder.of(StringUtf8Coder.of(), VarIntCoder.of())),
                RUNNER_BYTES),
            StringUtf8Coder.of(),
            VarIntCoder.of());
    assertThat(w, notNullValue());
    assertThat(w.results(), is(false));
  }

  @Test
  public void contextFree_isTrueOnlyForCodersThatDoNotOverrideTheContextMethods() {
    assertThat(WireBytes.contextFree(FloatArrayCoder.of()), is(true));
    assertThat(WireBytes.contextFree(VarIntCoder.of()), is(true));
    assertThat(WireBytes.contextFree(StringUtf8Coder.of()), is(false));
    assertThat(WireBytes.contextFree(ByteArrayCoder.of()), is(false));
    assertThat(WireBytes.contextFree(GlobalWindow.Coder.INSTANCE), is(true));
  }
}
