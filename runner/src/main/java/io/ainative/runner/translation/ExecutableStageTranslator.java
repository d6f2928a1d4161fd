package io.ainative.runner.translation;

import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import io.ainative.runner.translation.inprocess.InProcessStages;
import io.ainative.runner.translation.inprocess.JavaStageOperator;
import io.ainative.runner.translation.state.UserStateKinds;
import io.ainative.runner.translation.types.Uncopied;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.runners.core.construction.SerializablePipelineOptions;
import org.apache.beam.runners.flink.FlinkStreamingPortablePipelineTranslator.PTransformTranslator;
import org.apache.beam.runners.flink.FlinkStreamingPortablePipelineTranslator.StreamingTranslationContext;
import org.apache.beam.runners.flink.translation.functions.FlinkExecutableStageContextFactory;
import org.apache.beam.runners.flink.translation.types.CoderTypeInformation;
import org.apache.beam.runners.flink.translation.wrappers.streaming.DoFnOperator;
import org.apache.beam.runners.flink.translation.wrappers.streaming.ExecutableStageDoFnOperator;
import org.apache.beam.runners.flink.translation.wrappers.streaming.KvToByteBufferKeySelector;
import org.apache.beam.runners.flink.translation.wrappers.streaming.SdfByteBufferKeySelector;
import org.apache.beam.runners.fnexecution.translation.PipelineTranslatorUtils;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.transforms.join.RawUnionValue;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.beam.sdk.util.construction.ExecutableStageTranslation;
import org.apache.beam.sdk.util.construction.PTransformTranslation;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.vendor.grpc.v1p60p1.com.google.protobuf.InvalidProtocolBufferException;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.KeyedStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.transformations.TwoInputTransformation;
import org.apache.flink.util.OutputTag;

/**
 * Translates a fused executable stage ({@link NativeUrns#EXECUTABLE_STAGE}) to Beam's {@link
 * ExecutableStageDoFnOperator} (as {@link StageOperator}, or {@link StatefulStageOperator} for
 * state the runner serves itself), which runs the stage's bundles in the SDK harness.
 *
 * <p>The runner's own version of this translation, so that it can fix what Beam 2.62's does
 * wrong (side-input views whose coder cannot snapshot their state, see {@link
 * SideInputMaterializer}) and later take stages where they should run. Outputs are numbered by
 * their sorted local names, so state written by one job maps to the same outputs after a restore.
 */
@Internal
public final class ExecutableStageTranslator implements PTransformTranslator<StreamingTranslationContext> {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ExecutableStageTranslator.class);

  @Override
  @SuppressWarnings({"unchecked", "rawtypes"})
  public void translate(String id, RunnerApi.Pipeline pipeline, StreamingTranslationContext context) {
    RunnerApi.Components components = pipeline.getComponents();
    RunnerApi.PTransform transform = components.getTransformsOrThrow(id);
    RunnerApi.ExecutableStagePayload stage;
    try {
      stage = RunnerApi.ExecutableStagePayload.parseFrom(transform.getSpec().getPayload());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("Malformed executable stage '" + transform.getUniqueName() + "'", e);
    }
    SerializablePipelineOptions options = new SerializablePipelineOptions(context.getPipelineOptions());

    // Outputs, in the order of their local names.
    Map<String, String> outputs = new TreeMap<>(transform.getOutputsMap());
    Map<TupleTag<?>, OutputTag<WindowedValue<?>>> outputTags = new LinkedHashMap<>();
    Map<TupleTag<?>, Coder<WindowedValue<?>>> outputCoders = new LinkedHashMap<>();
    Map<TupleTag<?>, Integer> outputIds = new HashMap<>();
    Map<String, TupleTag<?>> tagByCollection = new HashMap<>();
    TupleTag<Object> mainTag = null;
    List<TupleTag<?>> additionalTags = new ArrayList<>();
    for (Map.Entry<String, String> output : outputs.entrySet()) {
      Coder<WindowedValue<?>> coder = (Coder) PipelineTranslatorUtils.instantiateCoder(output.getValue(), components);
      TupleTag<Object> tag = new TupleTag<>(output.getKey());
      outputTags.put(tag, new OutputTag<>(output.getKey(), Uncopied.typeInfo(coder, context.getPipelineOptions())));
      outputCoders.put(tag, coder);
      outputIds.put(tag, outputIds.size());
      tagByCollection.put(output.getValue(), tag);
      if (mainTag == null) {
        mainTag = tag;
      } else {
        additionalTags.add(tag);
      }
    }

    String inputId = stage.getInput();
    Coder<WindowedValue<Object>> inputCoder = PipelineTranslatorUtils.instantiateCoder(inputId, components);
    DataStream<WindowedValue<Object>> input = context.getDataStreamOrThrow(inputId);

    // Stateful stages and splittable DoFns run keyed: state, timers and restrictions are per key.
    boolean stateful = stage.getUserStatesCount() > 0 || stage.getTimersCount() > 0;
    boolean splittable =
        stage.getComponents().getTransformsMap().values().stream()
            .anyMatch(t -> PTransformTranslation.SPLITTABLE_PROCESS_SIZED_ELEMENTS_AND_RESTRICTIONS_URN.equals(t.getSpec().getUrn()));
    Optional<String> notInProcess =
        context.getPipelineOptions().as(AiNativeFlinkPipelineOptions.class).getInProcessJavaStages()
            ? InProcessStages.whyNot(stage)
            : Optional.of("--inProcessJavaStages=false");
    notInProcess.ifPresent(why -> LOG.debug("Stage '{}' runs in the SDK harness: {}", transform.getUniqueName(), why));
    Coder keyCoder = null;
    KeySelector keySelector = null;
    if (splittable && notInProcess.isEmpty()) {
      // A bounded splittable stage the runner runs keeps no per-element state: spreading its
      // restrictions over the subtasks is all the keying did.
      input = input.rebalance();
    } else if (stateful || splittable) {
      Coder<?> elementCoder = ((WindowedValue.FullWindowedValueCoder<?>) inputCoder).getValueCoder();
      if (!(elementCoder instanceof KvCoder)) {
        throw new IllegalStateException(
            String.format(Locale.ROOT,
                "Stage '%s' is %s, so its input %s must be key/value pairs, but its coder is %s",
                transform.getUniqueName(), stateful ? "stateful" : "splittable", inputId, elementCoder));
      }
      Coder<?> kvKey = ((KvCoder<?, ?>) elementCoder).getKeyCoder();
      if (stateful) {
        keyCoder = kvKey;
        keySelector = new KvToByteBufferKeySelector(keyCoder, options);
      } else {
        // KV<KV<element, KV<restriction, watermark state>>, size>: the element is the key.
        if (!(kvKey instanceof KvCoder)) {
          throw new IllegalStateException(
              "Splittable stage '" + transform.getUniqueName() + "' expects KV<KV<element, ...>, size> input, got " + elementCoder);
        }
        keyCoder = ((KvCoder<?, ?>) kvKey).getKeyCoder();
        keySelector = new SdfByteBufferKeySelector(keyCoder, options);
      }
      input = input.keyBy(keySelector);
    }

    SideInputMaterializer.Result sideInputs =
        SideInputMaterializer.materialize(transform.getUniqueName(), stage, components, context);

    StageOperatorArgs<Object, Object> args =
        StageOperatorArgs.<Object, Object>builder()
            .setStepName(transform.getUniqueName())
            .setWindowedInputCoder(inputCoder)
            .setOutputCoders(new HashMap<>())
            .setMainOutputTag(mainTag)
            .setAdditionalOutputTags(additionalTags)
            .setOutputManagerFactory(
                new DoFnOperator.MultiOutputOutputManagerFactory<>(mainTag, outputTags, outputCoders, outputIds, options))
            .setSideInputs(sideInputs.viewsByUnionTag, sideInputs.views(), sideInputs.viewsById)
            .setOptions(context.getPipelineOptions())
            .setPayload(stage)
            .setJobInfo(context.getJobInfo())
            .setContextFactory(FlinkExecutableStageContextFactory.getInstance())
            .setOutputMap(tagByCollection)
            .setWindowingStrategy(PipelineTranslatorUtils.getWindowingStrategy(inputId, components))
            .setKey(keyCoder, keySelector)
            .build();
    UserStateKinds userStates = UserStateKinds.of(stage);
    List<String> windowExpirationFamilies = StatefulStageOperator.windowExpirationFamilies(stage);
    DoFnOperator<Object, Object> operator;
    if (notInProcess.isEmpty()) {
      // A Java stage the runner executes in its task thread, without the Fn API.
      operator =
          new JavaStageOperator(
              transform.getUniqueName(), inputCoder, mainTag, additionalTags, args.outputManagerFactory,
              args.windowingStrategy, context.getPipelineOptions(), stage, tagByCollection);
    } else if (userStates.any() || !windowExpirationFamilies.isEmpty()) {
      // Map, set, multimap or ordered-list state, @OnWindowExpiration: the runner serves those itself.
      operator = new StatefulStageOperator<>(args, userStates, windowExpirationFamilies);
    } else {
      // Beam's operator; a splittable stage keeps its SDF self-checkpoints' residuals in one state.
      operator = new StageOperator<>(args, splittable);
    }

    CoderTypeInformation<WindowedValue<Object>> mainType =
        mainTag == null ? null : (CoderTypeInformation) Uncopied.typeInfo(outputCoders.get(mainTag), context.getPipelineOptions());
    String name = ExecutableStageTranslation.generateNameFromStagePayload(stage);
    SingleOutputStreamOperator<WindowedValue<Object>> output;
    if (sideInputs.stream == null) {
      output = input.transform(name, mainType, operator);
    } else {
      DataStream<RawUnionValue> broadcast = sideInputs.stream.broadcast();
      if (keySelector != null) {
        // A keyed main input with a broadcast side input: Flink's connect() would key both.
        TwoInputTransformation<WindowedValue<Object>, RawUnionValue, WindowedValue<Object>> both =
            new TwoInputTransformation<>(
                input.getTransformation(), broadcast.getTransformation(), name, operator, mainType, input.getParallelism());
        both.setStateKeyType(((KeyedStream) input).getKeyType());
        both.setStateKeySelectors(((KeyedStream) input).getKeySelector(), null);
        output = new KeyedTwoInput<>(input, both);
      } else {
        output = input.connect(broadcast).transform(name, mainType, operator);
      }
    }
    output.uid(transform.getUniqueName());

    if (mainTag != null) {
      context.addDataStream(outputs.get(mainTag.getId()), output);
    }
    for (TupleTag<?> tag : additionalTags) {
      context.addDataStream(outputs.get(tag.getId()), output.getSideOutput(outputTags.get(tag)));
    }
  }

  /** Flink's constructor for a stream from a transformation is protected. */
  private static final class KeyedTwoInput<T> extends SingleOutputStreamOperator<T> {
    KeyedTwoInput(DataStream<?> input, TwoInputTransformation<?, ?, T> transformation) {
      super(input.getExecutionEnvironment(), transformation);
    }
  }
}
