package io.ainative.runner.translation;

import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;

/** Where a stage operator spills what does not fit in memory: the TaskManager's temporary directories. */
final class SpillDirectories {
  private SpillDirectories() {}

  /**
   * One of the TaskManager's temporary directories ({@code io.tmp.dirs}) of {@code operator}'s task,
   * picked at random for each new file so that several disks share the load; the JVM's temporary
   * directory when the task has none.
   */
  static Supplier<Path> of(AbstractStreamOperator<?> operator) {
    return () -> {
      String[] dirs = operator.getContainingTask().getEnvironment().getIOManager().getSpillingDirectoriesPaths();
      if (dirs.length == 0) {
        return Path.of(System.getProperty("java.io.tmpdir"));
      }
      return Path.of(dirs[ThreadLocalRandom.current().nextInt(dirs.length)]);
    };
  }
}
