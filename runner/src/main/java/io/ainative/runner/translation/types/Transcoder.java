package io.ainative.runner.translation.types;

import java.io.IOException;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.runners.fnexecution.wire.WireCoders;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.beam.sdk.coders.ByteArrayCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.LengthPrefixCoder;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.beam.sdk.util.WindowedValue.FullWindowedValueCoder;
import org.apache.beam.sdk.util.construction.RehydratedComponents;
import org.apache.beam.sdk.util.construction.graph.PipelineNode;
import org.apache.beam.sdk.values.KV;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Converts an element between two forms of one PCollection: the runner's (a coder the runner
 * does not know is {@code LengthPrefixCoder<ByteArrayCoder>}, the value's encoded bytes) and the
 * SDK's (the value itself, {@code LengthPrefixCoder<X>}). When the windows are coded alike, only
 * the parts of the value that differ are converted, through {@code KV}s: one encode or one decode
 * with X for each unknown part, the rest (and the timestamp, windows and pane) kept as they are.
 * Equal coders pass the element as it is; any other pair goes through a full encode and decode of
 * the windowed value. Immutable.
 */
@Internal
public final class Transcoder {

  /** A conversion of a value between two of its forms. */
  private interface Conversion {
    Object apply(Object value) throws Exception;
  }

  private final Coder<WindowedValue<Object>> from;
  private final Coder<WindowedValue<Object>> to;
  /** Converts the value alone; null when the whole windowed value is re-coded. */
  private final @Nullable Conversion value;
  /** The two forms are the same. */
  private final boolean identity;

  private Transcoder(Coder<WindowedValue<Object>> from, Coder<WindowedValue<Object>> to, @Nullable Conversion value) {
    this.from = from;
    this.to = to;
    this.value = value;
    this.identity = from.equals(to);
  }

  @SuppressWarnings("unchecked")
  public static Transcoder of(Coder<WindowedValue<Object>> from, Coder<WindowedValue<Object>> to) {
    Conversion value = null;
    if (from instanceof FullWindowedValueCoder && to instanceof FullWindowedValueCoder) {
      FullWindowedValueCoder<Object> f = (FullWindowedValueCoder<Object>) from;
      FullWindowedValueCoder<Object> t = (FullWindowedValueCoder<Object>) to;
      if (f.getWindowCoder().equals(t.getWindowCoder())) {
        value = conversion(f.getValueCoder(), t.getValueCoder());
      }
    }
    return new Transcoder(from, to, value);
  }

  /** How a value coded by {@code from} becomes one coded by {@code to} part by part; null if it cannot. */
  @SuppressWarnings("unchecked")
  private static @Nullable Conversion conversion(Coder<?> from, Coder<?> to) {
    if (from.equals(to)) {
      return v -> v;
    }
    if (isRunnerBytes(to) && from instanceof LengthPrefixCoder) {
      Coder<Object> x = ((LengthPrefixCoder<Object>) from).getValueCoder();
      return v -> CoderUtils.encodeToByteArray(x, v);
    }
    if (isRunnerBytes(from) && to instanceof LengthPrefixCoder) {
      Coder<Object> x = ((LengthPrefixCoder<Object>) to).getValueCoder();
      return v -> CoderUtils.decodeFromByteArray(x, (byte[]) v);
    }
    if (from instanceof KvCoder && to instanceof KvCoder) {
      Conversion key = conversion(((KvCoder<?, ?>) from).getKeyCoder(), ((KvCoder<?, ?>) to).getKeyCoder());
      Conversion value = conversion(((KvCoder<?, ?>) from).getValueCoder(), ((KvCoder<?, ?>) to).getValueCoder());
      if (key != null && value != null) {
        return v -> {
          KV<Object, Object> kv = (KV<Object, Object>) v;
          return KV.of(key.apply(kv.getKey()), value.apply(kv.getValue()));
        };
      }
    }
    return null;
  }

  /**
   * The SDK's form of a PCollection's elements, as the SDK harness's wire coder has it: coders the
   * runner does not know length-prefixed, but kept (not turned into bytes). The runner's form is
   * Beam's {@code PipelineTranslatorUtils.instantiateCoder}.
   */
  @SuppressWarnings("unchecked")
  public static Coder<WindowedValue<Object>> sdkCoder(String pcollection, RunnerApi.Components components) {
    RunnerApi.Components.Builder builder = components.toBuilder();
    String coderId =
        WireCoders.addSdkWireCoder(
            PipelineNode.pCollection(pcollection, components.getPcollectionsOrThrow(pcollection)),
            builder,
            RunnerApi.ExecutableStagePayload.WireCoderSetting.getDefaultInstance());
    try {
      return (Coder<WindowedValue<Object>>) RehydratedComponents.forComponents(builder.build()).getCoder(coderId);
    } catch (IOException e) {
      throw new IllegalArgumentException("The SDK's coder of PCollection " + pcollection + " cannot be built", e);
    }
  }

  /** Whether the coder is the runner's form of a value whose coder it does not know: its bytes. */
  public static boolean isRunnerBytes(Coder<?> coder) {
    return coder instanceof LengthPrefixCoder && ((LengthPrefixCoder<?>) coder).getValueCoder() instanceof ByteArrayCoder;
  }

  /** Whether {@link #apply} returns its argument: the two forms are the same. */
  public boolean isIdentity() {
    return identity;
  }

  public WindowedValue<Object> apply(WindowedValue<Object> element) throws Exception {
    if (identity) {
      return element;
    }
    if (value != null) {
      return element.withValue(value.apply(element.getValue()));
    }
    return CoderUtils.decodeFromByteArray(to, CoderUtils.encodeToByteArray(from, element));
  }
}
