package io.ainative.runner.jobserver;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.AfterClass;
import org.junit.Assume;
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
    python = System.getProperty("ainative.python", "");
    Assume.assumeTrue(
        "set -Dainative.python=PATH to a Python with apache-beam==2.62.0 (see .ci/run)",
        !python.isEmpty() && Files.isExecutable(Path.of(python)));
    server = JobServers.onFreePorts(-1);
    endpoint = server.start();
  }

  @AfterClass
  public static void stopServer() {
    if (server != null) {
      server.stop();
    }
  }

  /** Runs the script; returns {exit code, combined output}. */
  private static Object[] runPython(String... extra) throws IOException, InterruptedException {
    return runPython(300, extra);
  }

  private static Object[] runPython(long timeoutSeconds, String... extra) throws IOException, InterruptedException {
    List<String> command = new java.util.ArrayList<>(List.of(python, SCRIPT.toString(), endpoint));
    command.addAll(List.of(extra));
    Path log = Files.createTempFile("ainative-python", ".log");
    Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
      throw new AssertionError("the Python pipeline did not end in " + timeoutSeconds + " s:\n" + Files.readString(log));
    }
    String output = Files.readString(log, StandardCharsets.UTF_8);
    Files.deleteIfExists(log);
    return new Object[] {process.exitValue(), output};
  }

  @Test
  public void pythonPipeline_withGroupByKeySideInputAndWindows_passesItsAssertions() throws Exception {
    Object[] result = runPython();
    assertThat((String) result[1], result[0], equalTo(0));
    assertThat((String) result[1], containsString("PYTHON PIPELINE OK"));
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
      Object[] result;
      try {
        result = runPython(120, "--environment_type=EXTERNAL", "--environment_config=localhost:" + port);
      } catch (AssertionError e) {
        throw new AssertionError(e.getMessage() + "\nworker pool:\n" + Files.readString(log), e);
      }
      assertThat((String) result[1], result[0], equalTo(0));
      assertThat((String) result[1], containsString("PYTHON PIPELINE OK"));
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
    Object[] result = runPython(120, "--environment_type=PROCESS", "--environment_config=" + config);
    assertThat((String) result[1], result[0], equalTo(0));
    assertThat((String) result[1], containsString("PYTHON PIPELINE OK"));
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
    Object[] result = runPython("--expect-wrong");
    assertThat(result[0], not(equalTo(0)));
    String output = (String) result[1];
    assertThat(output, containsString("failed in state FAILED"));
    assertThat(output, containsString("missing elements [('b', 4)]"));
  }
}
