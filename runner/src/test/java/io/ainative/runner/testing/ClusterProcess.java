package io.ainative.runner.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One JVM of a {@link FlinkStandaloneCluster}: the child process, the files its output goes to,
 * and the ways to stop it.
 *
 * <p>Standard output and error go to {@code <name>.out} and {@code <name>.err}, and the child's
 * log4j writes {@code <name>.log}, all in the log directory given at start. Standard input is
 * closed at once: Surefire talks to its fork over that stream, so the child must not share it.
 *
 * <p>Stopping also covers the process's descendants (a Python SDK worker, for instance): they are
 * listed before the process is signalled, because once it is dead they are re-parented and no
 * longer show up as its descendants. Methods are safe to call from any thread, including a JVM
 * shutdown hook.
 */
final class ClusterProcess {

  private static final int TAIL_BYTES = 64 * 1024;

  private final String name;
  private final Process process;
  private final Path logFile;
  private final Path stdoutFile;
  private final Path stderrFile;
  private final Set<ProcessHandle> knownDescendants = new LinkedHashSet<>();

  private ClusterProcess(String name, Process process, Path logDirectory) {
    this.name = name;
    this.process = process;
    this.logFile = logFile(logDirectory, name);
    this.stdoutFile = logDirectory.resolve(name + ".out");
    this.stderrFile = logDirectory.resolve(name + ".err");
  }

  /** The file the child's log4j writes; passed to the child as {@code -Dlog.file}. */
  static Path logFile(Path logDirectory, String name) {
    return logDirectory.resolve(name + ".log");
  }

  /** Starts {@code command} with {@code environment} added to this JVM's environment. */
  static ClusterProcess start(
      String name, List<String> command, Map<String, String> environment, Path logDirectory)
      throws IOException {
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .redirectOutput(logDirectory.resolve(name + ".out").toFile())
            .redirectError(logDirectory.resolve(name + ".err").toFile())
            .directory(logDirectory.toFile());
    builder.environment().putAll(environment);
    Process process;
    try {
      process = builder.start();
    } catch (IOException e) {
      throw new IOException("could not start the " + name + " JVM: " + command.get(0), e);
    }
    process.getOutputStream().close();
    return new ClusterProcess(name, process, logDirectory);
  }

  String name() {
    return name;
  }

  ProcessHandle handle() {
    return process.toHandle();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  CompletableFuture<Process> onExit() {
    return process.onExit();
  }

  /** The exit status; only once the process has exited. */
  int exitCode() {
    return process.exitValue();
  }

  /** For messages: name, pid, and exit status once it has exited. */
  String describe() {
    String state = process.isAlive() ? "running" : "exited with code " + process.exitValue();
    return name + " (pid " + process.pid() + ", " + state + ")";
  }

  /** Sends SIGTERM, letting Flink run its shutdown hooks; does not wait. */
  synchronized void requestTermination() {
    rememberDescendants();
    process.destroy();
  }

  /** Sends SIGKILL to the process and every descendant seen so far; does not wait. */
  synchronized void killForcibly() {
    rememberDescendants();
    knownDescendants.forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
  }

  /**
   * Waits until the process and the descendants seen so far have exited, or {@code deadline}
   * passes.
   *
   * @return whether all of them exited
   */
  boolean awaitExit(Instant deadline) throws InterruptedException {
    if (!process.waitFor(millisUntil(deadline), TimeUnit.MILLISECONDS)) {
      return false;
    }
    List<ProcessHandle> descendants;
    synchronized (this) {
      descendants = new ArrayList<>(knownDescendants);
    }
    for (ProcessHandle descendant : descendants) {
      try {
        descendant.onExit().get(millisUntil(deadline), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        return false;
      } catch (ExecutionException e) {
        throw new IllegalStateException("waiting for " + descendant + " failed", e);
      }
    }
    return true;
  }

  /** Every process this one started that was seen alive, for leak checks. */
  synchronized List<ProcessHandle> knownDescendants() {
    rememberDescendants();
    return List.copyOf(knownDescendants);
  }

  /**
   * The last {@code maxLines} lines of each non-empty output file of this process (log4j log,
   * stdout, stderr), each under a header naming the file. A file that cannot be read is named
   * with the reason instead.
   */
  String logTail(int maxLines) {
    StringBuilder tail = new StringBuilder();
    for (Path file : Arrays.asList(logFile, stdoutFile, stderrFile)) {
      List<String> lines;
      try {
        lines = lastLines(file, maxLines);
      } catch (NoSuchFileException e) {
        continue;
      } catch (IOException e) {
        tail.append("--- ").append(file).append(": not readable: ").append(e).append('\n');
        continue;
      }
      if (lines.isEmpty()) {
        continue;
      }
      tail.append("--- ").append(describe()).append(": last ").append(lines.size())
          .append(" lines of ").append(file).append(" ---\n");
      lines.forEach(line -> tail.append(line).append('\n'));
    }
    return tail.length() == 0 ? "--- " + describe() + ": no output ---\n" : tail.toString();
  }

  private void rememberDescendants() {
    process.descendants().forEach(knownDescendants::add);
  }

  private static long millisUntil(Instant deadline) {
    return Math.max(0, Duration.between(Instant.now(), deadline).toMillis());
  }

  private static List<String> lastLines(Path file, int maxLines) throws IOException {
    String text;
    boolean truncated;
    try (SeekableByteChannel channel = Files.newByteChannel(file)) {
      long size = channel.size();
      truncated = size > TAIL_BYTES;
      channel.position(Math.max(0, size - TAIL_BYTES));
      ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(size, TAIL_BYTES));
      while (buffer.hasRemaining() && channel.read(buffer) > 0) {
        // read until the buffer is full or the file ends
      }
      text = new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
    }
    List<String> lines = new ArrayList<>(Arrays.asList(text.split("\r?\n", -1)));
    if (truncated && !lines.isEmpty()) {
      lines.remove(0); // starts mid-line
    }
    if (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) {
      lines.remove(lines.size() - 1);
    }
    return lines.subList(Math.max(0, lines.size() - maxLines), lines.size());
  }

  @Override
  public String toString() {
    return describe();
  }
}
