package io.ainative.benchmarks.pipeline;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs one benchmark case, or a server, in a fresh JVM (this JVM's flags and class path) and reads
 * its result; inside that JVM, tells its peak resident memory.
 *
 * <p>The child prints one line {@code RESULT <fields...>}; its standard error goes to a temporary
 * file that is kept, and named, when it fails.
 */
final class ChildJvm {
    private ChildJvm() {}

  /** Runs {@code main} with {@code args} in a new JVM; returns the fields of its last RESULT line. */
  static String[] run(Class<?> main, List<String> jvmArgs, String... args) throws IOException, InterruptedException {
    Path log = Files.createTempFile(main.getSimpleName() + "-", ".log");
    Process process = new ProcessBuilder(command(main.getName(), jvmArgs, args)).redirectError(log.toFile()).start();
    String last = null;
    try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = out.readLine(); line != null; line = out.readLine()) {
        if (line.startsWith("RESULT ")) {
          last = line.substring("RESULT ".length());
        }
      }
    }
    int exit = process.waitFor();
    if (exit != 0 || last == null) {
      throw new IllegalStateException(String.join(" ", args) + " failed (exit " + exit + "); its stderr is in " + log);
    }
    Files.delete(log);
    return last.split(" ");
  }

  /**
   * Starts {@code mainClass} with {@code args} in a new JVM that runs until it is destroyed, its
   * standard output and error going to {@code log}.
   */
  static Process start(String mainClass, Path log, String... args) throws IOException {
    return new ProcessBuilder(command(mainClass, List.of(), args)).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  private static List<String> command(String mainClass, List<String> jvmArgs, String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
    command.addAll(jvmArgs);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass);
    command.addAll(List.of(args));
    return command;
  }

  /** This process's peak resident memory so far (Linux {@code VmHWM}), in KiB; -1 where unknown. */
  static long peakRssKib() throws IOException {
    Path status = Path.of("/proc/self/status");
    if (!Files.exists(status)) {
      return -1;
    }
    for (String line : Files.readAllLines(status)) {
      if (line.startsWith("VmHWM:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }
}
