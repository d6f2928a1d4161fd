package io.ainative.runner.jobserver;

import java.io.IOException;
import org.apache.beam.runners.jobsubmission.InMemoryJobService;
import org.apache.beam.runners.jobsubmission.JobServerDriver;
import org.apache.beam.sdk.expansion.service.ExpansionServer;
import org.apache.beam.sdk.expansion.service.ExpansionService;
import org.apache.beam.sdk.options.PortablePipelineOptions;
import org.apache.beam.sdk.util.construction.Environments;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.kohsuke.args4j.CmdLineException;
import org.kohsuke.args4j.CmdLineParser;
import org.kohsuke.args4j.Option;

/**
 * Beam's job API for ainative: the job service, artifact staging and a Java expansion service,
 * so that Python pipelines (and any portable SDK) run with {@code --runner=PortableRunner
 * --job_endpoint=HOST:PORT} on the same translation path as Java pipelines.
 *
 * <p>Ports default to Beam's Flink job server's: job 8099, artifacts 8098, expansion 8097 (0
 * picks a free port; a negative expansion port disables the expansion service). Start it with
 * {@code bin/ainative-job-server}, or embed it: {@code AiNativeJobServer.fromArgs(...)}, then
 * {@link #start()} (returns the job endpoint) and {@link #stop()}.
 *
 * <p>The expansion service is the job server's own, not Beam's: Beam's gives the Java transforms
 * it expands the Java SDK's Docker environment, which a job here could only run with Docker. This
 * one gives them the {@code EMBEDDED} environment (the Java SDK harness inside the Flink task, as
 * for Java pipelines), so a Python pipeline's cross-language Java transforms, RunInference among
 * them ({@code io.ainative.transforms.xlang.RunInferenceExternal}), run in the runner's JVMs.
 */
public final class AiNativeJobServer extends JobServerDriver {

  /** Beam's job-server flags plus where jobs go. */
  public static final class Configuration extends ServerConfiguration {
    @Option(
        name = "--flink-master",
        usage = "Where jobs run when a pipeline does not say: [local] (an embedded MiniCluster per job) or host:port of a Flink cluster's REST endpoint. (Default: [local])")
    private String flinkMaster = "[local]";

    @Option(name = "--flink-conf-dir", usage = "A Flink configuration directory for every job (config.yaml).")
    private String flinkConfDir = null;

    public String getFlinkMaster() {
      return flinkMaster;
    }

    public String getFlinkConfDir() {
      return flinkConfDir;
    }
  }

  private volatile @Nullable ExpansionServer expansionServer;

  private AiNativeJobServer(Configuration configuration) {
    super(
        configuration,
        new HostBoundServerFactory(configuration.getHost(), configuration::getPort),
        new HostBoundServerFactory(configuration.getHost(), configuration::getArtifactPort),
        () -> new AiNativeJobInvoker(configuration));
  }

  /**
   * A job server configured by command-line flags ({@code --job-port}, {@code --artifact-port},
   * {@code --expansion-port}, {@code --flink-master}, {@code --flink-conf-dir}, ...).
   *
   * @throws IllegalArgumentException naming the flag that could not be parsed
   */
  public static AiNativeJobServer fromArgs(String... args) {
    Configuration configuration = new Configuration();
    CmdLineParser parser = new CmdLineParser(configuration);
    try {
      parser.parseArgument(args);
    } catch (CmdLineException e) {
      java.io.StringWriter usage = new java.io.StringWriter();
      parser.printUsage(usage, null);
      throw new IllegalArgumentException(e.getMessage() + "\nFlags:\n" + usage, e);
    }
    return new AiNativeJobServer(configuration);
  }

  @Override
  protected InMemoryJobService createJobService() throws IOException {
    // Beam's driver would start its own expansion service (Docker environment); keep it off.
    int expansionPort = configuration.getExpansionPort();
    configuration.setExpansionPort(-1);
    InMemoryJobService jobService;
    try {
      jobService = super.createJobService();
    } finally {
      configuration.setExpansionPort(expansionPort);
    }
    if (expansionPort >= 0 && expansionServer == null) {
      PortablePipelineOptions options = PipelineOptionsFactory.create().as(PortablePipelineOptions.class);
      options.setDefaultEnvironmentType(Environments.ENVIRONMENT_EMBEDDED);
      expansionServer = ExpansionServer.create(new ExpansionService(options), configuration.getHost(), expansionPort);
    }
    return jobService;
  }

  /**
   * The expansion service's {@code host:port} (its port chosen at start when configured as 0), or
   * null when it is disabled or the server has not started.
   */
  public @Nullable String getExpansionEndpoint() {
    ExpansionServer server = expansionServer;
    return server == null ? null : server.getHost() + ":" + server.getPort();
  }

  @Override
  public synchronized void stop() {
    super.stop();
    ExpansionServer server = expansionServer;
    expansionServer = null;
    if (server != null) {
      try {
        server.close();
      } catch (Exception e) {
        throw new IllegalStateException("cannot stop the expansion service on port " + server.getPort(), e);
      }
    }
  }

  /** Runs the job server until the process is stopped. */
  public static void main(String[] args) {
    // Artifacts are staged through Beam's file systems.
    FileSystems.setDefaultPipelineOptions(PipelineOptionsFactory.create());
    AiNativeJobServer server;
    try {
      server = fromArgs(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    Configuration c = (Configuration) server.configuration;
    System.out.printf(
        "ainative job server: jobs on %s:%d, artifacts on port %d, expansion service on port %d%s; Flink: %s%n",
        c.getHost(), c.getPort(), c.getArtifactPort(), c.getExpansionPort(),
        c.getExpansionPort() < 0 ? " (disabled)" : "", c.getFlinkMaster());
    server.run();
  }
}
