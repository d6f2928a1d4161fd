package io.ainative.runner.translation.inprocess;

import org.apache.beam.sdk.util.WindowedValue;

/**
 * One transform of a stage that {@link JavaStageRunner} runs: it takes the elements of its input
 * in the SDK's form and hands its outputs to {@link Receiver}s. Called by the task thread only.
 */
abstract class StageNode {

  /** Where an element of a PCollection goes. */
  interface Receiver {
    void accept(WindowedValue<Object> value);
  }

  abstract void accept(WindowedValue<Object> value);

  void setup() {}

  void startBundle() {}

  /** Emits what the transform held back for the bundle. */
  void finishBundle() {}

  void teardown() {}
}
