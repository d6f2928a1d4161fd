package io.ainative.runner.jobserver;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * Real Beam Python pipelines (apache-beam 2.62.0, {@code --runner=PortableRunner
 * --environment_type=LOOPBACK}) on ainative's job server. The Python interpreter comes from the
 * system property {@code ainative.python} (`.ci/run` creates the venv and sets it); without it
 * these tests are skipped.
 */
public class PythonPipelineITCase {

  private static final Path SCRIPT = Path.of("src/test/python/wordcount_on_job_server.py");

  private static String python;
  private static AiNativeJobServer server;
  private static String endpoint;

  @BeforeClass
  public static void startServer() throws Exception {
    python = PythonScripts.pythonOrSkip();
    server = JobServers.onFreePorts(-1);
    endpoint = server.start();
  }

  @AfterClass
  public static void stopServer() {
    if (server != null) {
      server.stop();
    }
  }

  private static PythonScripts.Run runPython(String... extra) throws IOException, InterruptedException {
    return runPython(300, extra);
  }

  private static PythonScripts.Run runPython(long timeoutSeconds, String... extra) throws IOException, InterruptedException {
    List<String> args = new java.util.ArrayList<>(List.of(endpoint));
    args.addAll(List.of(extra));
    return PythonScripts.run(python, SCRIPT, timeoutSeconds, args);
  }

  @Test
  public void pythonPipeline_withGroupByKeySideInputAndWindows_passesItsAssertions() throws Exception {
    PythonScripts.Run result = runPython();
    assertThat(result.output, result.exitCode, equalTo(0));
    assertThat(result.output, containsString("PYTHON PIPELINE OK"));
  }

  /**
   * Python sends an option it does not declare itself as a string; the runner's option is a number.
   * With Jackson 2.18 under Beam 2.62 that failed the job's preparation (a NullPointerException in
   * Jackson's number parsing, root pom).
   */
  @Test
  public void pythonPipeline_withCheckpointingIntervalAsAPythonFlag_runs() throws Exception {
    PythonScripts.Run result = runPython("--checkpointing_interval=200");
    assertThat(result.output, result.exitCode, equalTo(0));
    assertThat(result.output, containsString("PYTHON PIPELINE OK"));
  }

  @Test
  public void pythonPipeline_onAnExternalWorkerPool_passesItsAssertions() throws Exception {
    int port;
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    Path log = Files.createTempFile("ainative-worker-pool", ".log");
    ProcessBuilder poolBuilder =
        new ProcessBuilder(python, "-m", "apache_beam.runners.worker.worker_pool_main", "--service_port=" + port)
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    // The pool starts each worker as "python -c ...", found on the PATH: it must be the venv's.
    String venvBin = Path.of(python).toAbsolutePath().getParent().toString();
    poolBuilder.environment().merge("PATH", venvBin, (path, bin) -> bin + java.io.File.pathSeparator + path);
    Process pool = poolBuilder.start();
    try {
      awaitListening(port, pool, log);
      PythonScripts.Run result;
      try {
        result = runPython(120, "--environment_type=EXTERNAL", "--environment_config=localhost:" + port);
      } catch (AssertionError e) {
        throw new AssertionError(e.getMessage() + "\nworker pool:\n" + Files.readString(log), e);
      }
      assertThat(result.output, result.exitCode, equalTo(0));
      assertThat(result.output, containsString("PYTHON PIPELINE OK"));
      // With EXTERNAL the submitting process starts no worker of its own: the pool ran them.
    } finally {
      pool.destroy();
      if (!pool.waitFor(10, TimeUnit.SECONDS)) {
        pool.destroyForcibly().waitFor();
      }
      Files.deleteIfExists(log);
    }
  }

  @Test
  public void pythonPipeline_inAProcessEnvironment_passesItsAssertions() throws Exception {
    Path worker = Path.of("../python/bin/ainative-python-worker").toAbsolutePath().normalize();
    String config = "{\"command\": \"" + worker + "\", \"env\": {\"AINATIVE_PYTHON\": \"" + python + "\"}}";
    PythonScripts.Run result = runPython(120, "--environment_type=PROCESS", "--environment_config=" + config);
    assertThat(result.output, result.exitCode, equalTo(0));
    assertThat(result.output, containsString("PYTHON PIPELINE OK"));
  }

  /** Waits (at most 60 s) until something accepts connections on {@code port}. */
  private static void awaitListening(int port, Process process, Path log) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new AssertionError("the worker pool exited:\n" + Files.readString(log));
      }
      try (java.net.Socket socket = new java.net.Socket("localhost", port)) {
        return;
      } catch (IOException notYet) {
        Thread.sleep(100);
      }
    }
    throw new AssertionError("the worker pool did not listen on port " + port + " in 60 s:\n" + Files.readString(log));
  }

  @Test
  public void failingPythonAssertion_reachesThePythonUserAsAJobError() throws Exception {
    PythonScripts.Run result = runPython("--expect-wrong");
    assertThat(result.exitCode, not(equalTo(0)));
    String output = result.output;
    assertThat(output, containsString("failed in state FAILED"));
    assertThat(output, containsString("missing elements [('b', 4)]"));
  }
}
