package io.ainative.runner.testing;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.ClassRule;
import org.junit.Rule;
import org.junit.Test;
import org.junit.runner.JUnitCore;
import org.junit.rules.TestRule;
import org.junit.runner.Result;

/** The rule keeps what a failed test needs for its post-mortem, and nothing running. */
public class FlinkStandaloneClusterResourceITCase {

  @Test
  public void failingTest_keepsConfigurationAndLogs_butNoProcess() throws IOException {
    Result result = JUnitCore.runClasses(FailingTest.class);

    assertThat(result.getFailureCount(), is(1));
    Path directory = FailingTest.directory;
    try {
      List<ProcessHandle> alive =
          FailingTest.processes.stream()
              .filter(ProcessHandle::isAlive)
              .collect(Collectors.toList());
      assertThat(alive, empty());
      assertTrue(Files.exists(directory.resolve("conf/" + ClusterConfiguration.CONFIG_FILE)));
      assertTrue(Files.exists(directory.resolve("log/jobmanager.log")));
      assertFalse("tmp/ goes even when files are kept", Files.exists(directory.resolve("tmp")));
    } finally {
      try (Stream<Path> paths = Files.walk(directory)) {
        for (Path path : paths.sorted(Comparator.reverseOrder()).collect(Collectors.toList())) {
          Files.delete(path);
        }
      }
    }
  }

  /** Run by the test above, not by Surefire (which skips nested classes). */
  public static class FailingTest {
    static volatile Path directory;
    static volatile List<ProcessHandle> processes;

    @ClassRule
    public static final FlinkStandaloneClusterResource CLUSTER =
        new FlinkStandaloneClusterResource(FlinkStandaloneCluster.builder().setTaskManagers(0));

    @Rule public final TestRule keepFilesOnFailure = CLUSTER.failureWatcher();

    @Test
    public void failsOnPurpose() {
      directory = CLUSTER.cluster().directory();
      processes = CLUSTER.cluster().processHandles();
      fail("on purpose");
    }
  }
}
