package io.ainative.runner;

import io.ainative.runner.internal.FlinkEnvironmentFactory;
import io.ainative.runner.internal.JobLauncher;
import io.ainative.runner.internal.MetricsPushing;
import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import java.util.UUID;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.runners.fnexecution.provisioning.JobInfo;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineRunner;
import org.apache.beam.sdk.metrics.MetricsEnvironment;
import org.apache.beam.sdk.metrics.MetricsOptions;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
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
    FlinkEnvironmentFactory.validate(flinkOptions);
    return new AiNativeFlinkRunner(flinkOptions);
  }

  /**
   * Parses command-line arguments into the runner's options, as {@code
   * PipelineOptionsFactory.fromArgs(args).withValidation()} does, but a value of the wrong type is
   * reported with the option's name (Beam's own message names only the type). Without {@code
   * --runner} the runner is {@code AiNativeFlinkRunner}.
   *
   * @throws IllegalArgumentException naming the option and the value it could not read
   */
  public static AiNativeFlinkPipelineOptions parseOptions(String... args) {
    return parseOptions(AiNativeFlinkPipelineOptions.class, args);
  }

  /**
   * As {@link #parseOptions(String...)}, into a pipeline's own options interface that extends the
   * runner's.
   */
  public static <T extends AiNativeFlinkPipelineOptions> T parseOptions(Class<T> type, String... args) {
    PipelineOptionsFactory.register(type);
    boolean hasRunner = java.util.Arrays.stream(args).anyMatch(a -> a.startsWith("--runner="));
    String[] withRunner = args;
    if (!hasRunner) {
      withRunner = java.util.Arrays.copyOf(args, args.length + 1);
      withRunner[args.length] = "--runner=" + AiNativeFlinkRunner.class.getSimpleName();
    }
    try {
      return PipelineOptionsFactory.fromArgs(withRunner).withValidation().as(type);
    } catch (IllegalArgumentException e) {
      for (String arg : args) {
        try {
          PipelineOptionsFactory.fromArgs(arg).as(type);
        } catch (IllegalArgumentException single) {
          throw new IllegalArgumentException(describeBadArgument(type, arg) + " " + e.getMessage(), e);
        }
      }
      throw e;
    }
  }

  private static String describeBadArgument(Class<?> type, String arg) {
    int eq = arg.indexOf('=');
    if (!arg.startsWith("--") || eq < 0) {
      return "Invalid argument '" + arg + "'.";
    }
    String name = arg.substring(2, eq);
    String valueType = "value";
    String property = name.isEmpty() ? name : Character.toUpperCase(name.charAt(0)) + name.substring(1);
    for (java.lang.reflect.Method method : type.getMethods()) {
      if (method.getParameterCount() == 0
          && (method.getName().equals("get" + property) || method.getName().equals("is" + property))) {
        valueType = method.getReturnType().getSimpleName();
      }
    }
    return String.format("Invalid value '%s' for --%s (a %s).", arg.substring(eq + 1), name, valueType);
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
    MetricsPushing metricsPushing = MetricsPushing.forOptions(options.as(MetricsOptions.class));
    JobClient client;
    try {
      client = new JobLauncher().submit(proto, jobInfo, options);
    } catch (IllegalArgumentException | UnsupportedOperationException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("Submitting job " + jobName + " to Flink failed: " + e.getMessage(), e);
    }
    LOG.info("Submitted job {} as Flink job {} to {}", jobName, client.getJobID(), options.getFlinkMaster());
    AiNativePipelineResult result = new AiNativePipelineResult(client, io.ainative.runner.translation.service.RpcServices.serviceClients(proto));
    if (metricsPushing != null) {
      metricsPushing.start(result, result.getJobId(), result.ended());
    }
    return result;
  }
}
