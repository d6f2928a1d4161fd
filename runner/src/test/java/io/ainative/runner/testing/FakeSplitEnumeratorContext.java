package io.ainative.runner.testing;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.function.BiConsumer;
import org.apache.flink.api.connector.source.ReaderInfo;
import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.connector.source.SplitsAssignment;
import org.apache.flink.metrics.groups.SplitEnumeratorMetricGroup;

/**
 * A split enumerator's context without a coordinator: readers are registered by the test, events
 * to readers are appended to {@link #log}, and work for the coordinator's thread runs at once on
 * the caller's. Periodic calls are not run.
 */
public final class FakeSplitEnumeratorContext<SplitT extends SourceSplit> implements SplitEnumeratorContext<SplitT> {
  /** What happened, in order: {@code "to <subtask>: <event>"} for each event sent to a reader. */
  public final List<String> log = new ArrayList<>();
  private final int parallelism;
  private final Map<Integer, Map<Integer, ReaderInfo>> readers = new TreeMap<>();

  public FakeSplitEnumeratorContext(int parallelism) {
    this.parallelism = parallelism;
  }

  /** Registers attempt {@code attempt} of {@code subtask}'s reader, replacing any earlier one. */
  public void register(int subtask, int attempt) {
    Map<Integer, ReaderInfo> attempts = new HashMap<>();
    attempts.put(attempt, new ReaderInfo(subtask, "localhost"));
    readers.put(subtask, attempts);
  }

  /** The reader of {@code subtask} is gone (its task failed). */
  public void unregister(int subtask) {
    readers.remove(subtask);
  }

  @Override
  public SplitEnumeratorMetricGroup metricGroup() {
    throw new UnsupportedOperationException("no metrics in the fake context");
  }

  @Override
  public void sendEventToSourceReader(int subtaskId, SourceEvent event) {
    log.add("to " + subtaskId + ": " + event);
  }

  @Override
  public int currentParallelism() {
    return parallelism;
  }

  @Override
  public Map<Integer, ReaderInfo> registeredReaders() {
    Map<Integer, ReaderInfo> current = new TreeMap<>();
    readers.forEach((subtask, attempts) -> current.put(subtask, attempts.values().iterator().next()));
    return current;
  }

  @Override
  public Map<Integer, Map<Integer, ReaderInfo>> registeredReadersOfAttempts() {
    return readers;
  }

  @Override
  public void assignSplits(SplitsAssignment<SplitT> newSplitAssignments) {
    throw new UnsupportedOperationException("the fake context assigns no splits");
  }

  @Override
  public void signalNoMoreSplits(int subtask) {}

  @Override
  public <T> void callAsync(Callable<T> callable, BiConsumer<T, Throwable> handler) {
    T result;
    try {
      result = callable.call();
    } catch (Exception e) {
      handler.accept(null, e);
      return;
    }
    handler.accept(result, null);
  }

  @Override
  public <T> void callAsync(Callable<T> callable, BiConsumer<T, Throwable> handler, long initialDelay, long period) {
    // Periodic work is left to the test.
  }

  @Override
  public void runInCoordinatorThread(Runnable runnable) {
    runnable.run();
  }
}
