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
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(AbstractStageOperator.class);
  /** How long closing a stage waits for the harness to run the finalizations sent last. */
  private static final java.time.Duration FINALIZATION_WAIT = java.time.Duration.ofSeconds(30);

  /** The output tag of each output PCollection of the stage (Beam keeps its copy private). */
  private final Map<String, TupleTag<?>> outputTags;
  private final JobInfo job;
  /** This stage's bundle finalizations, run per completed checkpoint. */
  private transient CheckpointFinalizations finalizations;

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
    finalizations = new CheckpointFinalizations(stepName);
    super.open();
    CheckpointHook.install(this, stepName, finalizations);
  }

  /** In a job without checkpoints, finalizes the stage's bundles once all its output is out. */
  @Override
  public void finish() throws Exception {
    super.finish();
    if (!getOperatorConfig().isCheckpointingEnabled()) {
      finalizations.finishWithoutCheckpoints();
    }
  }

  @Override
  public void close() throws Exception {
    try {
      if (finalizations != null && !finalizations.awaitSent(FINALIZATION_WAIT)) {
        LOG.warn("Stage {}: the SDK harness did not confirm every bundle finalization within {}", stepName, FINALIZATION_WAIT);
      }
    } finally {
      super.close();
    }
  }

  /** Reads the stage's bundle outputs; call from {@code createWrappingDoFnRunner}, before Beam's. */
  final void installOutputReading() {
    OutputReadingBundleFactory.install(
        this,
        stepName,
        OutputReadingBundleFactory.emitter(outputTags, () -> outputManager),
        SpillDirectories.of(this),
        finalizations);
  }
}
