package io.ainative.runner.jobserver;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.Assume;

/** Beam Python scripts run by the Python tests, with the venv of {@code -Dainative.python}. */
final class PythonScripts {
  /** The repository's Python package ({@code python/ainative_beam}), put on every script's path. */
  private static final Path PYTHON_PACKAGE = Path.of("../python").toAbsolutePath().normalize();

  /** How a script ended. */
  static final class Run {
    final int exitCode;
    final String output;

    Run(int exitCode, String output) {
      this.exitCode = exitCode;
      this.output = output;
    }
  }

  private PythonScripts() {}

  /**
   * The Python of {@code -Dainative.python}; skips the calling test class when it is not set (plain
   * {@code mvn verify}; {@code bin/test} sets it).
   */
  static String pythonOrSkip() {
    String python = System.getProperty("ainative.python", "");
    Assume.assumeTrue(
        "set -Dainative.python=PATH to a Python with apache-beam==2.62.0 (see bin/test)",
        !python.isEmpty() && Files.isExecutable(Path.of(python)));
    return python;
  }

  /** A script started and not yet waited for. */
  static final class Started {
    final Process process;
    private final Path script;
    private final List<String> args;
    private final Path log;

    private Started(Process process, Path script, List<String> args, Path log) {
      this.process = process;
      this.script = script;
      this.args = args;
      this.log = log;
    }

    /**
     * Waits for the script to end and deletes its log.
     *
     * @throws AssertionError with the script's output if it has not ended within the time limit
     */
    Run await(long timeoutSeconds) throws IOException, InterruptedException {
      try {
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor();
          throw new AssertionError(
              script.getFileName() + " " + args + " did not end in " + timeoutSeconds + " s:\n" + Files.readString(log));
        }
        return new Run(process.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
      } finally {
        Files.deleteIfExists(log);
      }
    }
  }

  /** Starts {@code python script args...}; the caller must {@link Started#await} it. */
  static Started start(String python, Path script, List<String> args) throws IOException {
    List<String> command = new ArrayList<>(List.of(python, script.toString()));
    command.addAll(args);
    Path log = Files.createTempFile("ainative-python", ".log");
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().put("PYTHONPATH", PYTHON_PACKAGE.toString());
    try {
      return new Started(builder.start(), script, args, log);
    } catch (IOException e) {
      Files.deleteIfExists(log);
      throw e;
    }
  }

  /**
   * Runs {@code python script args...} and waits for it.
   *
   * @throws AssertionError with the script's output if it has not ended within the time limit
   */
  static Run run(String python, Path script, long timeoutSeconds, List<String> args) throws IOException, InterruptedException {
    return start(python, script, args).await(timeoutSeconds);
  }
}
