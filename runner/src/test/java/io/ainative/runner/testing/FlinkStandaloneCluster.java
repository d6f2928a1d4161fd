package io.ainative.runner.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.flink.configuration.ConfigConstants;
import org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint;
import org.apache.flink.runtime.taskexecutor.TaskManagerRunner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Flink 1.19 standalone session cluster on loopback for integration tests: one JobManager
 * ({@link StandaloneSessionClusterEntrypoint}) and any number of TaskManagers ({@link
 * TaskManagerRunner}), each its own {@code java} process, started without Flink's {@code bin/}
 * scripts from the test's classpath, so job code needs no jar upload.
 *
 * <pre>{@code
 * try (FlinkStandaloneCluster cluster =
 *     FlinkStandaloneCluster.builder().setTaskManagers(2).optSlotsPerTaskManager(2).build()) {
 *   cluster.start();
 *   options.setFlinkMaster(cluster.restAddress());
 *   ...
 *   cluster.killTaskManager(0);
 *   cluster.awaitRegisteredTaskManagers(1, Duration.ofSeconds(30));
 * }
 * }</pre>
 *
 * <p><b>Lifecycle.</b> {@link Builder#build()} checks the settings and Flink's memory model and
 * creates nothing; {@link #start()} creates a directory for the cluster, picks free loopback
 * ports, writes the configuration, starts the JVMs and blocks until every TaskManager has
 * registered. {@link #close()} stops every process and deletes the directory. A cluster starts at
 * most once.
 *
 * <p><b>Files</b>, under {@link #directory()}: {@code conf/} ({@code config.yaml}, read by every
 * process through {@code --configDir}, and the log4j2 configuration), {@code log/} ({@code
 * jobmanager.log|.out|.err}, {@code taskmanager-<i>.log|.out|.err}), {@code tmp/} (Flink's {@code
 * io.tmp.dirs} and the children's {@code java.io.tmpdir}) and an empty {@code plugins/}. The
 * {@code .log} files are written only if log4j-core is on the child classpath; {@code .out} and
 * {@code .err} always are.
 *
 * <p><b>No orphans.</b> Processes are stopped by {@link #close()}; by a JVM shutdown hook if the
 * test JVM exits without closing; and, if the test JVM is killed outright, by each child itself
 * ({@link ParentWatchingMain}). Stopping a process also kills the processes it started.
 *
 * <p><b>Threading.</b> Public methods are thread-safe and may block; those that wait say how
 * long. The shutdown hook takes no lock.
 */
public final class FlinkStandaloneCluster implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(FlinkStandaloneCluster.class);

  /** The host name the cluster advertises and clients use, e.g. with {@link #restPort()}. */
  public static final String HOST = ClusterConfiguration.HOST;

  private static final String JOB_MANAGER = "jobmanager";
  private static final String TASK_MANAGER_PREFIX = "taskmanager-";
  private static final Duration POLL_INTERVAL = Duration.ofMillis(200);
  /** SIGKILL cannot be refused; this only bounds a wait that takes milliseconds. */
  private static final Duration EXIT_AFTER_KILL_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration EXIT_ON_JVM_SHUTDOWN_TIMEOUT = Duration.ofSeconds(5);
  private static final int LOG_TAIL_LINES = 40;

  private enum State {
    CREATED,
    RUNNING,
    /** {@link #start()} failed: processes are stopped, files are still there. */
    FAILED,
    CLOSED
  }

  private final ClusterConfiguration configuration;
  private final int initialTaskManagers;
  private final String classpath;
  private final List<String> jvmOptions;
  private final Duration startupTimeout;
  private final Duration shutdownGracePeriod;
  private final Path baseDirectory;
  private final boolean keepFiles;

  private final Thread shutdownHook =
      new Thread(this::killAllOnJvmExit, "flink-standalone-cluster-reaper");
  /** Every process started, the JobManager first; read without the lock by the shutdown hook. */
  private final List<ClusterProcess> processes = new CopyOnWriteArrayList<>();
  private final List<ClusterProcess> taskManagers = new ArrayList<>();
  private final Set<Integer> killedTaskManagers = new HashSet<>();
  private final Set<Integer> usedPorts = new HashSet<>();

  private State state = State.CREATED;
  private Path directory;
  private int restPort;
  private JobManagerRest rest;
  private ClusterProcess jobManager;

  private FlinkStandaloneCluster(Builder builder, ClusterConfiguration configuration) {
    this.configuration = configuration;
    this.initialTaskManagers = builder.taskManagers;
    this.classpath = builder.classpath;
    this.jvmOptions = List.copyOf(builder.jvmOptions);
    this.startupTimeout = builder.startupTimeout;
    this.shutdownGracePeriod = builder.shutdownGracePeriod;
    this.baseDirectory = builder.baseDirectory;
    this.keepFiles = builder.keepFiles;
  }

  /** A builder; {@link Builder#setTaskManagers(int)} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Starts the JobManager and the TaskManagers and blocks until the JobManager's REST API ({@code
   * GET /overview}) reports every TaskManager registered, at most the startup timeout.
   *
   * <p>If that fails (a process exits, the deadline passes, the thread is interrupted) every
   * process is killed before this throws, and the files stay for inspection until {@link
   * #close()}.
   *
   * @throws IOException if the cluster did not come up; the message holds every process's log tail
   * @throws IllegalStateException if this cluster was started before
   */
  public synchronized void start() throws IOException, InterruptedException {
    checkState(state == State.CREATED, "start() may be called once; the cluster is " + state);
    state = State.FAILED;
    long startNanos = System.nanoTime();
    if (!hasLog4jCore(classpath)) {
      LOG.warn(
          "No log4j-core jar on the cluster's classpath: Flink's own logs (and the reason a process"
              + " fails to start) will be lost. Add org.apache.logging.log4j:log4j-core and"
              + " log4j-slf4j-impl to the test dependencies.");
    }
    // A new directory of its own either way: the cluster reads nothing that was there before.
    directory =
        baseDirectory == null
            ? Files.createTempDirectory("flink-cluster-")
            : Files.createTempDirectory(baseDirectory, "flink-cluster-");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
    try {
      Path conf = Files.createDirectory(directory.resolve("conf"));
      Files.createDirectory(directory.resolve("log"));
      Files.createDirectory(directory.resolve("plugins"));
      Path tmp = Files.createDirectory(directory.resolve("tmp"));
      restPort = freePort();
      configuration.write(conf, freePort(), restPort, freePort(), tmp);
      rest = new JobManagerRest(ClusterConfiguration.BIND_ADDRESS, restPort);

      jobManager =
          launch(
              JOB_MANAGER,
              configuration.jobManagerJvmOptions(),
              StandaloneSessionClusterEntrypoint.class.getName(),
              configuration.jobManagerProperties());
      for (int i = 0; i < initialTaskManagers; i++) {
        launchTaskManager();
      }
      await(
          "register " + initialTaskManagers + " TaskManager(s)",
          startupTimeout,
          () -> rest.registeredTaskManagers() == initialTaskManagers);
    } catch (Throwable e) {
      try {
        stopAllProcesses(Duration.ZERO);
      } catch (Throwable stopFailure) {
        e.addSuppressed(stopFailure);
      }
      removeShutdownHook();
      throw e;
    }
    state = State.RUNNING;
    LOG.info(
        "Flink standalone cluster running after {} ms: REST at {}, {} TaskManager(s), files in {}",
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos),
        restAddress(),
        initialTaskManagers,
        directory);
  }

  /** {@code localhost:<rest port>}, the form Beam's {@code --flinkMaster} takes. */
  public synchronized String restAddress() {
    return HOST + ":" + restPort();
  }

  /** The JobManager's REST (and web UI) port, on {@link #HOST}. */
  public synchronized int restPort() {
    checkRunning();
    return restPort;
  }

  /** The directory holding the cluster's configuration, logs and temporary files. */
  public synchronized Path directory() {
    checkState(directory != null, "the cluster has not been started");
    return directory;
  }

  /** How many TaskManager processes are alive (started, and neither killed nor exited). */
  public synchronized int taskManagerCount() {
    return (int) taskManagers.stream().filter(ClusterProcess::isAlive).count();
  }

  /**
   * Starts one more TaskManager and blocks until the JobManager lists it ({@code GET
   * /taskmanagers}), at most the startup timeout. If it does not come up it is killed.
   *
   * @return its index, for {@link #killTaskManager(int)} and {@link #taskManagerLogTail}
   * @throws IOException if it did not register; the message holds the log tails
   */
  public synchronized int startTaskManager() throws IOException, InterruptedException {
    checkRunning();
    int index = taskManagers.size();
    ClusterProcess taskManager = launchTaskManager();
    try {
      await(
          "register " + taskManager.name(),
          startupTimeout,
          () -> rest.registeredTaskManagerIds().contains(taskManager.name()));
    } catch (IOException | InterruptedException | RuntimeException e) {
      killedTaskManagers.add(index);
      taskManager.killForcibly();
      throw e;
    }
    return index;
  }

  /**
   * Kills a TaskManager as a machine failure would: SIGKILL to it and its descendants, no shutdown
   * hooks run. Blocks until the process has exited (milliseconds). The JobManager notices through
   * failed heartbeats, see {@link #awaitRegisteredTaskManagers}.
   *
   * @param index 0 to n-1 for the TaskManagers {@link #start()} started, then n, n+1... in the
   *     order of {@link #startTaskManager()}; an index is never reused
   * @throws IllegalArgumentException if there is no such TaskManager or it was killed before
   */
  public synchronized void killTaskManager(int index) throws InterruptedException {
    checkRunning();
    ClusterProcess taskManager = taskManager(index);
    checkArgument(killedTaskManagers.add(index), "TaskManager " + index + " was killed before");
    taskManager.killForcibly();
    checkState(
        taskManager.awaitExit(Instant.now().plus(EXIT_AFTER_KILL_TIMEOUT)),
        taskManager.describe() + " did not exit within " + EXIT_AFTER_KILL_TIMEOUT + " of SIGKILL");
  }

  /**
   * One {@code GET /overview}: how many TaskManagers the JobManager has registered. A killed
   * TaskManager counts until its heartbeats have failed.
   *
   * @throws IOException if the REST API did not answer with a count
   */
  public int registeredTaskManagers() throws IOException, InterruptedException {
    return runningRest().registeredTaskManagers();
  }

  /**
   * Blocks until {@code GET /overview} reports exactly {@code expected} TaskManagers, at most
   * {@code timeout}.
   *
   * @throws IOException if the deadline passes or a process that was not killed exits; the
   *     message holds the log tails
   */
  public void awaitRegisteredTaskManagers(int expected, Duration timeout)
      throws IOException, InterruptedException {
    JobManagerRest running = runningRest();
    await(
        "report " + expected + " registered TaskManager(s)",
        timeout,
        () -> running.registeredTaskManagers() == expected);
  }

  /** The process of TaskManager {@code index}, alive or not. */
  public synchronized ProcessHandle taskManagerProcess(int index) {
    return taskManager(index).handle();
  }

  /** The last {@code maxLines} lines of each of the JobManager's log, stdout and stderr. */
  public synchronized String jobManagerLogTail(int maxLines) {
    checkState(jobManager != null, "the cluster has not been started");
    return jobManager.logTail(maxLines);
  }

  /** The last {@code maxLines} lines of each of a TaskManager's log, stdout and stderr. */
  public synchronized String taskManagerLogTail(int index, int maxLines) {
    return taskManager(index).logTail(maxLines);
  }

  /**
   * Every process this cluster started (the JobManager, every TaskManager including killed ones)
   * and every descendant of theirs seen so far. For leak checks: after {@link #close()} none is
   * alive.
   */
  public List<ProcessHandle> processHandles() {
    return processes.stream()
        .flatMap(p -> Stream.concat(Stream.of(p.handle()), p.knownDescendants().stream()))
        .collect(Collectors.toUnmodifiableList());
  }

  /**
   * Stops every process (SIGTERM, then SIGKILL after the grace period) and waits until they have
   * exited, then deletes {@link #directory()} unless the builder said to keep files. Idempotent;
   * blocks at most the grace period plus the moment SIGKILL takes.
   *
   * @throws IllegalStateException if a process survives SIGKILL
   * @throws UncheckedIOException if the directory cannot be deleted
   */
  @Override
  public void close() {
    close(keepFiles);
  }

  /**
   * As {@link #close()}, but keeps the configuration and logs for a post-mortem (a failed test);
   * only {@code tmp/} is deleted.
   */
  public void closeAndKeepFiles() {
    close(true);
  }

  private synchronized void close(boolean keep) {
    if (state == State.CLOSED) {
      return;
    }
    state = State.CLOSED;
    try {
      stopAllProcesses(shutdownGracePeriod);
    } catch (InterruptedException e) {
      processes.forEach(ClusterProcess::killForcibly);
      Thread.currentThread().interrupt();
    }
    removeShutdownHook();
    if (directory == null) {
      return;
    }
    if (keep) {
      deleteRecursively(directory.resolve("tmp"));
      LOG.info("Flink standalone cluster closed; its configuration and logs are in {}", directory);
    } else {
      deleteRecursively(directory);
    }
  }

  // ---------------------------------------------------------------------------------------------

  private ClusterProcess launchTaskManager() throws IOException {
    String name = TASK_MANAGER_PREFIX + taskManagers.size();
    ClusterProcess taskManager =
        launch(
            name,
            configuration.taskManagerJvmOptions(),
            TaskManagerRunner.class.getName(),
            configuration.taskManagerProperties(name, freePort(), freePort()));
    taskManagers.add(taskManager);
    return taskManager;
  }

  private ClusterProcess launch(
      String name, List<String> memoryJvmOptions, String mainClass, List<String> properties)
      throws IOException {
    Path conf = directory.resolve("conf");
    Path log = directory.resolve("log");
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(ClusterConfiguration.commonJvmOptions());
    command.addAll(memoryJvmOptions);
    command.add("-Dlog.file=" + ClusterProcess.logFile(log, name));
    command.add("-Dlog4j.configurationFile=" + conf.resolve(ClusterConfiguration.LOG4J_FILE));
    command.add("-Djava.io.tmpdir=" + directory.resolve("tmp"));
    command.addAll(jvmOptions);
    command.add(ParentWatchingMain.class.getName());
    command.add(String.valueOf(ProcessHandle.current().pid()));
    command.add(mainClass);
    command.add("--configDir");
    command.add(conf.toString());
    command.addAll(properties);
    // The classpath goes through the environment: a test classpath of hundreds of jars would
    // otherwise fill every `ps` line. ParentWatchingMain's own location is always on it.
    Map<String, String> environment =
        Map.of(
            "CLASSPATH",
            classpath + File.pathSeparator + locationOf(ParentWatchingMain.class),
            ConfigConstants.ENV_FLINK_CONF_DIR,
            conf.toString(),
            ConfigConstants.ENV_FLINK_PLUGINS_DIR,
            directory.resolve("plugins").toString());
    ClusterProcess process = ClusterProcess.start(name, command, environment, log);
    processes.add(process);
    return process;
  }

  /** A check polled by {@link #await}; an {@link IOException} means "not yet". */
  @FunctionalInterface
  private interface Condition {
    boolean holds() throws IOException, InterruptedException;
  }

  /**
   * Polls {@code condition} until it holds. Fails at once if a process that should run has
   * exited (it waits between polls on the processes' exit, not on a clock), or when {@code
   * timeout} has passed.
   */
  private void await(String goal, Duration timeout, Condition condition)
      throws IOException, InterruptedException {
    Instant deadline = Instant.now().plus(timeout);
    List<ClusterProcess> expectedAlive = expectedAliveProcesses();
    CompletableFuture<?>[] exits =
        expectedAlive.stream().map(ClusterProcess::onExit).toArray(CompletableFuture<?>[]::new);
    CompletableFuture<Object> anyExit = CompletableFuture.anyOf(exits);
    String lastProblem = "none";
    while (true) {
      for (ClusterProcess process : expectedAlive) {
        if (!process.isAlive()) {
          throw new IOException(
              failureMessage(
                  process.name()
                      + " (pid "
                      + process.handle().pid()
                      + ") exited with code "
                      + process.exitCode()
                      + " before the cluster could "
                      + goal));
        }
      }
      try {
        if (condition.holds()) {
          return;
        }
        lastProblem = "condition not met";
      } catch (IOException notYet) {
        lastProblem = notYet.getMessage();
      }
      Duration left = Duration.between(Instant.now(), deadline);
      if (left.isNegative()) {
        throw new IOException(
            failureMessage(
                "the cluster did not " + goal + " within " + timeout + "; last: " + lastProblem));
      }
      try {
        anyExit.get(Math.min(POLL_INTERVAL.toMillis(), left.toMillis()), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        // nothing exited: poll again
      } catch (ExecutionException e) {
        throw new IllegalStateException("waiting for a process exit failed", e);
      }
    }
  }

  private synchronized List<ClusterProcess> expectedAliveProcesses() {
    List<ClusterProcess> alive = new ArrayList<>();
    alive.add(jobManager);
    for (int i = 0; i < taskManagers.size(); i++) {
      if (!killedTaskManagers.contains(i)) {
        alive.add(taskManagers.get(i));
      }
    }
    return alive;
  }

  private String failureMessage(String problem) {
    StringBuilder message =
        new StringBuilder("Flink standalone cluster in ")
            .append(directory)
            .append(": ")
            .append(problem)
            .append('\n');
    processes.forEach(p -> message.append(p.logTail(LOG_TAIL_LINES)));
    return message.toString();
  }

  /**
   * SIGTERM to all (unless {@code grace} is zero) and up to {@code grace} for them to exit, then
   * SIGKILL to whatever is left, descendants included, and a wait until all are gone.
   */
  private void stopAllProcesses(Duration grace) throws InterruptedException {
    if (!grace.isZero()) {
      processes.forEach(ClusterProcess::requestTermination);
      Instant deadline = Instant.now().plus(grace);
      for (ClusterProcess process : processes) {
        process.awaitExit(deadline);
      }
    }
    processes.forEach(ClusterProcess::killForcibly);
    Instant deadline = Instant.now().plus(EXIT_AFTER_KILL_TIMEOUT);
    List<String> survivors = new ArrayList<>();
    for (ClusterProcess process : processes) {
      if (!process.awaitExit(deadline)) {
        survivors.add(process.describe());
      }
    }
    checkState(survivors.isEmpty(), "still alive after SIGKILL: " + survivors);
  }

  private void killAllOnJvmExit() {
    processes.forEach(ClusterProcess::killForcibly);
    Instant deadline = Instant.now().plus(EXIT_ON_JVM_SHUTDOWN_TIMEOUT);
    try {
      for (ClusterProcess process : processes) {
        process.awaitExit(deadline);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void removeShutdownHook() {
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // the JVM is shutting down: the hook is running or has run, which is what it is for
    }
  }

  /**
   * A loopback port nobody listens on now, distinct from the others this cluster picked. The
   * child binds it a few seconds later; another process could take it in between, and then the
   * child fails with a bind error in its log tail.
   */
  private int freePort() throws IOException {
    for (int attempt = 0; attempt < 100; attempt++) {
      try (ServerSocket socket = new ServerSocket()) {
        socket.bind(new InetSocketAddress(ClusterConfiguration.BIND_ADDRESS, 0));
        if (usedPorts.add(socket.getLocalPort())) {
          return socket.getLocalPort();
        }
      }
    }
    throw new IOException("no new free port on " + ClusterConfiguration.BIND_ADDRESS);
  }

  private synchronized JobManagerRest runningRest() {
    checkRunning();
    return rest;
  }

  private ClusterProcess taskManager(int index) {
    checkArgument(
        index >= 0 && index < taskManagers.size(),
        "no TaskManager " + index + "; " + taskManagers.size() + " were started");
    return taskManagers.get(index);
  }

  private void checkRunning() {
    checkState(state == State.RUNNING, "the cluster is " + state + ", not RUNNING");
  }

  private static boolean hasLog4jCore(String classpath) {
    return Stream.of(classpath.split(File.pathSeparator))
        .map(entry -> Path.of(entry).getFileName())
        .anyMatch(name -> name != null && name.toString().startsWith("log4j-core"));
  }

  private static String locationOf(Class<?> type) {
    try {
      return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    } catch (URISyntaxException e) {
      throw new IllegalStateException("cannot locate the classpath entry of " + type, e);
    }
  }

  private static void deleteRecursively(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).collect(Collectors.toList())) {
        Files.deleteIfExists(path);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not delete " + root, e);
    }
  }

  private static void checkState(boolean condition, String message) {
    if (!condition) {
      throw new IllegalStateException(message);
    }
  }

  private static void checkArgument(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(message);
    }
  }

  @Override
  public synchronized String toString() {
    return "FlinkStandaloneCluster{" + state + ", " + directory + "}";
  }

  /**
   * Builds a {@link FlinkStandaloneCluster}: {@code set*} is required, {@code opt*} optional,
   * {@link #build()} checks them. A builder may build several clusters.
   */
  public static final class Builder {

    /** {@code -Dainative.flink-cluster.keep-files=true} keeps every cluster's files. */
    public static final String KEEP_FILES_PROPERTY = "ainative.flink-cluster.keep-files";

    private Integer taskManagers;
    private int slotsPerTaskManager = 1;
    private final Map<String, String> configuration = new LinkedHashMap<>();
    private String classpath = defaultClasspath();
    private final List<String> jvmOptions = new ArrayList<>();
    private Duration startupTimeout = Duration.ofSeconds(90);
    private Duration shutdownGracePeriod = Duration.ofSeconds(3);
    /** Null: the JDK's temporary directory (the build gives each test JVM a private, empty one). */
    private Path baseDirectory;
    private boolean keepFiles = Boolean.getBoolean(KEEP_FILES_PROPERTY);

    private Builder() {}

    /** How many TaskManagers {@link FlinkStandaloneCluster#start()} starts; 0 or more. */
    public Builder setTaskManagers(int count) {
      this.taskManagers = count;
      return this;
    }

    /** Task slots per TaskManager; default 1. */
    public Builder optSlotsPerTaskManager(int slots) {
      this.slotsPerTaskManager = slots;
      return this;
    }

    /**
     * A Flink configuration entry for every process. It overrides the defaults: {@code
     * jobmanager.memory.process.size} 768m, {@code taskmanager.memory.process.size} 1200m, {@code
     * taskmanager.memory.managed.size} 64m, heartbeats every 1 s with a 20 s timeout, registration
     * retries after 1 s. Addresses, ports, slots, resource ids and temporary directories are
     * chosen by the cluster and rejected by {@link #build()}.
     */
    public Builder optConfiguration(String key, String value) {
      configuration.put(key, value);
      return this;
    }

    /** {@link #optConfiguration(String, String)} for each entry. */
    public Builder optConfiguration(Map<String, String> entries) {
      configuration.putAll(entries);
      return this;
    }

    /**
     * The child JVMs' classpath. Default: the test's, {@code surefire.test.class.path} when
     * Surefire runs from a manifest-only jar, else {@code java.class.path}.
     */
    public Builder optClasspath(String classpath) {
      this.classpath = classpath;
      return this;
    }

    /** Extra options for every child JVM, placed after this class's own so that they win. */
    public Builder optJvmOptions(List<String> options) {
      jvmOptions.addAll(options);
      return this;
    }

    /** Bound on {@link FlinkStandaloneCluster#start()} and on starting one TaskManager; 90 s. */
    public Builder optStartupTimeout(Duration timeout) {
      this.startupTimeout = timeout;
      return this;
    }

    /** How long {@link FlinkStandaloneCluster#close()} lets processes shut down; 3 s. */
    public Builder optShutdownGracePeriod(Duration grace) {
      this.shutdownGracePeriod = grace;
      return this;
    }

    /**
     * Where the cluster's directory is created; default: the JDK's temporary directory, which the
     * build makes private to each test JVM ({@code target/test-tmp}).
     */
    public Builder optBaseDirectory(Path directory) {
      this.baseDirectory = directory;
      return this;
    }

    /**
     * Keep the configuration and logs after {@link FlinkStandaloneCluster#close()}; default: the
     * system property {@value #KEEP_FILES_PROPERTY}, else no.
     */
    public Builder optKeepFiles(boolean keep) {
      this.keepFiles = keep;
      return this;
    }

    /**
     * Checks the settings and Flink's memory configuration; returns a cluster not yet started.
     *
     * @throws IllegalArgumentException naming the offending setting
     */
    public FlinkStandaloneCluster build() {
      checkArgument(taskManagers != null, "setTaskManagers(int) is required");
      checkArgument(taskManagers >= 0, "TaskManager count must be >= 0, got " + taskManagers);
      checkArgument(slotsPerTaskManager >= 1, "slots must be >= 1, got " + slotsPerTaskManager);
      checkArgument(classpath != null && !classpath.isBlank(), "the classpath must not be empty");
      checkArgument(
          startupTimeout != null && !startupTimeout.isNegative() && !startupTimeout.isZero(),
          "the startup timeout must be > 0, got " + startupTimeout);
      checkArgument(
          shutdownGracePeriod != null && !shutdownGracePeriod.isNegative(),
          "the shutdown grace period must be >= 0, got " + shutdownGracePeriod);
      checkArgument(
          baseDirectory == null || Files.isDirectory(baseDirectory),
          "the base directory must exist: " + baseDirectory);
      return new FlinkStandaloneCluster(
          this, new ClusterConfiguration(slotsPerTaskManager, configuration));
    }

    private static String defaultClasspath() {
      String surefire = System.getProperty("surefire.test.class.path");
      return surefire != null && !surefire.isBlank()
          ? surefire
          : System.getProperty("java.class.path");
    }
  }
}
