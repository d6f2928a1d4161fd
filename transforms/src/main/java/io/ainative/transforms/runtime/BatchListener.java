package io.ainative.transforms.runtime;

import org.apache.beam.sdk.annotations.Internal;

/** Told about every model call an {@link InferenceSession} makes; called on the session's thread. */
@Internal
@FunctionalInterface
public interface BatchListener {
  /**
   * @param batchSize elements in the call
   * @param latencyMicros batching, forward pass and un-batching
   * @param succeeded false when the call threw (its elements are then split or retried)
   */
  void onModelCall(int batchSize, long latencyMicros, boolean succeeded);

  BatchListener NONE = (size, micros, ok) -> {};
}
