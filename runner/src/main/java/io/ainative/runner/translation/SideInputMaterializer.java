package io.ainative.runner.translation;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.model.pipeline.v1.RunnerApi.ExecutableStagePayload.SideInputId;
import org.apache.beam.runners.core.KeyedWorkItem;
import org.apache.beam.runners.core.SystemReduceFn;
import org.apache.beam.runners.flink.FlinkStreamingPortablePipelineTranslator.StreamingTranslationContext;
import org.apache.beam.runners.flink.translation.types.CoderTypeInformation;
import org.apache.beam.runners.flink.translation.wrappers.streaming.DoFnOperator;
import org.apache.beam.runners.flink.translation.wrappers.streaming.SingletonKeyedWorkItem;
import org.apache.beam.runners.flink.translation.wrappers.streaming.SingletonKeyedWorkItemCoder;
import org.apache.beam.runners.flink.translation.wrappers.streaming.WindowDoFnOperator;
import org.apache.beam.runners.flink.translation.wrappers.streaming.WorkItemKeySelector;
import org.apache.beam.runners.fnexecution.translation.PipelineTranslatorUtils;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.IterableCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VoidCoder;
import org.apache.beam.sdk.transforms.join.RawUnionValue;
import org.apache.beam.sdk.transforms.join.UnionCoder;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.transforms.ViewFn;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.beam.sdk.util.construction.RunnerPCollectionView;
import org.apache.beam.sdk.util.construction.WindowingStrategyTranslation;
import org.apache.beam.sdk.util.construction.RehydratedComponents;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.PCollectionViews;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.apache.beam.sdk.values.WindowingStrategy;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.runners.core.construction.SerializablePipelineOptions;
import org.apache.beam.vendor.grpc.v1p60p1.com.google.protobuf.InvalidProtocolBufferException;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.util.Collector;

/**
 * Turns the side inputs of one executable stage into what the stage's operator consumes: one
 * broadcast stream of {@link RawUnionValue}s, each a whole window of one side input (materialized
 * by a GroupByKey on a void key), and the views that name them.
 *
 * <p>Each view's coder is the coder of the side input's <em>elements</em>: the operator stores a
 * window's elements in operator state under {@code IterableCoder.of(view coder)}, and a checkpoint
 * serializes that state. (Beam 2.62's own portable translation gives the views a {@code
 * WindowedValue<Iterable<T>>} coder, so the first checkpoint of a stage with side inputs fails.)
 */
final class SideInputMaterializer {

  /** The views of a stage, and the broadcast stream that fills them. */
  static final class Result {
    final Map<Integer, PCollectionView<?>> viewsByUnionTag;
    final Map<SideInputId, PCollectionView<?>> viewsById;
    final DataStream<RawUnionValue> stream;

    Result(Map<Integer, PCollectionView<?>> viewsByUnionTag, Map<SideInputId, PCollectionView<?>> viewsById, DataStream<RawUnionValue> stream) {
      this.viewsByUnionTag = viewsByUnionTag;
      this.viewsById = viewsById;
      this.stream = stream;
    }

    Collection<PCollectionView<?>> views() {
      return new ArrayList<>(viewsByUnionTag.values());
    }

    static Result none() {
      return new Result(Collections.emptyMap(), Collections.emptyMap(), null);
    }
  }

  private SideInputMaterializer() {}

  @SuppressWarnings({"unchecked", "rawtypes"})
  static Result materialize(
      String stageName, RunnerApi.ExecutableStagePayload stage, RunnerApi.Components components, StreamingTranslationContext context) {
    if (stage.getSideInputsCount() == 0) {
      return Result.none();
    }
    RehydratedComponents rehydrated = RehydratedComponents.forComponents(components);
    PipelineOptions options = context.getPipelineOptions();
    Map<Integer, PCollectionView<?>> byTag = new LinkedHashMap<>();
    Map<SideInputId, PCollectionView<?>> byId = new LinkedHashMap<>();
    List<Coder<?>> unionCoders = new ArrayList<>();
    List<DataStream<WindowedValue<KV<Void, Iterable<Object>>>>> windows = new ArrayList<>();

    for (SideInputId id : stage.getSideInputsList()) {
      String collectionId = components.getTransformsOrThrow(id.getTransformId()).getInputsOrThrow(id.getLocalName());
      WindowedValue.WindowedValueCoder<Object> wireCoder =
          (WindowedValue.WindowedValueCoder<Object>) (Coder) PipelineTranslatorUtils.instantiateCoder(collectionId, components);
      WindowingStrategy<?, ?> windowing = windowingStrategy(collectionId, components, rehydrated);
      Coder<Object> elementCoder = wireCoder.getValueCoder();

      // The views only name the side input for the operator's handler; how the SDK reads it is
      // decided by the harness, so any multimap view function will do.
      ViewFn<?, ?> viewFn =
          new PCollectionViews.MultimapViewFn<>(
              (PCollectionViews.TypeDescriptorSupplier) () -> TypeDescriptors.voids(),
              (PCollectionViews.TypeDescriptorSupplier<Void>) TypeDescriptors::voids);
      PCollectionView<?> view =
          new RunnerPCollectionView<>(
              null, new TupleTag<>(id.getLocalName()), (ViewFn) viewFn,
              windowing.getWindowFn().getDefaultWindowMappingFn(), windowing, elementCoder);
      int unionTag = byTag.size();
      byTag.put(unionTag, view);
      byId.put(id, view);

      KvCoder<Void, Object> keyedCoder = KvCoder.of(VoidCoder.of(), elementCoder);
      DataStream<WindowedValue<Object>> input = context.getDataStreamOrThrow(collectionId);
      DataStream<WindowedValue<KV<Void, Object>>> keyed =
          input
              .map(new ToVoidKey<>())
              .returns(new CoderTypeInformation<>(wireCoder.withValueCoder(keyedCoder), options))
              .name(stageName + "/SideInput/" + id.getLocalName() + "/Key");
      String groupName = stageName + "/SideInput/" + id.getLocalName() + "/Group";
      windows.add(groupPerWindow(keyed, wireCoder.withValueCoder(keyedCoder), keyedCoder, windowing, groupName, options));
      unionCoders.add(wireCoder.withValueCoder(KvCoder.of(VoidCoder.of(), IterableCoder.of(elementCoder))));
    }

    CoderTypeInformation<RawUnionValue> unionType = new CoderTypeInformation<>(UnionCoder.of(unionCoders), options);
    DataStream<RawUnionValue> union = null;
    for (int tag = 0; tag < windows.size(); tag++) {
      DataStream<RawUnionValue> tagged = windows.get(tag).map(new TagAsUnion<>(tag)).returns(unionType);
      union = union == null ? tagged : union.union(tagged);
    }
    return new Result(byTag, byId, union);
  }

  private static WindowingStrategy<?, ?> windowingStrategy(
      String collectionId, RunnerApi.Components components, RehydratedComponents rehydrated) {
    String strategyId = components.getPcollectionsOrThrow(collectionId).getWindowingStrategyId();
    try {
      return WindowingStrategyTranslation.fromProto(components.getWindowingStrategiesOrThrow(strategyId), rehydrated);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("Malformed windowing strategy " + strategyId + " of side input " + collectionId, e);
    }
  }

  /** All elements of a window, per (void) key, once the window is complete. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private static DataStream<WindowedValue<KV<Void, Iterable<Object>>>> groupPerWindow(
      DataStream<WindowedValue<KV<Void, Object>>> keyed,
      WindowedValue.WindowedValueCoder<KV<Void, Object>> keyedWireCoder,
      KvCoder<Void, Object> kvCoder,
      WindowingStrategy<?, ?> windowing,
      String name,
      PipelineOptions options) {
    Coder<? extends BoundedWindow> windowCoder = windowing.getWindowFn().windowCoder();
    SingletonKeyedWorkItemCoder<Void, Object> workItemCoder =
        SingletonKeyedWorkItemCoder.of(VoidCoder.of(), kvCoder.getValueCoder(), windowCoder);
    WindowedValue.FullWindowedValueCoder<KeyedWorkItem<Void, Object>> workItemWireCoder =
        WindowedValue.getFullCoder(workItemCoder, windowCoder);
    WorkItemKeySelector<Void, Object> keySelector =
        new WorkItemKeySelector<>(VoidCoder.of(), new SerializablePipelineOptions(options));
    Coder<WindowedValue<KV<Void, Iterable<Object>>>> outputCoder =
        WindowedValue.getFullCoder(KvCoder.of(VoidCoder.of(), IterableCoder.of(kvCoder.getValueCoder())), windowCoder);
    TupleTag<KV<Void, Iterable<Object>>> mainTag = new TupleTag<>("main output");
    WindowDoFnOperator<Void, Object, Iterable<Object>> operator =
        new WindowDoFnOperator<>(
            SystemReduceFn.buffering(kvCoder.getValueCoder()),
            name,
            workItemWireCoder,
            mainTag,
            Collections.emptyList(),
            new DoFnOperator.MultiOutputOutputManagerFactory<>(mainTag, outputCoder, new SerializablePipelineOptions(options)),
            windowing,
            new java.util.HashMap<>(),
            Collections.emptyList(),
            options,
            VoidCoder.of(),
            keySelector);
    return keyed
        .flatMap(new ToWorkItems<Void, Object>())
        .returns(new CoderTypeInformation<>(workItemWireCoder, options))
        .name(name + "/ToWorkItems")
        .keyBy(keySelector)
        .transform(name, new CoderTypeInformation<>(outputCoder, options), operator)
        .uid(name);
  }

  private static final class ToVoidKey<T> implements MapFunction<WindowedValue<T>, WindowedValue<KV<Void, T>>> {
    private static final long serialVersionUID = 1L;

    @Override
    public WindowedValue<KV<Void, T>> map(WindowedValue<T> value) {
      return value.withValue(KV.of(null, value.getValue()));
    }
  }

  /** One work item per window, as the windowing operator's side-input pushback expects. */
  private static final class ToWorkItems<K, V>
      implements FlatMapFunction<WindowedValue<KV<K, V>>, WindowedValue<KeyedWorkItem<K, V>>> {
    private static final long serialVersionUID = 1L;

    @Override
    public void flatMap(WindowedValue<KV<K, V>> value, Collector<WindowedValue<KeyedWorkItem<K, V>>> out) {
      for (WindowedValue<KV<K, V>> single : value.explodeWindows()) {
        KV<K, V> kv = single.getValue();
        out.collect(single.withValue(new SingletonKeyedWorkItem<>(kv.getKey(), single.withValue(kv.getValue()))));
      }
    }
  }

  private static final class TagAsUnion<T> implements MapFunction<T, RawUnionValue> {
    private static final long serialVersionUID = 1L;
    private final int tag;

    TagAsUnion(int tag) {
      this.tag = tag;
    }

    @Override
    public RawUnionValue map(T value) {
      return new RawUnionValue(tag, value);
    }
  }
}
