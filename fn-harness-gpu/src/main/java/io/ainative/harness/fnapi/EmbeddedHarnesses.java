package io.ainative.harness.fnapi;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.model.pipeline.v1.RunnerApi.StandardEnvironments;
import org.apache.beam.runners.fnexecution.artifact.ArtifactRetrievalService;
import org.apache.beam.runners.fnexecution.control.ControlClientPool;
import org.apache.beam.runners.fnexecution.control.DefaultJobBundleFactory;
import org.apache.beam.runners.fnexecution.control.FnApiControlClientPoolService;
import org.apache.beam.runners.fnexecution.control.InstructionRequestHandler;
import org.apache.beam.runners.fnexecution.control.JobBundleFactory;
import org.apache.beam.runners.fnexecution.control.StageBundleFactory;
import org.apache.beam.runners.fnexecution.environment.DockerEnvironmentFactory;
import org.apache.beam.runners.fnexecution.environment.EnvironmentFactory;
import org.apache.beam.runners.fnexecution.environment.ExternalEnvironmentFactory;
import org.apache.beam.runners.fnexecution.environment.ProcessEnvironmentFactory;
import org.apache.beam.runners.fnexecution.environment.RemoteEnvironment;
import org.apache.beam.runners.fnexecution.logging.GrpcLoggingService;
import org.apache.beam.runners.fnexecution.provisioning.JobInfo;
import org.apache.beam.runners.fnexecution.provisioning.StaticGrpcProvisionService;
import org.apache.beam.sdk.fn.IdGenerator;
import org.apache.beam.sdk.fn.server.GrpcFnServer;
import org.apache.beam.sdk.fn.server.InProcessServerFactory;
import org.apache.beam.sdk.fn.server.ServerFactory;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.util.construction.BeamUrns;
import org.apache.beam.sdk.util.construction.Environments;
import org.apache.beam.sdk.util.construction.PipelineOptionsTranslation;
import org.apache.beam.sdk.util.construction.graph.ExecutableStage;

/**
 * Job bundle factories whose {@code EMBEDDED} environments (Beam's Java SDK harness in this
 * process) end cleanly: the harness is told to stop and has stopped before Beam closes the servers
 * it talks to.
 *
 * <p>Beam 2.62's {@link DefaultJobBundleFactory} closes an environment's servers first (logging,
 * then control, data, state) and the environment last. Against its own {@code
 * EmbeddedEnvironmentFactory} that order makes every clean shutdown of an in-process harness log
 * errors: the logging service ends the harness's log stream, which the harness takes as a failure
 * ({@code Logging stream terminated unexpectedly}, logged and printed to stderr), and the data
 * service hangs up on the harness's data streams ({@code CANCELLED: Multiplexer hanging up}). The
 * factories made here end each in-process harness first (see {@link EmbeddedHarness}) and then let
 * Beam close the rest. Environments of other kinds ({@code PROCESS}, {@code EXTERNAL}, {@code
 * DOCKER}) are Beam's, unchanged.
 *
 * <p>Threading: as {@link DefaultJobBundleFactory}; {@link JobBundleFactory#close} blocks until the
 * in-process harnesses have ended (typically under a second: the harness's log client notices the
 * end of the job within its one-second poll), at most {@link EmbeddedHarness#END_WAIT} each.
 */
public final class EmbeddedHarnesses {
  private EmbeddedHarnesses() {}

  /**
   * A factory for the environments {@code job} names, in-process harnesses using the job's pipeline
   * options. Closing it ends its harnesses, then closes what Beam's factory holds.
   */
  public static JobBundleFactory jobBundleFactory(JobInfo job) {
    PipelineOptions options = PipelineOptionsTranslation.fromProto(job.pipelineOptions());
    Provider embedded = new Provider(options);
    Map<String, EnvironmentFactory.Provider> providers =
        Map.of(
            BeamUrns.getUrn(StandardEnvironments.Environments.DOCKER), new DockerEnvironmentFactory.Provider(options),
            BeamUrns.getUrn(StandardEnvironments.Environments.PROCESS), new ProcessEnvironmentFactory.Provider(options),
            BeamUrns.getUrn(StandardEnvironments.Environments.EXTERNAL), new ExternalEnvironmentFactory.Provider(),
            Environments.ENVIRONMENT_EMBEDDED, embedded);
    return new HarnessesFirst(DefaultJobBundleFactory.create(job, providers), embedded);
  }

  /** Ends the in-process harnesses before the Beam factory closes their servers. */
  private static final class HarnessesFirst implements JobBundleFactory {
    private final JobBundleFactory beam;
    private final Provider embedded;

    HarnessesFirst(JobBundleFactory beam, Provider embedded) {
      this.beam = beam;
      this.embedded = embedded;
    }

    @Override
    public StageBundleFactory forStage(ExecutableStage stage) {
      return beam.forStage(stage);
    }

    @Override
    public void close() throws Exception {
      try {
        embedded.endAll();
      } finally {
        beam.close();
      }
    }
  }

  /** Starts in-process harnesses for Beam's factory and remembers them, so they can be ended first. */
  private static final class Provider implements EnvironmentFactory.Provider {
    private final PipelineOptions options;
    private final List<EmbeddedHarness> started = new ArrayList<>();

    Provider(PipelineOptions options) {
      this.options = options;
    }

    @Override
    public EnvironmentFactory createEnvironmentFactory(
        GrpcFnServer<FnApiControlClientPoolService> controlServer,
        GrpcFnServer<GrpcLoggingService> loggingServer,
        GrpcFnServer<ArtifactRetrievalService> retrievalServer,
        GrpcFnServer<StaticGrpcProvisionService> provisioningServer,
        ControlClientPool clientPool,
        IdGenerator idGenerator) {
      return (RunnerApi.Environment environment, String workerId) -> {
        EmbeddedHarness harness =
            EmbeddedHarness.start(
                workerId, options, loggingServer.getApiServiceDescriptor(), controlServer.getApiServiceDescriptor(), clientPool.getSource());
        synchronized (started) {
          started.add(harness);
        }
        return new HarnessEnvironment(environment, harness);
      };
    }

    @Override
    public ServerFactory getServerFactory() {
      return InProcessServerFactory.create();
    }

    /** Asks every harness to end, then waits for each (they end concurrently). */
    void endAll() {
      List<EmbeddedHarness> harnesses;
      synchronized (started) {
        harnesses = new ArrayList<>(started);
      }
      for (EmbeddedHarness harness : harnesses) {
        harness.requestEnd();
      }
      for (EmbeddedHarness harness : harnesses) {
        harness.awaitEnd();
      }
    }
  }

  /** The environment Beam's factory closes last: by then its harness has normally ended already. */
  private static final class HarnessEnvironment implements RemoteEnvironment {
    private final RunnerApi.Environment environment;
    private final EmbeddedHarness harness;

    HarnessEnvironment(RunnerApi.Environment environment, EmbeddedHarness harness) {
      this.environment = environment;
      this.harness = harness;
    }

    @Override
    public RunnerApi.Environment getEnvironment() {
      return environment;
    }

    @Override
    public InstructionRequestHandler getInstructionRequestHandler() {
      return harness.control();
    }

    @Override
    public void close() {
      harness.requestEnd();
      harness.awaitEnd();
    }
  }
}
