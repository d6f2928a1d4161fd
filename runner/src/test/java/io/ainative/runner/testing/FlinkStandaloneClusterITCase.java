package io.ainative.runner.testing;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;
import org.junit.After;
import org.junit.ClassRule;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.RuleChain;
import org.junit.rules.TestRule;
import org.junit.rules.Timeout;
import org.junit.rules.Verifier;

/**
 * A two-TaskManager standalone cluster of real JVMs runs a DataStream job submitted over REST,
 * notices a killed TaskManager, takes a new one, and leaves no process and no file behind.
 */
public class FlinkStandaloneClusterITCase {

  /** Every process the shared cluster started, recorded while it runs. */
  private static final List<ProcessHandle> SHARED_CLUSTER_PROCESSES = new CopyOnWriteArrayList<>();

  private static volatile Path sharedClusterDirectory;

  private static final FlinkStandaloneClusterResource CLUSTER =
      new FlinkStandaloneClusterResource(
          FlinkStandaloneCluster.builder()
              .setTaskManagers(2)
              .optSlotsPerTaskManager(2)
              // a list-valued entry, as the runner sets for DJL: it must survive config.yaml
              .optConfiguration(
                  CoreOptions.ALWAYS_PARENT_FIRST_LOADER_PATTERNS_ADDITIONAL.key(),
                  "ai.djl.;org.example."));

  /**
   * Runs once the rule has closed the shared cluster. (Its directory is kept when a test failed,
   * so only the failure test below checks that a directory is deleted.)
   */
  private static final Verifier SHARED_CLUSTER_LEFT_NO_PROCESS =
      new Verifier() {
        @Override
        protected void verify() {
          assertNoProcessLeft(SHARED_CLUSTER_PROCESSES, sharedClusterDirectory);
        }
      };

  @ClassRule
  public static final RuleChain RULES =
      RuleChain.outerRule(SHARED_CLUSTER_LEFT_NO_PROCESS).around(CLUSTER);

  @Rule public final TestRule keepFilesOnFailure = CLUSTER.failureWatcher();

  @Rule public final Timeout timeout = Timeout.seconds(120);

  @After
  public void recordSharedClusterProcesses() {
    SHARED_CLUSTER_PROCESSES.addAll(CLUSTER.cluster().processHandles());
    sharedClusterDirectory = CLUSTER.cluster().directory();
  }

  @Test
  public void dataStreamJob_fillingEverySlotOfTwoTaskManagers_collectsTheExpectedSum()
      throws Exception {
    FlinkStandaloneCluster cluster = CLUSTER.cluster();
    assertThat(cluster.registeredTaskManagers(), is(2));

    StreamExecutionEnvironment env =
        StreamExecutionEnvironment.createRemoteEnvironment(
            FlinkStandaloneCluster.HOST, cluster.restPort(), new Configuration());
    env.setParallelism(4); // 2 TaskManagers x 2 slots: the job needs both
    long sum = 0;
    try (CloseableIterator<Long> doubled =
        env.fromSequence(1, 1000).map(new Doubler()).executeAndCollect("doubling")) {
      while (doubled.hasNext()) {
        sum += doubled.next();
      }
    }

    assertThat(sum, is(2L * (1000L * 1001L / 2)));
  }

  @Test
  public void killedTaskManager_isDeregistered_andAStartedOneRegisters() throws Exception {
    FlinkStandaloneCluster cluster = CLUSTER.cluster();
    ProcessHandle killed = cluster.taskManagerProcess(0);

    cluster.killTaskManager(0);

    assertFalse(killed.isAlive());
    assertThat(cluster.taskManagerCount(), is(1));
    cluster.awaitRegisteredTaskManagers(1, Duration.ofSeconds(30));
    assertThat(cluster.registeredTaskManagers(), is(1));

    int started = cluster.startTaskManager();

    assertThat(started, is(2));
    assertThat(cluster.taskManagerCount(), is(2));
    assertThat(cluster.registeredTaskManagers(), is(2));
  }

  @Test
  public void jvmThatCannotStart_failsStartWithItsLogTail_andLeavesNothing() throws Exception {
    FlinkStandaloneCluster cluster =
        FlinkStandaloneCluster.builder()
            .setTaskManagers(1)
            .optClasspath("/nonexistent/flink-dist.jar")
            .build();
    Path directory;
    List<ProcessHandle> processes;
    try (cluster) {
      IOException failure = assertThrows(IOException.class, cluster::start);

      // "exited", not a deadline: start() returned as soon as a JVM died
      assertThat(failure.getMessage(), containsString("exited with code 1 before the cluster"));
      assertThat(
          failure.getMessage(),
          containsString("java.lang.ClassNotFoundException: org.apache.flink.runtime."));
      directory = cluster.directory();
      processes = cluster.processHandles();
      assertThat(processes.size(), is(2));
    }
    assertNoProcessLeft(processes, directory);
    assertFalse(directory + " still exists", Files.exists(directory));
  }

  private static void assertNoProcessLeft(List<ProcessHandle> processes, Path directory) {
    List<ProcessHandle> alive =
        processes.stream().filter(ProcessHandle::isAlive).collect(Collectors.toList());
    assertThat("processes still alive", alive, empty());
    // Also catches a process the cluster did not track: every child names its conf directory.
    String marker = directory.toString();
    List<String> mentioning =
        ProcessHandle.allProcesses()
            .filter(
                p ->
                    p.info()
                        .arguments()
                        .map(args -> Arrays.stream(args).anyMatch(a -> a.contains(marker)))
                        .orElse(false))
            .map(p -> p.pid() + " " + p.info().commandLine().orElse("?"))
            .collect(Collectors.toList());
    assertThat("processes still using " + directory, mentioning, empty());
  }

  private static final class Doubler implements MapFunction<Long, Long> {
    private static final long serialVersionUID = 1L;

    @Override
    public Long map(Long value) {
      return 2 * value;
    }
  }
}
