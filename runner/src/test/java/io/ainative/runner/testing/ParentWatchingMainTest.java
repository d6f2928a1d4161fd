package io.ainative.runner.testing;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import org.junit.Test;

/** A cluster JVM must not outlive the JVM that started it, even one killed with SIGKILL. */
public class ParentWatchingMainTest {

  @Test(timeout = 60_000)
  public void child_halts_whenItsParentIsKilled() throws Exception {
    Process parent = new ProcessBuilder("sleep", "600").start(); // stands in for the test JVM
    Process child =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                Path.of(ParentWatchingMain.class.getProtectionDomain().getCodeSource()
                        .getLocation().toURI())
                    .toString(),
                ParentWatchingMain.class.getName(),
                String.valueOf(parent.pid()),
                BlockingMain.class.getName())
            .redirectErrorStream(true)
            .start();
    try {
      BufferedReader output =
          new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
      assertThat(output.readLine(), is(BlockingMain.STARTED)); // the watch is in place by now

      parent.destroyForcibly();

      assertThat(child.waitFor(), is(ParentWatchingMain.EXIT_PARENT_GONE));
    } finally {
      child.destroyForcibly();
      parent.destroyForcibly();
    }
  }

  /** A "Flink entry point" that never returns. */
  static final class BlockingMain {
    static final String STARTED = "started";

    public static void main(String[] args) throws InterruptedException {
      System.out.println(STARTED);
      System.out.flush();
      new CountDownLatch(1).await();
    }
  }
}
