package io.ainative.runner.internal;

import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.beam.sdk.util.construction.resources.PipelineResources;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.runtime.jobgraph.SavepointRestoreSettings;
import org.apache.flink.streaming.api.environment.LocalStreamEnvironment;
import org.apache.flink.streaming.api.environment.RemoteStreamEnvironment;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Creates the Flink {@link StreamExecutionEnvironment} a job runs in, from the pipeline options
 * and an optional Flink configuration directory.
 *
 * <p>Precedence, highest first: explicit pipeline options (parallelism, checkpointing, ...), the
 * Flink configuration directory ({@code --flinkConfDir}, else {@code FLINK_CONF_DIR}), and last
 * the runner's defaults in {@link #RUNNER_DEFAULTS}, which the architecture's promises need:
 * region failover, a restart strategy that backs off, tolerated failed checkpoints.
 *
 * <p>The embedded MiniCluster gets the slots the plan asks for: Beam's own {@code [local]}
 * environment gives it exactly {@code parallelism} slots, and a service vertex in its own
 * slot-sharing group would then never be scheduled.
 */
@Internal
public final class FlinkEnvironmentFactory {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(FlinkEnvironmentFactory.class);


  /** The runner's defaults; any key present in the Flink configuration directory wins. */
  public static final Map<String, String> RUNNER_DEFAULTS;

  /** The restart-strategy defaults; left out whole when the Flink configuration sets one. */
  public static final Map<String, String> RESTART_DEFAULTS;

  static {
    Map<String, String> defaults = new LinkedHashMap<>();
    // Restart only the failed pipelined region (an inference service is its own region).
    defaults.put("jobmanager.execution.failover-strategy", "region");
    // Declined checkpoints (a task restarting) are not counted; expired ones are. Zero would
    // fail the whole job when a checkpoint expires while a service region restarts.
    defaults.put("execution.checkpointing.tolerable-failed-checkpoints", "3");
    RUNNER_DEFAULTS = Collections.unmodifiableMap(defaults);

    Map<String, String> restart = new LinkedHashMap<>();
    // The restart budget is job-wide. Backing off exponentially means a flapping service spends
    // its ten attempts over minutes rather than seconds, and the count resets after ten quiet
    // minutes; a deterministic failure still ends the job instead of restarting forever.
    restart.put("restart-strategy.type", "exponential-delay");
    restart.put("restart-strategy.exponential-delay.initial-backoff", "1 s");
    restart.put("restart-strategy.exponential-delay.max-backoff", "30 s");
    restart.put("restart-strategy.exponential-delay.backoff-multiplier", "2.0");
    restart.put("restart-strategy.exponential-delay.reset-backoff-threshold", "10 min");
    restart.put("restart-strategy.exponential-delay.jitter-factor", "0.1");
    restart.put("restart-strategy.exponential-delay.attempts-before-reset-backoff", "10");
    RESTART_DEFAULTS = Collections.unmodifiableMap(restart);
  }

  private FlinkEnvironmentFactory() {}

  /**
   * Checks the options that can be checked without a cluster, so that a bad value fails when the
   * runner is created, not after translation. Changes nothing.
   *
   * @throws IllegalArgumentException naming the option and its value
   */
  public static FlinkMaster validate(AiNativeFlinkPipelineOptions options) {
    FlinkMaster master = FlinkMaster.parse(options.getFlinkMaster());
    Integer parallelism = options.getParallelism();
    if (parallelism != null && parallelism != -1 && parallelism < 1) {
      throw new IllegalArgumentException(
          "Invalid --parallelism=" + parallelism + ": use a positive number, or leave it unset.");
    }
    if (options.getLocalTaskSlots() < 0) {
      throw new IllegalArgumentException(
          "Invalid --localTaskSlots=" + options.getLocalTaskSlots()
              + ": use 0 (sized for the pipeline) or a positive number.");
    }
    if (options.getFlinkMasterCheckTimeoutMillis() < 1) {
      throw new IllegalArgumentException(
          "Invalid --flinkMasterCheckTimeoutMillis=" + options.getFlinkMasterCheckTimeoutMillis()
              + ": use a positive number of milliseconds.");
    }
    Configuration scratch = new Configuration();
    applyCheckpointing(options, scratch);
    applyStateBackend(options, scratch);
    checkRuntimeMode(loadConfDir(options.getFlinkConfDir()));
    return master;
  }

  /**
   * Every pipeline, bounded or not, runs in Flink's STREAMING mode: Beam's portable translation
   * starts each pipeline from a legacy (unbounded) impulse source, which BATCH mode refuses, and
   * the inference services need pipelined regions. Bounded pipelines still finish by themselves.
   */
  private static void checkRuntimeMode(Configuration conf) {
    String mode = conf.getString("execution.runtime-mode", "STREAMING");
    if (!mode.trim().equalsIgnoreCase("STREAMING") && !mode.trim().equalsIgnoreCase("AUTOMATIC")) {
      throw new IllegalArgumentException(
          "The Flink configuration sets execution.runtime-mode: " + mode
              + "; AiNativeFlinkRunner runs every pipeline in STREAMING mode (bounded ones finish by"
              + " themselves). Remove the setting from the Flink configuration directory.");
    }
  }

  /**
   * Builds the Flink configuration for a job: the configuration directory's content, the runner
   * defaults for what it leaves out, then the pipeline options. Also normalizes the options the
   * translation reads ({@code parallelism}, {@code shutdownSourcesAfterIdleMs}).
   */
  public static Configuration configuration(AiNativeFlinkPipelineOptions options, FlinkMaster master) {
    Configuration conf = loadConfDir(options.getFlinkConfDir());
    checkRuntimeMode(conf);
    for (Map.Entry<String, String> e : RUNNER_DEFAULTS.entrySet()) {
      if (!conf.containsKey(e.getKey())) {
        conf.setString(e.getKey(), e.getValue());
      }
    }
    boolean restartConfigured =
        conf.keySet().stream().anyMatch(k -> k.equals("restart-strategy") || k.startsWith("restart-strategy."));
    if (options.getNumberOfExecutionRetries() != null && options.getNumberOfExecutionRetries() >= 0) {
      // Beam's option, when given, means a fixed number of retries.
      int retries = options.getNumberOfExecutionRetries();
      conf.setString("restart-strategy.type", retries == 0 ? "none" : "fixed-delay");
      if (retries > 0) {
        conf.setString("restart-strategy.fixed-delay.attempts", Integer.toString(retries));
        long delay = options.getExecutionRetryDelay() != null && options.getExecutionRetryDelay() >= 0
            ? options.getExecutionRetryDelay()
            : 1_000L;
        conf.setString("restart-strategy.fixed-delay.delay", delay + " ms");
      }
    } else if (!restartConfigured) {
      RESTART_DEFAULTS.forEach(conf::setString);
    }

    applyCheckpointing(options, conf);
    applyStateBackend(options, conf);
    if (options.getSavepointPath() != null) {
      conf.setString("execution.savepoint.path", options.getSavepointPath());
      conf.setString(
          "execution.savepoint.ignore-unclaimed-state",
          Boolean.toString(options.getAllowNonRestoredState()));
    }

    int parallelism = parallelism(options, conf, master);
    options.setParallelism(parallelism);
    conf.setString("parallelism.default", Integer.toString(parallelism));
    if (options.getMaxParallelism() > 0) {
      conf.setString("pipeline.max-parallelism", Integer.toString(options.getMaxParallelism()));
    }
    conf.setString("pipeline.object-reuse", Boolean.toString(options.getObjectReuse()));
    if (!options.getOperatorChaining()) {
      conf.setString("pipeline.operator-chaining.enabled", "false");
    }
    if (options.getAutoWatermarkInterval() != null) {
      conf.setString("pipeline.auto-watermark-interval", options.getAutoWatermarkInterval() + " ms");
    }
    if (options.getShutdownSourcesAfterIdleMs() == null || options.getShutdownSourcesAfterIdleMs() < 0) {
      // Bounded pipelines must finish on their own. Flink 1.19 checkpoints after tasks finish, so
      // (unlike the FLINK-2491 era Beam's default is written for) a finished impulse source does
      // not stop checkpointing: sources shut down as soon as they are done, checkpointing or not.
      options.setShutdownSourcesAfterIdleMs(0L);
    }
    return conf;
  }

  /**
   * Creates the environment: an embedded MiniCluster with {@code extraLocalSlots} slots beyond the
   * data pipeline's parallelism, or a remote environment whose REST endpoint answered.
   *
   * @throws IllegalArgumentException naming {@code --flinkMaster} when a remote master does not
   *     answer within {@code --flinkMasterCheckTimeoutMillis}
   */
  public static StreamExecutionEnvironment create(
      AiNativeFlinkPipelineOptions options, FlinkMaster master, int extraLocalSlots) {
    Configuration conf = configuration(options, master);
    switch (master.kind()) {
      case AUTO:
        StreamExecutionEnvironment contextEnv = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        if (!(contextEnv instanceof LocalStreamEnvironment)) {
          // Inside `flink run`: the context decides where the job goes.
          return contextEnv;
        }
        return local(options, conf, extraLocalSlots);
      case LOCAL:
        return local(options, conf, extraLocalSlots);
      case REMOTE:
        checkReachable(master, options.getFlinkMasterCheckTimeoutMillis());
        conf.set(RestOptions.ADDRESS, master.host());
        conf.set(RestOptions.PORT, master.port());
        List<String> jars = filesToStage(options);
        return new RemoteStreamEnvironment(
            master.host(),
            master.port(),
            conf,
            jars.toArray(new String[0]),
            null,
            options.getSavepointPath() == null
                ? SavepointRestoreSettings.none()
                : SavepointRestoreSettings.forPath(
                    options.getSavepointPath(), options.getAllowNonRestoredState()));
      default:
        throw new IllegalStateException("unknown master kind " + master.kind());
    }
  }

  private static StreamExecutionEnvironment local(
      AiNativeFlinkPipelineOptions options, Configuration conf, int extraLocalSlots) {
    int slots =
        options.getLocalTaskSlots() > 0
            ? options.getLocalTaskSlots()
            : options.getParallelism() + Math.max(0, extraLocalSlots);
    if (!conf.containsKey(TaskManagerOptions.NUM_TASK_SLOTS.key())) {
      conf.set(TaskManagerOptions.NUM_TASK_SLOTS, slots);
    }
    if (!conf.containsKey(RestOptions.PORT.key()) && !conf.containsKey(RestOptions.BIND_PORT.key())) {
      int port = freePort(8081);
      // Another JVM may take the port between this check and the cluster's start (tests start
      // clusters side by side): then Flink binds the next port it can get, instead of failing.
      conf.set(RestOptions.BIND_PORT, port + ",0");
      LOG.info(
          "Embedded Flink cluster: web UI and REST API at http://localhost:{} (unless another process took that port meanwhile)",
          port);
    }
    // User code and Beam classes live in the application class loader here; Flink's leak check
    // would flag the harness threads that outlive a task.
    if (!conf.containsKey("classloader.check-leaked-classloader")) {
      conf.setString("classloader.check-leaked-classloader", "false");
    }
    return StreamExecutionEnvironment.createLocalEnvironment(options.getParallelism(), conf);
  }

  /** {@code preferred} when nothing listens there, else a free port the system picks. */
  private static int freePort(int preferred) {
    try (java.net.ServerSocket socket = new java.net.ServerSocket(preferred)) {
      return socket.getLocalPort();
    } catch (java.io.IOException taken) {
      try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
        return socket.getLocalPort();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException("no free port for the embedded cluster's REST API", e);
      }
    }
  }

  private static int parallelism(AiNativeFlinkPipelineOptions options, Configuration conf, FlinkMaster master) {
    Integer requested = options.getParallelism();
    if (requested != null && requested > 0) {
      return requested;
    }
    String fromConf = conf.getString("parallelism.default", null);
    if (fromConf != null) {
      return Integer.parseInt(fromConf.trim());
    }
    return master.kind() == FlinkMaster.Kind.REMOTE ? 1 : Runtime.getRuntime().availableProcessors();
  }

  private static void applyCheckpointing(AiNativeFlinkPipelineOptions options, Configuration conf) {
    Long interval = options.getCheckpointingInterval();
    if (interval == null || interval == -1) {
      return;
    }
    if (interval < 1) {
      throw new IllegalArgumentException(
          "Invalid --checkpointingInterval=" + interval + ": use a positive number of milliseconds, or -1 for none.");
    }
    conf.setString("execution.checkpointing.interval", interval + " ms");
    String mode = options.getCheckpointingMode();
    if (mode != null) {
      String normalized = mode.trim().toUpperCase(Locale.ROOT);
      if (!normalized.equals("EXACTLY_ONCE") && !normalized.equals("AT_LEAST_ONCE")) {
        throw new IllegalArgumentException(
            "Invalid --checkpointingMode=" + mode + ": use EXACTLY_ONCE or AT_LEAST_ONCE.");
      }
      conf.setString("execution.checkpointing.mode", normalized);
    }
    if (options.getCheckpointTimeoutMillis() != null && options.getCheckpointTimeoutMillis() > 0) {
      conf.setString("execution.checkpointing.timeout", options.getCheckpointTimeoutMillis() + " ms");
    }
    if (options.getMinPauseBetweenCheckpoints() != null && options.getMinPauseBetweenCheckpoints() > 0) {
      conf.setString("execution.checkpointing.min-pause", options.getMinPauseBetweenCheckpoints() + " ms");
    }
    if (options.getNumConcurrentCheckpoints() > 0) {
      conf.setString(
          "execution.checkpointing.max-concurrent-checkpoints",
          Integer.toString(options.getNumConcurrentCheckpoints()));
    }
    if (options.getUnalignedCheckpointEnabled()) {
      conf.setString("execution.checkpointing.unaligned.enabled", "true");
    }
    if (options.isExternalizedCheckpointsEnabled()) {
      conf.setString(
          "execution.checkpointing.externalized-checkpoint-retention",
          options.getRetainExternalizedCheckpointsOnCancellation()
              ? "RETAIN_ON_CANCELLATION"
              : "DELETE_ON_CANCELLATION");
    }
  }

  private static void applyStateBackend(AiNativeFlinkPipelineOptions options, Configuration conf) {
    String backend = options.getStateBackend();
    if (backend == null) {
      return;
    }
    String path = options.getStateBackendStoragePath();
    if (path == null) {
      throw new IllegalArgumentException(
          "--stateBackend=" + backend + " needs --stateBackendStoragePath (where checkpoints go).");
    }
    switch (backend.trim().toLowerCase(Locale.ROOT)) {
      case "rocksdb":
        conf.setString("state.backend.type", "rocksdb");
        break;
      case "filesystem":
      case "hashmap":
        conf.setString("state.backend.type", "hashmap");
        break;
      default:
        throw new IllegalArgumentException(
            "Invalid --stateBackend=" + backend + ": use rocksdb, hashmap or filesystem.");
    }
    conf.setString("state.checkpoints.dir", path);
  }

  private static Configuration loadConfDir(@Nullable String optionDir) {
    String dir = optionDir;
    String source = "--flinkConfDir";
    if (dir == null) {
      dir = System.getenv("FLINK_CONF_DIR");
      source = "FLINK_CONF_DIR";
    }
    if (dir == null || dir.isEmpty()) {
      return new Configuration();
    }
    Path path = Paths.get(dir);
    if (!Files.isDirectory(path)) {
      throw new IllegalArgumentException(source + "=" + dir + " is not a directory.");
    }
    try {
      return GlobalConfiguration.loadConfiguration(dir);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          source + "=" + dir + ": could not read a Flink configuration there (" + e.getMessage() + ")", e);
    }
  }

  private static List<String> filesToStage(AiNativeFlinkPipelineOptions options) {
    if (options.getFilesToStage() == null) {
      // Like Beam's Flink runner: ship the classpath (directories are packed into jars).
      PipelineResources.prepareFilesForStaging(options);
    }
    return new ArrayList<>(options.getFilesToStage() == null ? List.of() : options.getFilesToStage());
  }

  /**
   * Asks the cluster's REST endpoint for its configuration, so that a wrong or dead {@code
   * --flinkMaster} fails before anything is translated or uploaded.
   */
  static void checkReachable(FlinkMaster master, long timeoutMillis) {
    String url = "http://" + hostForUrl(master.host()) + ":" + master.port() + "/config";
    Duration timeout = Duration.ofMillis(Math.max(1, timeoutMillis));
    HttpClient client = HttpClient.newBuilder().connectTimeout(timeout).build();
    String problem;
    try {
      HttpResponse<String> response =
          client.send(
              HttpRequest.newBuilder(URI.create(url)).timeout(timeout).GET().build(),
              HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() == 200 && response.body().contains("flink-version")) {
        return;
      }
      problem = "it answered HTTP " + response.statusCode() + ", which is not a Flink REST endpoint";
    } catch (IOException e) {
      problem = "no Flink REST endpoint answered (" + e.getClass().getSimpleName()
          + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      problem = "interrupted while checking it";
    }
    throw new IllegalArgumentException(
        String.format(
            "--flinkMaster=%s is not reachable: %s within %d ms. Is the cluster running, and is"
                + " this its REST address (rest.address:rest.port)?",
            master, problem, timeoutMillis));
  }

  private static String hostForUrl(String host) {
    return host.contains(":") ? "[" + host + "]" : host;
  }
}
