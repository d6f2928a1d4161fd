package io.ainative.runner.translation;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.runners.flink.translation.functions.FlinkExecutableStageContextFactory;
import org.apache.beam.runners.flink.translation.wrappers.streaming.DoFnOperator;
import org.apache.beam.runners.fnexecution.provisioning.JobInfo;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.WindowingStrategy;
import org.apache.flink.api.java.functions.KeySelector;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * What Beam's {@code ExecutableStageDoFnOperator} is constructed with, built once by {@link
 * ExecutableStageTranslator} and given to the stage's operator ({@link StageOperator} or {@link
 * StatefulStageOperator}), which passes every field to Beam's constructor.
 *
 * <p>Immutable: final fields, set once through {@link Builder}, whose {@code set*} for the
 * non-null fields are checked in {@link Builder#build}. The maps and lists are the caller's, handed
 * to Beam's operator as given. The operators do not keep this object (it is not serializable).
 */
final class StageOperatorArgs<InputT, OutputT> {
  final String stepName;
  final Coder<WindowedValue<InputT>> windowedInputCoder;
  final Map<TupleTag<?>, Coder<?>> outputCoders;
  /** Null for a stage without outputs. */
  final @Nullable TupleTag<OutputT> mainOutputTag;
  final List<TupleTag<?>> additionalOutputTags;
  final DoFnOperator.MultiOutputOutputManagerFactory<OutputT> outputManagerFactory;
  final Map<Integer, PCollectionView<?>> sideInputTagMapping;
  final Collection<PCollectionView<?>> sideInputs;
  final Map<RunnerApi.ExecutableStagePayload.SideInputId, PCollectionView<?>> sideInputIds;
  final PipelineOptions options;
  final RunnerApi.ExecutableStagePayload payload;
  final JobInfo jobInfo;
  final FlinkExecutableStageContextFactory contextFactory;
  /** The output tag of each output PCollection of the stage. */
  final Map<String, TupleTag<?>> outputMap;
  final WindowingStrategy<?, ?> windowingStrategy;
  /** Null unless the stage runs keyed (stateful or splittable), as is {@link #keySelector}. */
  final @Nullable Coder<?> keyCoder;
  final @Nullable KeySelector<WindowedValue<InputT>, ?> keySelector;

  private StageOperatorArgs(Builder<InputT, OutputT> b) {
    this.stepName = Objects.requireNonNull(b.stepName, "stepName");
    this.windowedInputCoder = Objects.requireNonNull(b.windowedInputCoder, "windowedInputCoder of " + stepName);
    this.outputCoders = Objects.requireNonNull(b.outputCoders, "outputCoders of " + stepName);
    this.mainOutputTag = b.mainOutputTag;
    this.additionalOutputTags = Objects.requireNonNull(b.additionalOutputTags, "additionalOutputTags of " + stepName);
    this.outputManagerFactory = Objects.requireNonNull(b.outputManagerFactory, "outputManagerFactory of " + stepName);
    this.sideInputTagMapping = Objects.requireNonNull(b.sideInputTagMapping, "sideInputTagMapping of " + stepName);
    this.sideInputs = Objects.requireNonNull(b.sideInputs, "sideInputs of " + stepName);
    this.sideInputIds = Objects.requireNonNull(b.sideInputIds, "sideInputIds of " + stepName);
    this.options = Objects.requireNonNull(b.options, "options of " + stepName);
    this.payload = Objects.requireNonNull(b.payload, "payload of " + stepName);
    this.jobInfo = Objects.requireNonNull(b.jobInfo, "jobInfo of " + stepName);
    this.contextFactory = Objects.requireNonNull(b.contextFactory, "contextFactory of " + stepName);
    this.outputMap = Objects.requireNonNull(b.outputMap, "outputMap of " + stepName);
    this.windowingStrategy = Objects.requireNonNull(b.windowingStrategy, "windowingStrategy of " + stepName);
    this.keyCoder = b.keyCoder;
    this.keySelector = b.keySelector;
  }

  static <InputT, OutputT> Builder<InputT, OutputT> builder() {
    return new Builder<>();
  }

  /** Every {@code set*} is required except the main output tag, the key coder and key selector. */
  static final class Builder<InputT, OutputT> {
    private String stepName;
    private Coder<WindowedValue<InputT>> windowedInputCoder;
    private Map<TupleTag<?>, Coder<?>> outputCoders;
    private @Nullable TupleTag<OutputT> mainOutputTag;
    private List<TupleTag<?>> additionalOutputTags;
    private DoFnOperator.MultiOutputOutputManagerFactory<OutputT> outputManagerFactory;
    private Map<Integer, PCollectionView<?>> sideInputTagMapping;
    private Collection<PCollectionView<?>> sideInputs;
    private Map<RunnerApi.ExecutableStagePayload.SideInputId, PCollectionView<?>> sideInputIds;
    private PipelineOptions options;
    private RunnerApi.ExecutableStagePayload payload;
    private JobInfo jobInfo;
    private FlinkExecutableStageContextFactory contextFactory;
    private Map<String, TupleTag<?>> outputMap;
    private WindowingStrategy<?, ?> windowingStrategy;
    private @Nullable Coder<?> keyCoder;
    private @Nullable KeySelector<WindowedValue<InputT>, ?> keySelector;

    private Builder() {}

    Builder<InputT, OutputT> setStepName(String stepName) {
      this.stepName = stepName;
      return this;
    }

    Builder<InputT, OutputT> setWindowedInputCoder(Coder<WindowedValue<InputT>> coder) {
      this.windowedInputCoder = coder;
      return this;
    }

    Builder<InputT, OutputT> setOutputCoders(Map<TupleTag<?>, Coder<?>> coders) {
      this.outputCoders = coders;
      return this;
    }

    Builder<InputT, OutputT> setMainOutputTag(@Nullable TupleTag<OutputT> tag) {
      this.mainOutputTag = tag;
      return this;
    }

    Builder<InputT, OutputT> setAdditionalOutputTags(List<TupleTag<?>> tags) {
      this.additionalOutputTags = tags;
      return this;
    }

    Builder<InputT, OutputT> setOutputManagerFactory(DoFnOperator.MultiOutputOutputManagerFactory<OutputT> factory) {
      this.outputManagerFactory = factory;
      return this;
    }

    /** The side inputs by union tag, all of them, and by id (as {@link SideInputMaterializer} gives them). */
    Builder<InputT, OutputT> setSideInputs(
        Map<Integer, PCollectionView<?>> byUnionTag,
        Collection<PCollectionView<?>> views,
        Map<RunnerApi.ExecutableStagePayload.SideInputId, PCollectionView<?>> byId) {
      this.sideInputTagMapping = byUnionTag;
      this.sideInputs = views;
      this.sideInputIds = byId;
      return this;
    }

    Builder<InputT, OutputT> setOptions(PipelineOptions options) {
      this.options = options;
      return this;
    }

    Builder<InputT, OutputT> setPayload(RunnerApi.ExecutableStagePayload payload) {
      this.payload = payload;
      return this;
    }

    Builder<InputT, OutputT> setJobInfo(JobInfo jobInfo) {
      this.jobInfo = jobInfo;
      return this;
    }

    Builder<InputT, OutputT> setContextFactory(FlinkExecutableStageContextFactory factory) {
      this.contextFactory = factory;
      return this;
    }

    Builder<InputT, OutputT> setOutputMap(Map<String, TupleTag<?>> outputMap) {
      this.outputMap = outputMap;
      return this;
    }

    Builder<InputT, OutputT> setWindowingStrategy(WindowingStrategy<?, ?> strategy) {
      this.windowingStrategy = strategy;
      return this;
    }

    /** For a stage that runs keyed; both null (the default) otherwise. */
    Builder<InputT, OutputT> setKey(@Nullable Coder<?> coder, @Nullable KeySelector<WindowedValue<InputT>, ?> selector) {
      this.keyCoder = coder;
      this.keySelector = selector;
      return this;
    }

    StageOperatorArgs<InputT, OutputT> build() {
      return new StageOperatorArgs<>(this);
    }
  }
}
