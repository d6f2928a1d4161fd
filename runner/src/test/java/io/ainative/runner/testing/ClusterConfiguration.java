package io.ainative.runner.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.flink.configuration.BlobServerOptions;
import org.apache.flink.configuration.ClusterOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.HeartbeatManagerOptions;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.NettyShuffleEnvironmentOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.configuration.WebOptions;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;
import org.apache.flink.runtime.jobmanager.JobManagerProcessUtils;
import org.apache.flink.runtime.util.config.memory.ProcessMemoryUtils;

/**
 * What the JVMs of a {@link FlinkStandaloneCluster} are given: the Flink configuration file, the
 * log4j2 configuration, JVM options and dynamic properties. Immutable; the memory model is checked
 * when it is created.
 *
 * <p>Without Flink's {@code bin/} scripts nobody runs {@code BashJavaUtils}, which derives the
 * JVM's {@code -Xmx/-Xms/-XX:MaxDirectMemorySize/-XX:MaxMetaspaceSize} from Flink's memory model
 * and passes every derived memory component back as a {@code -D} property (the TaskManager
 * refuses to start unless task heap, managed and network memory are all explicitly set). This
 * class calls the same Flink methods in the test JVM instead.
 */
final class ClusterConfiguration {

  /** The host name the cluster advertises and clients use. */
  static final String HOST = "localhost";

  /** Every server socket of the cluster binds to this address. */
  static final String BIND_ADDRESS = "127.0.0.1";

  static final String CONFIG_FILE = "config.yaml";
  static final String LOG4J_FILE = "log4j2-cluster.properties";

  /** Packages of java.base that Flink reflects into on Java 17 (as Flink's own launch scripts). */
  private static final List<String> OPENED_PACKAGES =
      List.of(
          "java.util",
          "java.lang",
          "java.lang.reflect",
          "java.lang.invoke",
          "java.io",
          "java.net",
          "java.nio",
          "sun.nio.ch",
          "java.text",
          "java.time",
          "java.util.concurrent",
          "java.util.concurrent.atomic",
          "java.util.concurrent.locks");

  /**
   * Defaults that callers may override. Memory fits several clusters' worth of JVMs on a 2-core
   * 24 GiB machine. Heartbeats every second so that a killed TaskManager is declared lost in
   * seconds: its RPC port refuses connections at once and {@code heartbeat.rpc-failure-threshold}
   * (2) failed heartbeats end it, while the 20 s timeout still tolerates a GC pause on a busy
   * machine. Registration retries after 1 s instead of 10-30 s, because TaskManagers start at the
   * same time as the JobManager and their first attempts find nobody listening.
   */
  private static final Map<String, String> DEFAULTS =
      Map.of(
          JobManagerOptions.TOTAL_PROCESS_MEMORY.key(), "768m",
          TaskManagerOptions.TOTAL_PROCESS_MEMORY.key(), "1200m",
          TaskManagerOptions.MANAGED_MEMORY_SIZE.key(), "64m",
          HeartbeatManagerOptions.HEARTBEAT_INTERVAL.key(), "1000",
          HeartbeatManagerOptions.HEARTBEAT_TIMEOUT.key(), "20000",
          ClusterOptions.ERROR_REGISTRATION_DELAY.key(), "1000",
          ClusterOptions.REFUSED_REGISTRATION_DELAY.key(), "1000");

  /** Keys the cluster sets itself: addresses, ports, identities, slots and directories. */
  private static final Set<String> MANAGED_KEYS =
      Set.of(
          JobManagerOptions.ADDRESS.key(),
          JobManagerOptions.BIND_HOST.key(),
          JobManagerOptions.PORT.key(),
          JobManagerOptions.RPC_BIND_PORT.key(),
          RestOptions.ADDRESS.key(),
          RestOptions.BIND_ADDRESS.key(),
          RestOptions.PORT.key(),
          RestOptions.BIND_PORT.key(),
          BlobServerOptions.PORT.key(),
          TaskManagerOptions.HOST.key(),
          TaskManagerOptions.BIND_HOST.key(),
          TaskManagerOptions.RPC_PORT.key(),
          TaskManagerOptions.RPC_BIND_PORT.key(),
          TaskManagerOptions.TASK_MANAGER_RESOURCE_ID.key(),
          TaskManagerOptions.NUM_TASK_SLOTS.key(),
          NettyShuffleEnvironmentOptions.DATA_PORT.key(),
          NettyShuffleEnvironmentOptions.DATA_BIND_PORT.key(),
          CoreOptions.TMP_DIRS.key(),
          WebOptions.TMP_DIR.key());

  private final Map<String, String> entries;
  private final List<String> jobManagerMemoryJvmOptions;
  private final List<String> jobManagerMemoryProperties;
  private final List<String> taskManagerMemoryJvmOptions;
  private final List<String> taskManagerMemoryProperties;

  /**
   * @param userEntries override {@link #DEFAULTS}; must not contain a managed key
   * @throws IllegalArgumentException naming a managed key, or when Flink rejects the memory
   *     configuration
   */
  ClusterConfiguration(int slotsPerTaskManager, Map<String, String> userEntries) {
    for (Map.Entry<String, String> entry : userEntries.entrySet()) {
      if (MANAGED_KEYS.contains(entry.getKey())) {
        throw new IllegalArgumentException(
            entry.getKey() + " is set by FlinkStandaloneCluster and cannot be configured");
      }
      if (entry.getValue() == null) {
        throw new IllegalArgumentException("no value for " + entry.getKey());
      }
    }
    Map<String, String> merged = new TreeMap<>(DEFAULTS);
    merged.putAll(userEntries);
    merged.put(TaskManagerOptions.NUM_TASK_SLOTS.key(), String.valueOf(slotsPerTaskManager));
    this.entries = Map.copyOf(merged);

    Configuration flink = Configuration.fromMap(entries);
    try {
      var jobManager =
          JobManagerProcessUtils.processSpecFromConfigWithNewOptionToInterpretLegacyHeap(
              flink, JobManagerOptions.JVM_HEAP_MEMORY);
      jobManagerMemoryJvmOptions =
          words(JobManagerProcessUtils.generateJvmParametersStr(jobManager, flink));
      jobManagerMemoryProperties =
          words(JobManagerProcessUtils.generateDynamicConfigsStr(jobManager));
      var taskManager =
          TaskExecutorProcessUtils.processSpecFromConfig(
              TaskExecutorProcessUtils.getConfigurationMapLegacyTaskManagerHeapSizeToConfigOption(
                  flink, TaskManagerOptions.TOTAL_FLINK_MEMORY));
      taskManagerMemoryJvmOptions = words(ProcessMemoryUtils.generateJvmParametersStr(taskManager));
      taskManagerMemoryProperties =
          words(TaskExecutorProcessUtils.generateDynamicConfigsStr(taskManager));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "Flink rejects the memory configuration " + memoryEntries() + ": " + e.getMessage(), e);
    }
  }

  /**
   * Writes {@code config.yaml} and the log4j2 configuration into {@code confDirectory}.
   *
   * <p>{@code config.yaml} is the file Flink 1.19 reads with its standard-YAML parser (a {@code
   * flink-conf.yaml} next to it would win and switch to the legacy parser). Every key and value is
   * a single-quoted YAML scalar, so no value turns into a number, list or map by accident; Flink
   * converts the strings to each option's type, and list options accept the {@code a;b} form.
   */
  void write(Path confDirectory, int jobManagerRpcPort, int restPort, int blobPort, Path tmp)
      throws IOException {
    Map<String, String> file = new TreeMap<>(entries);
    file.put(JobManagerOptions.ADDRESS.key(), HOST);
    file.put(JobManagerOptions.BIND_HOST.key(), BIND_ADDRESS);
    file.put(JobManagerOptions.PORT.key(), String.valueOf(jobManagerRpcPort));
    file.put(RestOptions.ADDRESS.key(), HOST);
    file.put(RestOptions.BIND_ADDRESS.key(), BIND_ADDRESS);
    file.put(RestOptions.PORT.key(), String.valueOf(restPort));
    file.put(BlobServerOptions.PORT.key(), String.valueOf(blobPort));
    file.put(TaskManagerOptions.HOST.key(), HOST);
    file.put(TaskManagerOptions.BIND_HOST.key(), BIND_ADDRESS);
    file.put(CoreOptions.TMP_DIRS.key(), tmp.toString());
    file.put(WebOptions.TMP_DIR.key(), tmp.toString());
    StringBuilder yaml = new StringBuilder("# Written by FlinkStandaloneCluster\n");
    file.forEach(
        (key, value) ->
            yaml.append(yamlString(key)).append(": ").append(yamlString(value)).append('\n'));
    Files.writeString(confDirectory.resolve(CONFIG_FILE), yaml.toString(), StandardCharsets.UTF_8);
    Files.writeString(confDirectory.resolve(LOG4J_FILE), log4jConfiguration());
  }

  /** JVM options every cluster JVM needs, before the memory options. */
  static List<String> commonJvmOptions() {
    return OPENED_PACKAGES.stream()
        .map(p -> "--add-opens=java.base/" + p + "=ALL-UNNAMED")
        .collect(Collectors.toUnmodifiableList());
  }

  List<String> jobManagerJvmOptions() {
    return jobManagerMemoryJvmOptions;
  }

  /** Program arguments of the JobManager after {@code --configDir}. */
  List<String> jobManagerProperties() {
    return jobManagerMemoryProperties;
  }

  List<String> taskManagerJvmOptions() {
    return taskManagerMemoryJvmOptions;
  }

  /** Program arguments of one TaskManager after {@code --configDir}. */
  List<String> taskManagerProperties(String resourceId, int rpcPort, int dataPort) {
    List<String> properties = new ArrayList<>(taskManagerMemoryProperties);
    addProperty(properties, TaskManagerOptions.TASK_MANAGER_RESOURCE_ID.key(), resourceId);
    addProperty(properties, TaskManagerOptions.RPC_PORT.key(), String.valueOf(rpcPort));
    addProperty(properties, NettyShuffleEnvironmentOptions.DATA_PORT.key(), "" + dataPort);
    return properties;
  }

  private Map<String, String> memoryEntries() {
    return entries.entrySet().stream()
        .filter(e -> e.getKey().contains(".memory."))
        .collect(
            Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (a, b) -> a, TreeMap::new));
  }

  private static void addProperty(List<String> properties, String key, String value) {
    properties.add("-D");
    properties.add(key + "=" + value);
  }

  /** Flink's generated parameter strings are space-separated tokens without quoting. */
  private static List<String> words(String parameters) {
    return List.of(parameters.trim().split("\\s+"));
  }

  private static String yamlString(String text) {
    return "'" + text.replace("'", "''") + "'";
  }

  /** All of Flink's logging into the file named by {@code -Dlog.file}, as Flink's scripts do. */
  private static String log4jConfiguration() {
    return String.join(
        "\n",
        "rootLogger.level = INFO",
        "rootLogger.appenderRef.file.ref = FileAppender",
        "appender.file.name = FileAppender",
        "appender.file.type = File",
        "appender.file.fileName = ${sys:log.file}",
        "appender.file.append = true",
        "appender.file.layout.type = PatternLayout",
        "appender.file.layout.pattern = %d{HH:mm:ss,SSS} %-5p [%t] %c{1.} - %m%n",
        "");
  }

  @Override
  public String toString() {
    return new TreeMap<>(entries).toString();
  }
}
