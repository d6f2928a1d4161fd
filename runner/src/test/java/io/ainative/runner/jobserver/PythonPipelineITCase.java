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
    server = AiNativeJobServer.fromArgs("--job-port=0", "--artifact-port=0", "--expansion-port=-1");
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
    List<String> command = new java.util.ArrayList<>(List.of(python, SCRIPT.toString(), endpoint));
    command.addAll(List.of(extra));
    Path log = Files.createTempFile("ainative-python", ".log");
    Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!process.waitFor(5, TimeUnit.MINUTES)) {
      process.destroyForcibly();
      throw new AssertionError("the Python pipeline did not end in 5 minutes:\n" + Files.readString(log));
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
  public void failingPythonAssertion_reachesThePythonUserAsAJobError() throws Exception {
    Object[] result = runPython("--expect-wrong");
    assertThat(result[0], not(equalTo(0)));
    String output = (String) result[1];
    assertThat(output, containsString("failed in state FAILED"));
    assertThat(output, containsString("missing elements [('b', 4)]"));
  }
}
