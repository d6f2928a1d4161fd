package io.ainative.runner.jobserver;

import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import io.ainative.runner.AiNativePipelineResult;
import io.ainative.runner.internal.FlinkEnvironmentFactory;
import io.ainative.runner.internal.JobLauncher;
import io.ainative.runner.internal.MetricsPushing;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.runners.fnexecution.provisioning.JobInfo;
import org.apache.beam.runners.jobsubmission.PortablePipelineResult;
import org.apache.beam.runners.jobsubmission.PortablePipelineRunner;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricsEnvironment;
import org.apache.beam.sdk.metrics.MetricsOptions;
import org.joda.time.Duration;

/**
 * Runs one job of the job service: submits it through the same {@link JobLauncher} as Java
 * pipelines and blocks until it ends, as the job service expects.
 *
 * <p>A failure is thrown, so the job service reports it to the SDK as the job's error message.
 * Cancellation arrives as an interrupt of this thread; the Flink job is then cancelled.
 */
final class PortableJobRunner implements PortablePipelineRunner {

  private final AiNativeFlinkPipelineOptions options;

  PortableJobRunner(AiNativeFlinkPipelineOptions options) {
    this.options = options;
  }

  @Override
  public PortablePipelineResult run(RunnerApi.Pipeline pipeline, JobInfo jobInfo) throws Exception {
    MetricsEnvironment.setMetricsSupported(true);
    FlinkEnvironmentFactory.validate(options);
    MetricsPushing metricsPushing = MetricsPushing.forOptions(options.as(MetricsOptions.class));
    AiNativePipelineResult result = new AiNativePipelineResult(new JobLauncher().submit(pipeline, jobInfo, options));
    if (metricsPushing != null) {
      metricsPushing.start(result, result.getJobId(), result.ended());
    }
    // Returns DONE or CANCELLED, throws for FAILED; null only when interrupted.
    PipelineResult.State state;
    try {
      state = result.waitUntilFinish(Duration.ZERO);
    } catch (RuntimeException e) {
      RuntimeException explained = EnvironmentFailures.explain(e, pipeline);
      throw explained != null ? explained : e;
    }
    if (state == null) {
      // Interrupted: the job service cancelled the invocation. Cancel the Flink job with the
      // interrupt flag cleared (a blocking wait would otherwise fail at once), then restore it.
      boolean interrupted = Thread.interrupted();
      try {
        result.cancel();
      } finally {
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
    }
    return result;
  }
}
