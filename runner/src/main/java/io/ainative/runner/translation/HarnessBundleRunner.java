package io.ainative.runner.translation;

import java.nio.ByteBuffer;
import org.apache.beam.runners.core.DoFnRunner;
import org.apache.beam.sdk.state.TimeDomain;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.flink.api.java.functions.KeySelector;
import org.joda.time.Instant;

/**
 * Lets the operator cut the SDK harness's bundles inside its own: a harness bundle starts with the
 * first element or timer after the previous one finished, and the operator can finish it early.
 *
 * <ul>
 *   <li><b>One key per bundle</b> ({@code keyScoped}): Beam 2.62's Java SDK harness sends its map
 *       and set state requests without the user key, so the runner can tell which key such a request
 *       is for only when the bundle has one key. A bundle is finished before the first element or
 *       timer of another key.
 *   <li><b>Cuts</b> ({@link #cut}): a window-expiration timer must reach the DoFn after the timers
 *       that fired before it; within one bundle the harness may take timers of different families in
 *       any order, so the operator finishes the bundle before and after such a timer.
 * </ul>
 *
 * <p>Finishing a harness bundle waits for its results and emits them, so the order of outputs is
 * kept. The operator's own bundle (started and finished by Beam's operator) is unchanged.
 *
 * <p>Threading: the task thread only. {@link #enter} and {@link #cut} must not be called while
 * holding the state-backend lock: finishing a bundle waits for the harness, whose state requests
 * take that lock.
 */
final class HarnessBundleRunner<InputT, OutputT> implements DoFnRunner<InputT, OutputT> {

  private final DoFnRunner<InputT, OutputT> delegate;
  private final KeySelector<WindowedValue<InputT>, ByteBuffer> keySelector;
  private final boolean keyScoped;
  private final Runnable afterBundle;
  private boolean inProgress;
  /** The key of the harness bundle in progress when key-scoped, else null; read on gRPC threads. */
  private volatile ByteBuffer bundleKey;

  /** @param afterBundle runs on the task thread after each harness bundle finished, without the state lock */
  HarnessBundleRunner(
      DoFnRunner<InputT, OutputT> delegate,
      KeySelector<WindowedValue<InputT>, ByteBuffer> keySelector,
      boolean keyScoped,
      Runnable afterBundle) {
    this.delegate = delegate;
    this.keySelector = keySelector;
    this.keyScoped = keyScoped;
    this.afterBundle = afterBundle;
  }

  /** The key of the harness bundle in progress if bundles are scoped to one key, else null. */
  ByteBuffer bundleKey() {
    return bundleKey;
  }

  /**
   * Makes sure a harness bundle that may take {@code key} is in progress: when key-scoped, finishes
   * one of another key first.
   */
  void enter(ByteBuffer key) {
    if (inProgress && keyScoped && !key.equals(bundleKey)) {
      cut();
    }
    if (!inProgress) {
      bundleKey = keyScoped ? key : null;
      delegate.startBundle();
      inProgress = true;
    }
  }

  /** Finishes the harness bundle in progress, if any; the next element or timer starts another. */
  void cut() {
    if (!inProgress) {
      return;
    }
    try {
      delegate.finishBundle();
    } finally {
      inProgress = false;
      bundleKey = null;
    }
    afterBundle.run();
  }

  @Override
  public void startBundle() {
    // A harness bundle starts with its first element or timer (enter).
  }

  @Override
  public void processElement(WindowedValue<InputT> element) {
    ByteBuffer key;
    try {
      key = keySelector.getKey(element);
    } catch (Exception e) {
      throw new IllegalStateException("Cannot key element " + element, e);
    }
    enter(key);
    delegate.processElement(element);
  }

  @Override
  public <KeyT> void onTimer(
      String timerId,
      String timerFamilyId,
      KeyT key,
      BoundedWindow window,
      Instant timestamp,
      Instant outputTimestamp,
      TimeDomain timeDomain) {
    if (!inProgress) {
      // The operator enters a timer's key before it takes the state lock to fire it.
      throw new IllegalStateException("Timer '" + timerId + "' of family '" + timerFamilyId + "' fired outside of a harness bundle");
    }
    delegate.onTimer(timerId, timerFamilyId, key, window, timestamp, outputTimestamp, timeDomain);
  }

  @Override
  public void finishBundle() {
    cut();
  }

  @Override
  public <KeyT> void onWindowExpiration(BoundedWindow window, Instant timestamp, KeyT key) {
    delegate.onWindowExpiration(window, timestamp, key);
  }

  @Override
  public DoFn<InputT, OutputT> getFn() {
    return delegate.getFn();
  }
}
