package io.ainative.examples;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.matchesPattern;

import java.io.File;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The demo as {@code bin/demo} runs it: its own JVM, the examples' runtime classpath (and with it
 * the logging configuration a user gets), its output read as a user reads it. A normal run prints
 * its report and nothing that looks like a failure: no ERROR or SEVERE line, no exception, no stack
 * trace (Beam's in-process harness used to print about 80 such lines at every shutdown).
 */
public class InferenceDemoITCase {
  private static final long TIMEOUT_SECONDS = 240;

  @Rule public final TemporaryFolder temp = new TemporaryFolder();

  @Test(timeout = (TIMEOUT_SECONDS + 30) * 1000)
  public void theDemo_printsItsReport_withoutErrorsOrStackTraces() throws Exception {
    Path runtimeClasspath = Path.of("target/runtime-classpath.txt");
    assertThat("written by the build before the tests (examples/pom.xml)", Files.exists(runtimeClasspath), equalTo(true));
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx2g");
    command.add("-Dai.djl.offline=true");
    // the --add-opens flags Flink needs on Java 17, as the build gave them to this JVM
    for (String flag : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (flag.startsWith("--add-opens")) {
        command.add(flag);
      }
    }
    command.add("-cp");
    command.add("target/classes" + File.pathSeparator + Files.readString(runtimeClasspath).trim());
    command.add(InferenceDemo.class.getName());
    command.add("--images=200");
    command.add("--imageDir=" + temp.newFolder("images"));
    command.add("--modelDir=" + Path.of("target/test-models").toAbsolutePath());
    Path output = temp.getRoot().toPath().resolve("demo-output.txt");
    Process demo = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
    try {
      assertThat("the demo ended within " + TIMEOUT_SECONDS + " s", demo.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS), equalTo(true));
    } finally {
      demo.destroyForcibly();
    }
    List<String> lines = Files.readAllLines(output, StandardCharsets.UTF_8);
    String printed = String.join("\n", lines);

    assertThat(printed, demo.exitValue(), equalTo(0));
    List<String> failures =
        lines.stream()
            .filter(line -> line.contains("ERROR") || line.contains("SEVERE") || line.contains("Exception") || line.contains("Throwable")
                || line.startsWith("\tat ") || line.startsWith("Caused by"))
            .collect(Collectors.toList());
    assertThat(printed, failures, empty());
    assertThat(printed, lines, hasItem(containsString("accuracy")));
    assertThat(printed, lines, hasItem(matchesPattern("latency     p50 [0-9.]+ m?s, p90 [0-9.]+ m?s, p99 [0-9.]+ m?s, max [0-9.]+ m?s .*")));
    assertThat(printed, lines, hasItem(matchesPattern("job DONE in .*")));
  }
}
