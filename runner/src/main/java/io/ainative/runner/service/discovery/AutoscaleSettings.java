package io.ainative.runner.service.discovery;

import java.io.Serializable;

/**
 * How a service scales itself by load: between {@code minInstances} and the service's {@code
 * maxInstances}, aiming at {@code targetOngoing} elements held (queued or running) per active
 * instance, up only after the load has asked for more for {@code upscaleDelayMillis}, down only
 * after it has asked for fewer for {@code downscaleDelayMillis}. Immutable.
 */
public final class AutoscaleSettings implements Serializable {
  private static final long serialVersionUID = 1L;

  private final int minInstances;
  private final double targetOngoing;
  private final long upscaleDelayMillis;
  private final long downscaleDelayMillis;

  /**
   * @throws IllegalArgumentException naming the pipeline option whose value is out of range
   */
  public AutoscaleSettings(int minInstances, int maxInstances, double targetOngoing, long upscaleDelayMillis, long downscaleDelayMillis) {
    if (!(targetOngoing > 0)) {
      throw new IllegalArgumentException("--inferenceAutoscaleTargetOngoing must be above 0 to scale by load, got " + targetOngoing);
    }
    if (minInstances < 1) {
      throw new IllegalArgumentException(
          "--inferenceAutoscaleMinInstances must be at least 1 (scaling to zero is not supported), got " + minInstances);
    }
    if (minInstances > maxInstances) {
      throw new IllegalArgumentException(
          "--inferenceAutoscaleMinInstances (" + minInstances + ") is above the service's maxInstances (" + maxInstances
              + "; --maxInferenceInstances reserves more)");
    }
    if (upscaleDelayMillis < 0) {
      throw new IllegalArgumentException("--inferenceAutoscaleUpscaleDelayMillis must not be negative, got " + upscaleDelayMillis);
    }
    if (downscaleDelayMillis < 0) {
      throw new IllegalArgumentException("--inferenceAutoscaleDownscaleDelayMillis must not be negative, got " + downscaleDelayMillis);
    }
    this.minInstances = minInstances;
    this.targetOngoing = targetOngoing;
    this.upscaleDelayMillis = upscaleDelayMillis;
    this.downscaleDelayMillis = downscaleDelayMillis;
  }

  public int minInstances() {
    return minInstances;
  }

  public double targetOngoing() {
    return targetOngoing;
  }

  public long upscaleDelayMillis() {
    return upscaleDelayMillis;
  }

  public long downscaleDelayMillis() {
    return downscaleDelayMillis;
  }

  @Override
  public String toString() {
    return "autoscale(min " + minInstances + ", target " + targetOngoing + " ongoing per instance, up after "
        + upscaleDelayMillis + " ms, down after " + downscaleDelayMillis + " ms)";
  }
}
