package io.ainative.runner.translation;

import java.util.Map;
import org.apache.beam.runners.flink.translation.wrappers.streaming.ExecutableStageDoFnOperator;
import org.apache.beam.runners.fnexecution.provisioning.JobInfo;
import org.apache.beam.sdk.values.TupleTag;

/**
 * Beam's {@link ExecutableStageDoFnOperator} as the runner builds it for every stage: constructed
 * from one {@link StageOperatorArgs}, its job's embedded stage context registered before Beam's
 * {@code open}, and its bundle outputs read by {@link OutputReadingBundleFactory}.
 */
abstract class AbstractStageOperator<InputT, OutputT> extends ExecutableStageDoFnOperator<InputT, OutputT> {
  private static final long serialVersionUID = 1L;

  /** The output tag of each output PCollection of the stage (Beam keeps its copy private). */
  private final Map<String, TupleTag<?>> outputTags;
  private final JobInfo job;

  AbstractStageOperator(StageOperatorArgs<InputT, OutputT> args) {
    super(
        args.stepName,
        args.windowedInputCoder,
        args.outputCoders,
        args.mainOutputTag,
        args.additionalOutputTags,
        args.outputManagerFactory,
        args.sideInputTagMapping,
        args.sideInputs,
        args.sideInputIds,
        args.options,
        args.payload,
        args.jobInfo,
        args.contextFactory,
        args.outputMap,
        args.windowingStrategy,
        args.keyCoder,
        args.keySelector);
    this.outputTags = Map.copyOf(args.outputMap);
    this.job = args.jobInfo;
  }

  @Override
  public void open() throws Exception {
    EmbeddedStageContexts.register(job);
    super.open();
  }

  /** Reads the stage's bundle outputs; call from {@code createWrappingDoFnRunner}, before Beam's. */
  final void installOutputReading() {
    OutputReadingBundleFactory.install(
        this, stepName, OutputReadingBundleFactory.emitter(outputTags, () -> outputManager), SpillDirectories.of(this));
  }
}
