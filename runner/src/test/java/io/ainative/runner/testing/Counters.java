package io.ainative.runner.testing;

import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;

/** Reads counters from a finished pipeline's result. */
public final class Counters {
  private Counters() {}

  /** The attempted value of counter {@code namespace:name}, summed over every step (0 when absent). */
  public static long sum(PipelineResult result, String namespace, String name) {
    long sum = 0;
    for (MetricResult<Long> c :
        result.metrics()
            .queryMetrics(MetricsFilter.builder().addNameFilter(MetricNameFilter.named(namespace, name)).build())
            .getCounters()) {
      sum += c.getAttempted();
    }
    return sum;
  }
}
