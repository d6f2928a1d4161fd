package io.ainative.runner.jobserver;

import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import java.util.UUID;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.runners.fnexecution.provisioning.JobInfo;
import org.apache.beam.runners.jobsubmission.JobInvocation;
import org.apache.beam.runners.jobsubmission.JobInvoker;
import org.apache.beam.sdk.util.construction.PipelineOptionsTranslation;
import org.apache.beam.vendor.grpc.v1p60p1.com.google.protobuf.Struct;
import org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.util.concurrent.ListeningExecutorService;
import org.checkerframework.checker.nullness.qual.Nullable;

/** Turns a job the job service accepted into an invocation that runs it on Flink. */
final class AiNativeJobInvoker extends JobInvoker {

  private final AiNativeJobServer.Configuration configuration;

  AiNativeJobInvoker(AiNativeJobServer.Configuration configuration) {
    super("ainative-job-invoker-%d");
    this.configuration = configuration;
  }

  @Override
  protected JobInvocation invokeWithExecutor(
      RunnerApi.Pipeline pipeline,
      Struct pipelineOptions,
      @Nullable String retrievalToken,
      ListeningExecutorService executorService) {
    AiNativeFlinkPipelineOptions options =
        PipelineOptionsTranslation.fromProto(pipelineOptions).as(AiNativeFlinkPipelineOptions.class);
    String master = options.getFlinkMaster();
    if (master == null || master.trim().equalsIgnoreCase("[auto]")) {
      options.setFlinkMaster(configuration.getFlinkMaster());
    }
    if (options.getFlinkConfDir() == null && configuration.getFlinkConfDir() != null) {
      options.setFlinkConfDir(configuration.getFlinkConfDir());
    }
    // The SDK's runner (PortableRunner) means nothing on this side.
    options.setRunner(null);
    String invocationId = options.getJobName() + "_" + UUID.randomUUID();
    JobInfo jobInfo =
        JobInfo.create(
            invocationId,
            options.getJobName(),
            retrievalToken == null ? "" : retrievalToken,
            PipelineOptionsTranslation.toProto(options));
    return new JobInvocation(jobInfo, executorService, pipeline, new PortableJobRunner(options));
  }
}
