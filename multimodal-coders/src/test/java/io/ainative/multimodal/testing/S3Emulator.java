package io.ainative.multimodal.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.Assume;
import org.junit.AssumptionViolatedException;

/**
 * moto's S3 emulator ({@code src/test/python/s3_emulator.py}) as a child process on a loopback
 * port the kernel picks. The only fake in the S3 tests: everything on the Java side (Beam's
 * {@code S3FileSystem}, the AWS SDK, HTTP) is real.
 *
 * <p>Lifecycle: {@link #start} returns once the emulator accepts connections; {@link #close}
 * stops it and waits for it to exit. A JVM shutdown hook stops it too if a test run is cut
 * short, and the emulator exits by itself when its standard input ends, which also happens when
 * this JVM is killed outright. Methods are safe to call from any thread.
 */
public final class S3Emulator implements AutoCloseable {
  private static final Path SCRIPT = Path.of("src/test/python/s3_emulator.py");
  private static final long START_TIMEOUT_SECONDS = 60;
  private static final long STOP_TIMEOUT_SECONDS = 10;

  private final Process process;
  private final Path log;
  private final int port;
  private final Thread shutdownHook;

  private S3Emulator(Process process, Path log, int port) {
    this.process = process;
    this.log = log;
    this.port = port;
    this.shutdownHook = new Thread(this::stop, "s3-emulator-stop");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /**
   * Starts the emulator with the Python of the system property {@code ainative.python}. Skips the
   * calling test (JUnit assumption) when that property is unset or its Python lacks {@code
   * moto[server]}; fails when the emulator does not come up.
   */
  public static S3Emulator start() throws IOException, InterruptedException {
    String python = System.getProperty("ainative.python", "");
    Assume.assumeTrue(
        "set -Dainative.python=PATH to a Python with moto[server] (bin/test makes .venv with it)",
        !python.isEmpty() && Files.isExecutable(Path.of(python)));
    Path log = Files.createTempFile("ainative-s3-emulator", ".log");
    Process process =
        new ProcessBuilder(python, SCRIPT.toString())
            .redirectError(log.toFile())
            .start();
    String first;
    try {
      first = firstLine(process);
    } catch (IOException | RuntimeException e) {
      process.destroyForcibly().waitFor(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      throw e;
    }
    if (first != null && first.startsWith("missing:")) {
      process.waitFor(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      throw new AssumptionViolatedException(
          "the Python of -Dainative.python=" + python + " has no moto[server]: " + first);
    }
    if (first == null || !first.matches("port \\d+")) {
      process.destroyForcibly().waitFor(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      throw new IOException(
          "the S3 emulator did not start; first line '" + first + "', stderr:\n" + tail(log));
    }
    return new S3Emulator(process, log, Integer.parseInt(first.substring("port ".length())));
  }

  /** Reads the protocol line, or null at end of output; bounded by the start timeout. */
  private static String firstLine(Process process) throws IOException, InterruptedException {
    BufferedReader out =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    CompletableFuture<String> line =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return out.readLine();
              } catch (IOException e) {
                throw new IllegalStateException("reading the S3 emulator's output failed", e);
              }
            });
    try {
      return line.get(START_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new IOException(
          "the S3 emulator wrote no port within " + START_TIMEOUT_SECONDS + " s", e);
    } catch (ExecutionException e) {
      throw new IOException("the S3 emulator could not be read", e.getCause());
    }
  }

  /** {@code http://127.0.0.1:PORT}, for {@code endpointOverride}. */
  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + port);
  }

  /** Ends the emulator's input, then signals it if it lingers, and waits for it to exit. */
  private synchronized void stop() {
    if (!process.isAlive()) {
      return;
    }
    try {
      process.getOutputStream().close();
      if (!process.waitFor(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        process.destroy();
        if (!process.waitFor(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }
      }
    } catch (IOException e) {
      process.destroyForcibly();
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Stops the emulator and waits until it has exited.
   *
   * @throws IllegalStateException when it is still alive afterwards
   */
  @Override
  public void close() throws IOException {
    stop();
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // the JVM is already shutting down; the hook has run or will find the process gone
    }
    if (process.isAlive()) {
      throw new IllegalStateException("the S3 emulator (pid " + process.pid() + ") did not exit");
    }
    Files.deleteIfExists(log);
  }

  private static String tail(Path log) throws IOException {
    String s = Files.readString(log, StandardCharsets.UTF_8);
    return s.length() <= 8192 ? s : s.substring(s.length() - 8192);
  }
}
