package io.ainative.runner.translation;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.locks.Lock;
import org.apache.beam.runners.core.DoFnRunner;
import org.apache.beam.runners.core.LateDataUtils;
import org.apache.beam.runners.core.StateNamespaces;
import org.apache.beam.runners.core.TimerInternals;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.state.TimeDomain;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.beam.sdk.values.WindowingStrategy;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.runtime.state.KeyedStateBackend;
import org.joda.time.Instant;

/**
 * Drives {@code @OnWindowExpiration} for the SDK harness: for each element, sets an event-time timer
 * in the ParDo's window-expiration timer family for the element's key and window, at the window's
 * garbage-collection time, with the window's end as output timestamp.
 *
 * <p>In the Fn API the runner owns this timer: the SDK declares the family in the ParDo's payload
 * ({@code on_window_expiration_timer_family_spec}) and calls the DoFn's {@code @OnWindowExpiration}
 * method when a timer of that family arrives; it never sets one itself. The timer fires through
 * Beam's operator like any user timer, one millisecond before Beam's state-cleanup timer for the same
 * window, so the callback still reads the window's state. Setting the same timer again replaces it.
 *
 * <p>Threading: the task thread; sets timers holding the state-backend lock.
 */
final class WindowExpirationRunner<InputT, OutputT> implements DoFnRunner<InputT, OutputT> {

  private final DoFnRunner<InputT, OutputT> delegate;
  private final List<String> timerFamilies;
  private final KeySelector<WindowedValue<InputT>, ByteBuffer> keySelector;
  private final KeyedStateBackend<ByteBuffer> backend;
  private final Lock lock;
  private final TimerInternals timerInternals;
  private final WindowingStrategy<?, ?> windowingStrategy;
  private final Coder<BoundedWindow> windowCoder;

  /**
   * @param timerFamilies the window-expiration timer families, each encoded with its transform as
   *     Beam's operator expects in a timer's family id
   */
  @SuppressWarnings("unchecked")
  WindowExpirationRunner(
      DoFnRunner<InputT, OutputT> delegate,
      List<String> timerFamilies,
      KeySelector<WindowedValue<InputT>, ByteBuffer> keySelector,
      KeyedStateBackend<ByteBuffer> backend,
      Lock lock,
      TimerInternals timerInternals,
      WindowingStrategy<?, ?> windowingStrategy) {
    this.delegate = delegate;
    this.timerFamilies = timerFamilies;
    this.keySelector = keySelector;
    this.backend = backend;
    this.lock = lock;
    this.timerInternals = timerInternals;
    this.windowingStrategy = windowingStrategy;
    this.windowCoder = (Coder<BoundedWindow>) windowingStrategy.getWindowFn().windowCoder();
  }

  @Override
  public void startBundle() {
    delegate.startBundle();
  }

  @Override
  public void processElement(WindowedValue<InputT> element) {
    ByteBuffer key;
    try {
      key = keySelector.getKey(element);
    } catch (Exception e) {
      throw new IllegalStateException("Cannot key element " + element, e);
    }
    Instant watermark = timerInternals.currentInputWatermarkTime();
    lock.lock();
    try {
      backend.setCurrentKey(key);
      for (BoundedWindow window : element.getWindows()) {
        Instant expiry = LateDataUtils.garbageCollectionTime(window, windowingStrategy);
        if (expiry.isBefore(watermark)) {
          continue; // an expired window: Beam's stateful runner drops the element
        }
        for (String family : timerFamilies) {
          timerInternals.setTimer(
              TimerInternals.TimerData.of(
                  "", family, StateNamespaces.window(windowCoder, window), expiry, window.maxTimestamp(), TimeDomain.EVENT_TIME));
        }
      }
    } finally {
      lock.unlock();
    }
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
    delegate.onTimer(timerId, timerFamilyId, key, window, timestamp, outputTimestamp, timeDomain);
  }

  @Override
  public void finishBundle() {
    delegate.finishBundle();
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
