package io.ainative.runner.translation.inprocess;

import java.io.IOException;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.transforms.Combine.CombineFn;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.transforms.windowing.PaneInfo;
import org.apache.beam.sdk.util.SerializableUtils;
import org.apache.beam.sdk.util.UserCodeException;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.beam.sdk.util.construction.PTransformTranslation;
import org.apache.beam.sdk.util.construction.RehydratedComponents;
import org.apache.beam.sdk.values.KV;
import org.joda.time.Instant;

/**
 * The phases of a lifted {@code Combine.perKey} with a Java {@link CombineFn}, as the Java SDK
 * harness runs them: {@code Precombine} (a table of accumulators per key and windows, emitted at the
 * end of the bundle or when it holds {@value #MAX_PRECOMBINE_ENTRIES} entries), {@code
 * MergeAccumulators} and {@code ExtractOutputs}.
 */
final class CombinePhases {

  static final Set<String> URNS =
      Set.of(
          PTransformTranslation.COMBINE_PER_KEY_PRECOMBINE_TRANSFORM_URN,
          PTransformTranslation.COMBINE_PER_KEY_MERGE_ACCUMULATORS_TRANSFORM_URN,
          PTransformTranslation.COMBINE_PER_KEY_EXTRACT_OUTPUTS_TRANSFORM_URN);

  static final String JAVA_COMBINE_FN_URN = "beam:combinefn:javasdk:v1";

  /** Keys (and windows) a precombine table holds before it emits them all, bounding its memory. */
  static final int MAX_PRECOMBINE_ENTRIES = 10_000;

  private CombinePhases() {}

  /** The combine function of a phase, or null when it is not a plain Java {@link CombineFn}. */
  static CombineFn<Object, Object, Object> combineFn(RunnerApi.PTransform transform) {
    RunnerApi.CombinePayload payload;
    try {
      payload = RunnerApi.CombinePayload.parseFrom(transform.getSpec().getPayload());
    } catch (IOException e) {
      return null;
    }
    if (!JAVA_COMBINE_FN_URN.equals(payload.getCombineFn().getUrn())) {
      return null;
    }
    Object fn = SerializableUtils.deserializeFromByteArray(payload.getCombineFn().getPayload().toByteArray(), "CombineFn");
    @SuppressWarnings("unchecked")
    CombineFn<Object, Object, Object> combineFn = fn instanceof CombineFn ? (CombineFn<Object, Object, Object>) fn : null;
    return combineFn;
  }

  static StageNode of(
      RunnerApi.PTransform transform, RehydratedComponents rehydrated, RunnerApi.Components components, StageNode.Receiver output)
      throws IOException {
    CombineFn<Object, Object, Object> fn =
        Objects.requireNonNull(combineFn(transform), () -> "'" + transform.getUniqueName() + "' has no Java CombineFn");
    String urn = transform.getSpec().getUrn();
    if (PTransformTranslation.COMBINE_PER_KEY_MERGE_ACCUMULATORS_TRANSFORM_URN.equals(urn)) {
      return new MapValue(output, kv -> fn.mergeAccumulators((Iterable<Object>) kv.getValue()));
    }
    if (PTransformTranslation.COMBINE_PER_KEY_EXTRACT_OUTPUTS_TRANSFORM_URN.equals(urn)) {
      return new MapValue(output, kv -> fn.extractOutput(kv.getValue()));
    }
    String input = transform.getInputsMap().values().iterator().next();
    Coder<?> inputCoder = rehydrated.getCoder(components.getPcollectionsOrThrow(input).getCoderId());
    if (!(inputCoder instanceof KvCoder)) {
      throw new IllegalArgumentException("The input of precombine '" + transform.getUniqueName() + "' is not KV: " + inputCoder);
    }
    @SuppressWarnings("unchecked")
    Coder<Object> keyCoder = ((KvCoder<Object, ?>) inputCoder).getKeyCoder();
    return new Precombine(fn, keyCoder, output);
  }

  /** A function of a KV's value, applied to each element, the key and windows kept. */
  private static final class MapValue extends StageNode {
    interface Fn {
      Object apply(KV<Object, Object> kv);
    }

    private final StageNode.Receiver output;
    private final Fn fn;

    MapValue(StageNode.Receiver output, Fn fn) {
      this.output = output;
      this.fn = fn;
    }

    @Override
    @SuppressWarnings("unchecked")
    void accept(WindowedValue<Object> value) {
      KV<Object, Object> kv = (KV<Object, Object>) value.getValue();
      Object result;
      try {
        result = fn.apply(kv);
      } catch (RuntimeException e) {
        throw UserCodeException.wrap(e);
      }
      output.accept(value.withValue(KV.of(kv.getKey(), result)));
    }
  }

  /** One accumulator per key and windows of the bundle. */
  private static final class Precombine extends StageNode {
    private final CombineFn<Object, Object, Object> fn;
    private final Coder<Object> keyCoder;
    private final StageNode.Receiver output;
    private final Map<GroupKey, Entry> table = new HashMap<>();

    Precombine(CombineFn<Object, Object, Object> fn, Coder<Object> keyCoder, StageNode.Receiver output) {
      this.fn = fn;
      this.keyCoder = keyCoder;
      this.output = output;
    }

    @Override
    @SuppressWarnings("unchecked")
    void accept(WindowedValue<Object> value) {
      KV<Object, Object> kv = (KV<Object, Object>) value.getValue();
      GroupKey group = new GroupKey(keyCoder.structuralValue(kv.getKey()), value.getWindows());
      Entry entry = table.get(group);
      try {
        if (entry == null) {
          entry = new Entry(kv.getKey(), fn.createAccumulator(), value.getTimestamp(), value.getWindows());
          table.put(group, entry);
        }
        entry.accumulator = fn.addInput(entry.accumulator, kv.getValue());
      } catch (RuntimeException e) {
        throw UserCodeException.wrap(e);
      }
      if (table.size() >= MAX_PRECOMBINE_ENTRIES) {
        flush();
      }
    }

    @Override
    void finishBundle() {
      flush();
    }

    private void flush() {
      for (Entry entry : table.values()) {
        Object accumulator;
        try {
          accumulator = fn.compact(entry.accumulator);
        } catch (RuntimeException e) {
          throw UserCodeException.wrap(e);
        }
        output.accept(WindowedValue.of(KV.of(entry.key, accumulator), entry.timestamp, entry.windows, PaneInfo.NO_FIRING));
      }
      table.clear();
    }
  }

  private static final class Entry {
    final Object key;
    Object accumulator;
    final Instant timestamp;
    final Collection<? extends BoundedWindow> windows;

    Entry(Object key, Object accumulator, Instant timestamp, Collection<? extends BoundedWindow> windows) {
      this.key = key;
      this.accumulator = accumulator;
      this.timestamp = timestamp;
      this.windows = windows;
    }
  }

  private static final class GroupKey {
    private final Object key;
    private final Collection<? extends BoundedWindow> windows;
    private final int hash;

    GroupKey(Object key, Collection<? extends BoundedWindow> windows) {
      this.key = key;
      this.windows = windows;
      this.hash = 31 * Objects.hashCode(key) + windows.hashCode();
    }

    @Override
    public boolean equals(Object o) {
      if (!(o instanceof GroupKey)) {
        return false;
      }
      GroupKey other = (GroupKey) o;
      return hash == other.hash && Objects.equals(key, other.key) && windows.equals(other.windows);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }
}
