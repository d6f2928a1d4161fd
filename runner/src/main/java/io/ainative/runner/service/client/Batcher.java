package io.ainative.runner.service.client;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Consumer;
import org.apache.flink.api.common.operators.ProcessingTimeService;

/**
 * A client operator's batch in the making: it goes out (to the sink) when it has {@code maxSize}
 * elements, or {@code maxDelayMillis} after its first element arrived, or when {@link #flush}ed.
 * Task thread only: the delay is a timer of the operator's processing-time service.
 */
final class Batcher<E> {
  private final int maxSize;
  private final long maxDelayMillis;
  private final ProcessingTimeService timers;
  private final Consumer<List<E>> sink;
  private List<E> batch = new ArrayList<>();
  /** Grows with every flush, so that the timer of a batch already sent does nothing. */
  private long epoch;

  Batcher(int maxSize, long maxDelayMillis, ProcessingTimeService timers, Consumer<List<E>> sink) {
    this.maxSize = maxSize;
    this.maxDelayMillis = maxDelayMillis;
    this.timers = timers;
    this.sink = sink;
  }

  void add(E element) {
    batch.add(element);
    if (batch.size() >= maxSize) {
      flush();
    } else if (batch.size() == 1) {
      long due = epoch;
      timers.registerTimer(timers.getCurrentProcessingTime() + maxDelayMillis, t -> {
        if (epoch == due) {
          flush();
        }
      });
    }
  }

  /** Hands the batch so far to the sink, if it has any element. */
  void flush() {
    epoch++;
    if (batch.isEmpty()) {
      return;
    }
    List<E> full = batch;
    batch = new ArrayList<>();
    sink.accept(full);
  }

  int size() {
    return batch.size();
  }

  /** The elements of the batch so far, in arrival order (a view). */
  List<E> elements() {
    return Collections.unmodifiableList(batch);
  }
}
