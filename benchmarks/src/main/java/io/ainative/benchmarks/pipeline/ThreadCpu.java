package io.ainative.benchmarks.pipeline;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * Where a run's CPU went, by thread: samples {@code /proc/self/task/<tid>/stat} (user + system
 * time of every thread of this process, native ones included, such as PyTorch's intra-op threads
 * and gRPC's event loops) every 100 ms, keeps the last sample of threads that end during the run
 * (Flink's task threads end with the job), and sums the time spent since {@link #start} by thread
 * name with digits folded ({@code grpc-default-executor-3} and {@code -4} together). It counts from
 * the sample at which {@code from} first holds to the one at which {@code until} first holds (so a
 * pipeline's start and teardown can be left out). Linux only; elsewhere it reports nothing.
 * Resolution: one clock tick (10 ms) per thread, and 100 ms at both ends.
 */
final class ThreadCpu {
  private static final Path TASKS = Path.of("/proc/self/task");
  private static final double TICK_MICROS = 10_000; // USER_HZ = 100 on Linux

  private Map<Long, Long> baseline;
  private final Map<Long, Long> last = new HashMap<>();
  private final Map<Long, String> names = new HashMap<>();
  private final Thread sampler;
  private volatile boolean running = true;
  private volatile long fromNanos;
  private volatile long untilNanos;

  private ThreadCpu(BooleanSupplier from, BooleanSupplier until) {
    sampler =
        new Thread(
            () -> {
              while (running) {
                synchronized (this) {
                  if (baseline == null) {
                    if (from.getAsBoolean()) {
                      baseline = sample();
                      fromNanos = System.nanoTime();
                    }
                  } else if (until.getAsBoolean()) {
                    sample();
                    untilNanos = System.nanoTime();
                    return;
                  } else {
                    sample();
                  }
                }
                try {
                  Thread.sleep(100);
                } catch (InterruptedException e) {
                  return;
                }
              }
            },
            "thread-cpu-sampler");
    sampler.setDaemon(true);
    sampler.start();
  }

  /** Counts from the first sample at which {@code from} holds to the first at which {@code until} holds. */
  static ThreadCpu between(BooleanSupplier from, BooleanSupplier until) {
    return new ThreadCpu(from, until);
  }

  /** Seconds between the first and the last counted sample. */
  double seconds() {
    return (untilNanos - fromNanos) / 1e9;
  }

  /** Reads every thread's CPU ticks; remembers each thread's name and latest value. */
  private synchronized Map<Long, Long> sample() {
    Map<Long, Long> now = new HashMap<>();
    if (!Files.isDirectory(TASKS)) {
      return now;
    }
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(TASKS)) {
      for (Path task : tasks) {
        try {
          String stat = Files.readString(task.resolve("stat"));
          // "tid (comm) state ..." where comm may hold spaces and parentheses: split after the last ')'
          int close = stat.lastIndexOf(')');
          String name = stat.substring(stat.indexOf('(') + 1, close);
          String[] fields = stat.substring(close + 2).split(" ");
          long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime, stime
          long tid = Long.parseLong(task.getFileName().toString());
          now.put(tid, ticks);
          last.put(tid, ticks);
          names.put(tid, name);
        } catch (IOException | RuntimeException e) {
          // the thread ended between listing and reading: its last sample stands
        }
      }
    } catch (IOException e) {
      // no /proc: nothing to report
    }
    return now;
  }

  /** Stops sampling and returns microseconds of CPU by thread-name group, largest first. */
  Map<String, Double> stop() throws InterruptedException {
    sampler.join(2_000);
    running = false;
    sampler.interrupt();
    sampler.join();
    Map<String, Double> byGroup = new HashMap<>();
    synchronized (this) {
      if (baseline == null || untilNanos == 0) {
        return byGroup;
      }
      for (Map.Entry<Long, Long> e : last.entrySet()) {
        long spent = e.getValue() - baseline.getOrDefault(e.getKey(), 0L);
        if (spent > 0) {
          byGroup.merge(group(names.get(e.getKey())), spent * TICK_MICROS, Double::sum);
        }
      }
    }
    List<Map.Entry<String, Double>> sorted = new ArrayList<>(byGroup.entrySet());
    sorted.sort((a, b) -> Double.compare(b.getValue(), a.getValue()));
    Map<String, Double> result = new java.util.LinkedHashMap<>();
    for (Map.Entry<String, Double> e : sorted) {
      result.put(e.getKey(), e.getValue());
    }
    return result;
  }

  private static String group(String name) {
    return name.replaceAll("[0-9]+", "#");
  }

  /** A table row per group (at most {@code rows}, the rest summed), in microseconds per element. */
  static List<String> table(String run, Map<String, Double> micros, long elements, int rows) {
    List<String> lines = new ArrayList<>();
    double total = micros.values().stream().mapToDouble(Double::doubleValue).sum();
    lines.add(String.format(Locale.ROOT, "| %s | **all threads** | %.1f | 100%% |", run, total / elements));
    int i = 0;
    double rest = 0;
    for (Map.Entry<String, Double> e : micros.entrySet()) {
      if (i++ < rows) {
        lines.add(
            String.format(
                Locale.ROOT, "| %s | `%s` | %.1f | %.0f%% |", run, e.getKey(), e.getValue() / elements, 100 * e.getValue() / total));
      } else {
        rest += e.getValue();
      }
    }
    if (rest > 0) {
      lines.add(String.format(Locale.ROOT, "| %s | (other threads) | %.1f | %.0f%% |", run, rest / elements, 100 * rest / total));
    }
    return lines;
  }

}
