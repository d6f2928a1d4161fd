package io.ainative.runner.internal;

import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.beam.runners.core.metrics.NoOpMetricsSink;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.beam.sdk.metrics.MetricQueryResults;
import org.apache.beam.sdk.metrics.MetricsOptions;
import org.apache.beam.sdk.metrics.MetricsSink;
import org.apache.beam.sdk.util.InstanceBuilder;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pushes a running job's metrics to the user's {@link MetricsSink} ({@code --metricsSink}) every
 * {@code --metricsPushPeriod} seconds, and once more when the job has ended, so the sink always
 * sees the final values.
 *
 * <p>What is pushed is {@link PipelineResult#metrics()}: attempted values keyed by the
 * user's step and metric names, as a query on the result would see them. (Beam's own {@code
 * MetricsPusher} pushes the accumulator as it is, keyed by fused stage, where a query for the
 * user's step name finds nothing.) A failing sink is logged and retried at the next period; it
 * never affects the job.
 */
@Internal
public final class MetricsPushing {
  private static final Logger LOG = LoggerFactory.getLogger(MetricsPushing.class);

  private final MetricsSink sink;
  private final long periodSeconds;

  private MetricsPushing(MetricsSink sink, long periodSeconds) {
    this.sink = sink;
    this.periodSeconds = periodSeconds;
  }

  /**
   * The pusher the options ask for: null when they name no sink (or {@link NoOpMetricsSink}). Call
   * it before submitting the job, so a sink that cannot be built fails the submission, not a job
   * already running.
   *
   * @throws IllegalArgumentException if the sink class cannot be built with a {@link
   *     MetricsOptions} constructor argument
   */
  public static @Nullable MetricsPushing forOptions(MetricsOptions options) {
    Class<? extends MetricsSink> sinkClass = options.getMetricsSink();
    if (sinkClass == null || NoOpMetricsSink.class.equals(sinkClass)) {
      return null;
    }
    try {
      MetricsSink sink = InstanceBuilder.ofType(MetricsSink.class).fromClass(sinkClass).withArg(MetricsOptions.class, options).build();
      return new MetricsPushing(sink, Math.max(1, options.getMetricsPushPeriod()));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "--metricsSink=" + sinkClass.getName() + " cannot be created: it needs a public constructor taking MetricsOptions",
          e);
    }
  }

  /**
   * Pushes the metrics of {@code result} (Flink job {@code jobId}) every period, and once after
   * {@code ended} completes. The pushing thread is a daemon and stops with that last push.
   */
  public void start(PipelineResult result, Object jobId, CompletionStage<Void> ended) {
    ScheduledExecutorService scheduler =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "ainative-metrics-pusher-" + jobId);
              t.setDaemon(true);
              return t;
            });
    scheduler.scheduleAtFixedRate(() -> push(sink, result, jobId), periodSeconds, periodSeconds, TimeUnit.SECONDS);
    ended.thenRun(
        () -> {
          scheduler.shutdownNow();
          push(sink, result, jobId);
        });
  }

  private static void push(MetricsSink sink, PipelineResult result, Object jobId) {
    try {
      MetricQueryResults metrics = result.metrics().allMetrics();
      if (metrics.getCounters().iterator().hasNext()
          || metrics.getDistributions().iterator().hasNext()
          || metrics.getGauges().iterator().hasNext()
          || metrics.getStringSets().iterator().hasNext()) {
        sink.writeMetrics(metrics);
      }
    } catch (Exception e) {
      LOG.warn("Pushing the metrics of Flink job {} to {} failed; trying again at the next period", jobId, sink.getClass().getName(), e);
    }
  }
}
