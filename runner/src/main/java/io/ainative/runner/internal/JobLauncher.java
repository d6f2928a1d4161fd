package io.ainative.runner.internal;

import io.ainative.runner.AiNativeFlinkPipelineOptions;
import io.ainative.runner.translation.NativeTranslators;
import java.util.HashSet;
import java.util.Set;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.runners.flink.FlinkStreamingPortablePipelineTranslator;
import org.apache.beam.runners.flink.FlinkStreamingPortablePipelineTranslator.StreamingTranslationContext;
import org.apache.beam.runners.fnexecution.provisioning.JobInfo;
import org.apache.beam.sdk.util.construction.PTransformTranslation;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Takes a portable pipeline (from a Java pipeline or, later, from the job server) to a submitted
 * Flink job: fuse, check, create the environment, translate, submit. One path for every SDK.
 *
 * <p>Runs on the caller's thread and blocks until Flink accepted the job (not until it ends).
 */
public final class JobLauncher {

  private final FlinkStreamingPortablePipelineTranslator translator;
  private final SupportedTransforms supported;

  public JobLauncher() {
    this.translator = new FlinkStreamingPortablePipelineTranslator(NativeTranslators.byUrn());
    Set<String> runnerUrns = new HashSet<>(translator.knownUrns());
    // Beam's translator handles the primitive (unbounded) Read too; it is left out of knownUrns()
    // only so that bounded Reads keep their SDF expansion.
    runnerUrns.add(PTransformTranslation.READ_TRANSFORM_URN);
    this.supported = new SupportedTransforms(runnerUrns);
  }

  /**
   * Submits the pipeline.
   *
   * @throws IllegalArgumentException for invalid options ({@code --flinkMaster}, ...), naming the
   *     option
   * @throws UnsupportedOperationException for transforms nothing here implements, naming them
   */
  public JobClient submit(RunnerApi.Pipeline pipeline, JobInfo jobInfo, AiNativeFlinkPipelineOptions options)
      throws Exception {
    FlinkMaster master = FlinkMaster.parse(options.getFlinkMaster());
    RunnerApi.Pipeline fused;
    try {
      fused = translator.prepareForTranslation(ProtoRewrites.runnerExecutedFlattens(pipeline));
    } catch (RuntimeException e) {
      throw new IllegalStateException("Fusing the pipeline of job " + jobInfo.jobName() + " failed: " + e.getMessage(), e);
    }
    supported.check(fused);

    StreamExecutionEnvironment env = FlinkEnvironmentFactory.create(options, master, 0);
    StreamingTranslationContext context = translator.createTranslationContext(jobInfo, options, env);
    translator.translate(context, fused);
    return env.executeAsync(options.getJobName());
  }
}
