package io.ainative.runner.jobserver;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.equalTo;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * What a Python user sees when the job server cannot run their pipeline: a job error that names
 * the cause, within a bounded time (no hang). Needs {@code -Dainative.python}; skipped without it.
 */
public class PythonJobErrorsITCase {

  private static final Path SCRIPT = Path.of("src/test/python/bad_jobs.py");
  private static final long TIMEOUT_SECONDS = 90;

  private static String python;
  private static AiNativeJobServer server;
  private static String jobEndpoint;
  private static String expansionEndpoint;

  @BeforeClass
  public static void startServer() throws Exception {
    python = PythonScripts.pythonOrSkip();
    server = JobServers.onFreePorts(0);
    jobEndpoint = server.start();
    expansionEndpoint = server.getExpansionEndpoint();
  }

  @AfterClass
  public static void stopServer() {
    if (server != null) {
      server.stop();
    }
  }

  /** Runs one case of the script; returns its output, after checking it failed. */
  private static String runFailing(String... caseAndArgs) throws IOException, InterruptedException {
    List<String> args = new ArrayList<>(List.of(jobEndpoint, expansionEndpoint));
    args.addAll(List.of(caseAndArgs));
    PythonScripts.Run run = PythonScripts.run(python, SCRIPT, TIMEOUT_SECONDS, args);
    String output = run.output;
    assertThat(output, run.exitCode, not(equalTo(0)));
    assertThat(output, not(containsString("UNEXPECTEDLY SUCCEEDED")));
    return output;
  }

  @Test
  public void transformOfAnUnknownUrn_failsTheJob_namingTransformAndUrn() throws Exception {
    String output = runFailing("unknown-urn");
    assertThat(output, containsString("failed in state FAILED"));
    assertThat(output, containsString("Mystery"));
    assertThat(output, containsString("beam:transform:ainative-test:no-such-transform:v1"));
  }

  @Test
  public void unknownEnvironmentType_failsTheJob_namingTheEnvironment() throws Exception {
    String output = runFailing("unknown-environment");
    assertThat(output, containsString("failed in state FAILED"));
    assertThat(output, containsString("has type 'beam:env:ainative-test:no-such-environment:v1', which the runner cannot start"));
    assertThat(output, containsString("Upper"));
  }

  @Test
  public void unreachableWorkerPool_failsTheJob_namingTheAddress() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    String output = runFailing("unreachable-pool", "localhost:" + closedPort);
    assertThat(output, containsString("failed in state FAILED"));
    assertThat(output, containsString("Could not start an SDK worker through the worker pool of an EXTERNAL environment"));
    assertThat(output, containsString("localhost:" + closedPort));
  }

  @Test
  public void unknownProcessor_isRefusedAtExpansion_namingTheField() throws Exception {
    String output = runFailing("bad-config");
    assertThat(output, containsString("processor: unknown processor 'sentiment'; known: [image_classifier, float32_tensor]"));
  }
}
