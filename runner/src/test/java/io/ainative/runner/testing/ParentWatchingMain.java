package io.ainative.runner.testing;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.Optional;

/**
 * Entry point of every JVM that {@link FlinkStandaloneCluster} starts: it ties the child's life
 * to the JVM that started it, then runs the Flink entry point named in its arguments.
 *
 * <p>A JVM shutdown hook in the parent kills the children on a normal exit, but a parent that
 * is itself killed with SIGKILL (a Surefire fork timeout, an OOM killer) runs no hook. This class
 * covers that case: when the parent process is gone the child halts at once, without running
 * Flink's shutdown hooks, so no Flink process outlives the test JVM.
 *
 * <p>Arguments: {@code <parent pid> <main class> [main class arguments...]}. The class uses only
 * the JDK, so it starts even on a classpath without Flink and then fails with a plain {@link
 * ClassNotFoundException} that names the missing entry point.
 */
final class ParentWatchingMain {

  /** Exit status when the parent JVM is gone; distinct from Flink's own exit codes. */
  static final int EXIT_PARENT_GONE = 86;

  private ParentWatchingMain() {}

  public static void main(String[] args) throws Throwable {
    if (args.length < 2) {
      throw new IllegalArgumentException(
          "expected <parent pid> <main class> [args...], got " + Arrays.toString(args));
    }
    long parentPid = Long.parseLong(args[0]);
    Optional<ProcessHandle> parent = ProcessHandle.of(parentPid);
    if (parent.isEmpty()) {
      haltBecauseParentIsGone(parentPid);
    }
    // For a process that is not our child the JDK polls its liveness (and its start time, so a
    // reused pid is not mistaken for the parent) from a daemon thread.
    parent.get().onExit().thenRun(() -> haltBecauseParentIsGone(parentPid));

    Method main = Class.forName(args[1]).getMethod("main", String[].class);
    try {
      main.invoke(null, (Object) Arrays.copyOfRange(args, 2, args.length));
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  private static void haltBecauseParentIsGone(long parentPid) {
    System.err.println(
        "Parent process " + parentPid + " is gone; halting this Flink cluster process.");
    System.err.flush();
    Runtime.getRuntime().halt(EXIT_PARENT_GONE);
  }
}
