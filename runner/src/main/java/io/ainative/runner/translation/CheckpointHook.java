package io.ainative.runner.translation;

import java.lang.reflect.Field;
import org.apache.beam.runners.flink.translation.utils.CheckpointStats;
import org.apache.beam.runners.flink.translation.wrappers.streaming.DoFnOperator;

/**
 * Tells a stage's {@link CheckpointFinalizations} when a snapshot starts and which checkpoint
 * completed, with the checkpoint's id.
 *
 * <p>Why this shape: Beam's operator declares {@code snapshotState} and (for executable stages)
 * {@code notifyCheckpointComplete} final, and the only thing either calls with the checkpoint's id
 * is the operator's {@link CheckpointStats}. So the hook is a {@code CheckpointStats} set into
 * Beam's field, keeping the one Beam made (checkpoint durations, {@code
 * --reportCheckpointDuration}) as its delegate.
 */
final class CheckpointHook extends CheckpointStats {

  static final String FIELD = "checkpointStats";

  private final CheckpointStats delegate;
  private final CheckpointFinalizations finalizations;

  private CheckpointHook(CheckpointStats delegate, CheckpointFinalizations finalizations) {
    super(() -> {
      throw new IllegalStateException("CheckpointHook reports through its delegate");
    });
    this.delegate = delegate;
    this.finalizations = finalizations;
  }

  /** Sets the hook into {@code operator}, once Beam's {@code open} has made its own stats. */
  static void install(DoFnOperator<?, ?> operator, String stepName, CheckpointFinalizations finalizations) {
    try {
      Field field = DoFnOperator.class.getDeclaredField(FIELD);
      field.setAccessible(true);
      CheckpointStats current = (CheckpointStats) field.get(operator);
      if (!(current instanceof CheckpointHook)) {
        field.set(operator, new CheckpointHook(current, finalizations));
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new IllegalStateException(
          "Cannot install the runner's checkpoint hook into Beam's DoFnOperator (field '" + FIELD + "') for stage '"
              + stepName + "'",
          e);
    }
  }

  @Override
  public void snapshotStart(long checkpointId) {
    if (delegate != null) {
      delegate.snapshotStart(checkpointId);
    }
    finalizations.snapshotStarted(checkpointId);
  }

  @Override
  public void reportCheckpointDuration(long checkpointId) {
    if (delegate != null) {
      delegate.reportCheckpointDuration(checkpointId);
    }
    finalizations.checkpointCompleted(checkpointId);
  }
}
