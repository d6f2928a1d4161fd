package io.ainative.runner.internal;

import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import io.ainative.runner.translation.NativeTranslators;
import java.util.HashSet;
import java.util.Set;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.runners.flink.FlinkStreamingPortablePipelineTranslator.StreamingTranslationContext;
import org.apache.beam.runners.flink.FlinkStreamingPortablePipelineTranslator;
import org.apache.beam.runners.fnexecution.provisioning.JobInfo;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.beam.sdk.util.construction.PTransformTranslation;
import org.apache.beam.sdk.util.construction.graph.GreedyPipelineFuser;
import org.apache.beam.sdk.util.construction.graph.ProtoOverrides;
import org.apache.beam.sdk.util.construction.graph.SplittableParDoExpander;
import org.apache.beam.sdk.util.construction.graph.TrivialNativeTransformExpander;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Takes a portable pipeline (from a Java pipeline or, later, from the job server) to a submitted
 * Flink job: fuse, check, create the environment, translate, submit. One path for every SDK.
 *
 * <p>Runs on the caller's thread and blocks until Flink accepted the job (not until it ends).
 */
@Internal
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
   * Expands and fuses the pipeline as Beam's {@code FlinkPortablePipelineTranslator
   * #prepareForTranslation} does, with the runner's rewrites first and its checks in between.
   */
  RunnerApi.Pipeline prepare(RunnerApi.Pipeline pipeline, String jobName) {
    RunnerApi.Pipeline expanded;
    RunnerApi.Pipeline fused;
    try {
      // Served stages leave the data DAG first: their contents must not be fused with it.
      RunnerApi.Pipeline served = io.ainative.runner.translation.service.ServedStages.rewrite(pipeline);
      RunnerApi.Pipeline rewritten = ProtoRewrites.runnerExecutedFlattens(CombinerLifting.lift(served));
      // Expand splittable ParDos so bundles can be sized and split.
      RunnerApi.Pipeline sdfExpanded =
          ProtoOverrides.updateTransform(
              PTransformTranslation.PAR_DO_TRANSFORM_URN, rewritten, SplittableParDoExpander.createSizedReplacement());
      // Keep the fuser out of the inside of transforms the runner translates whole.
      expanded = TrivialNativeTransformExpander.forKnownUrns(sdfExpanded, translator.knownUrns());
      supported.checkLeaves(expanded);
      fused = GreedyPipelineFuser.fuse(expanded).toPipeline();
    } catch (UnsupportedOperationException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new IllegalStateException("Fusing the pipeline of job " + jobName + " failed: " + e.getMessage(), e);
    }
    supported.checkNothingDropped(expanded, fused);
    return ProtoRewrites.ownExecutableStages(fused);
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
    return submit(pipeline, jobInfo, options, 0, env -> {});
  }

  /**
   * Submits the pipeline with {@code extraLocalSlots} more slots on an embedded cluster and
   * whatever {@code afterTranslation} adds to the environment (sub-graphs disconnected from the
   * pipeline, such as inference services).
   */
  JobClient submit(
      RunnerApi.Pipeline pipeline,
      JobInfo jobInfo,
      AiNativeFlinkPipelineOptions options,
      int extraLocalSlots,
      java.util.function.Consumer<StreamExecutionEnvironment> afterTranslation)
      throws Exception {
    FlinkMaster master = FlinkMaster.parse(options.getFlinkMaster());
    RunnerApi.Pipeline fused = prepare(pipeline, jobInfo.jobName());

    // Each task an inference service reserves takes a slot of its own (its own slot-sharing
    // group), parked or not; so does each served-stage instance.
    int serviceSlots =
        io.ainative.runner.translation.service.RpcServices.slotsNeeded(fused, options) + io.ainative.runner.translation.service.ServedStages.slotsNeeded(fused);
    StreamExecutionEnvironment env = FlinkEnvironmentFactory.create(options, master, extraLocalSlots + serviceSlots);
    StreamingTranslationContext context = translator.createTranslationContext(jobInfo, options, env);
    translator.translate(context, fused);
    afterTranslation.accept(env);
    return env.executeAsync(options.getJobName());
  }
}
