package io.ainative.runner.service.source;

import io.ainative.runner.service.discovery.AutoscaleSettings;

/**
 * Decides a service's instance count from its load: the elements its instances hold (queued or in
 * a running batch), divided by the target per instance, rounded up and kept between the minimum
 * and {@code maxInstances}. A change is made only once the load has asked for it without a break
 * for the up- or downscale delay, and not while instances are still loading or draining (their
 * load is not yet, or no longer, where it will be).
 *
 * <p>Not thread-safe: the enumerator calls it on the coordinator's thread.
 */
final class Autoscaler {
  private final AutoscaleSettings settings;
  private final int maxInstances;
  private long upSince = -1;
  private long downSince = -1;

  Autoscaler(AutoscaleSettings settings, int maxInstances) {
    this.settings = settings;
    this.maxInstances = maxInstances;
  }

  /** The count the load asks for, without delays. */
  int desired(long ongoing) {
    long wanted = (long) Math.ceil(ongoing / settings.targetOngoing());
    return (int) Math.max(settings.minInstances(), Math.min(maxInstances, wanted));
  }

  /**
   * Returns the instance count to run from now on: {@code active} unless the load has asked for
   * another for long enough.
   *
   * @param nowMillis a monotonic clock
   * @param active the instances wanted now
   * @param settled whether every wanted instance is ready and no unwanted one is draining
   * @param ongoing the elements the active instances hold
   */
  int decide(long nowMillis, int active, boolean settled, long ongoing) {
    if (!settled) {
      upSince = -1;
      downSince = -1;
      return active;
    }
    int desired = desired(ongoing);
    if (desired > active) {
      downSince = -1;
      if (upSince < 0) {
        upSince = nowMillis;
      }
      if (nowMillis - upSince >= settings.upscaleDelayMillis()) {
        upSince = -1;
        return desired;
      }
    } else if (desired < active) {
      upSince = -1;
      if (downSince < 0) {
        downSince = nowMillis;
      }
      if (nowMillis - downSince >= settings.downscaleDelayMillis()) {
        downSince = -1;
        return desired;
      }
    } else {
      upSince = -1;
      downSince = -1;
    }
    return active;
  }
}
