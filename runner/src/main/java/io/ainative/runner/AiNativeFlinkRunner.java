package io.ainative.runner;

import io.ainative.runner.internal.FlinkMaster;
import io.ainative.runner.internal.JobLauncher;
import java.util.UUID;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.runners.fnexecution.provisioning.JobInfo;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineRunner;
import org.apache.beam.sdk.metrics.MetricsEnvironment;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsValidator;
import org.apache.beam.sdk.options.PortablePipelineOptions;
import org.apache.beam.sdk.util.construction.Environments;
import org.apache.beam.sdk.util.construction.PipelineOptionsTranslation;
import org.apache.beam.sdk.util.construction.PipelineTranslation;
import org.apache.beam.sdk.util.construction.SdkComponents;
import org.apache.flink.core.execution.JobClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs Beam pipelines on Apache Flink through Beam's portable representation, so that Java and
 * (through the job server) Python pipelines take one path, and inference stages can become
 * services of their own.
 *
 * <p>{@link #run} turns the pipeline into the portable proto (default environment {@code
 * EMBEDDED}: the Java SDK harness in this process, or in each TaskManager), fuses it, checks
 * that every transform is implemented, translates it with Beam's streaming portable translator
 * onto an environment this runner creates, and submits it. It returns once Flink accepted the
 * job; {@link AiNativePipelineResult#waitUntilFinish()} waits for the end. Bounded pipelines run
 * in Flink's streaming mode and finish by themselves (see the runner README for why).
 *
 * <p>Use {@code --runner=AiNativeFlinkRunner}; see {@link AiNativeFlinkPipelineOptions}.
 */
public class AiNativeFlinkRunner extends PipelineRunner<AiNativePipelineResult> {

  private static final Logger LOG = LoggerFactory.getLogger(AiNativeFlinkRunner.class);

  private final AiNativeFlinkPipelineOptions options;

  protected AiNativeFlinkRunner(AiNativeFlinkPipelineOptions options) {
    this.options = options;
  }

  /**
   * Creates the runner, validating the options that can be checked without a cluster.
   *
   * @throws IllegalArgumentException naming the option that is invalid
   */
  public static AiNativeFlinkRunner fromOptions(PipelineOptions options) {
    AiNativeFlinkPipelineOptions flinkOptions =
        PipelineOptionsValidator.validate(AiNativeFlinkPipelineOptions.class, options);
    FlinkMaster.parse(flinkOptions.getFlinkMaster());
    Integer parallelism = flinkOptions.getParallelism();
    if (parallelism != null && parallelism != -1 && parallelism < 1) {
      throw new IllegalArgumentException(
          "Invalid --parallelism=" + parallelism + ": use a positive number, or leave it unset.");
    }
    if (flinkOptions.getLocalTaskSlots() < 0) {
      throw new IllegalArgumentException(
          "Invalid --localTaskSlots=" + flinkOptions.getLocalTaskSlots() + ": use 0 (sized for the pipeline) or a positive number.");
    }
    return new AiNativeFlinkRunner(flinkOptions);
  }

  /** The options this runner was created with (the same object the pipeline carries). */
  public AiNativeFlinkPipelineOptions getPipelineOptions() {
    return options;
  }

  @Override
  public AiNativePipelineResult run(Pipeline pipeline) {
    // Metrics travel from the SDK harness to Flink accumulators to the result, so PAssert's
    // success counters can be checked by TestPipeline.
    MetricsEnvironment.setMetricsSupported(true);
    PortablePipelineOptions portable = options.as(PortablePipelineOptions.class);
    if (portable.getDefaultEnvironmentType() == null || portable.getDefaultEnvironmentType().isEmpty()) {
      portable.setDefaultEnvironmentType(Environments.ENVIRONMENT_EMBEDDED);
    }
    RunnerApi.Pipeline proto = PipelineTranslation.toProto(pipeline, SdkComponents.create(options));
    return runPortable(proto);
  }

  /** Submits a pipeline that is already in its portable form. */
  AiNativePipelineResult runPortable(RunnerApi.Pipeline proto) {
    String jobName = options.getJobName();
    JobInfo jobInfo =
        JobInfo.create(
            jobName + "-" + UUID.randomUUID(),
            jobName,
            "",
            PipelineOptionsTranslation.toProto(options));
    JobClient client;
    try {
      client = new JobLauncher().submit(proto, jobInfo, options);
    } catch (IllegalArgumentException | UnsupportedOperationException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("Submitting job " + jobName + " to Flink failed: " + e.getMessage(), e);
    }
    LOG.info("Submitted job {} as Flink job {} to {}", jobName, client.getJobID(), options.getFlinkMaster());
    return new AiNativePipelineResult(client);
  }
}
