package io.ainative.runner.service.client;

import java.util.ArrayDeque;
import java.util.function.Consumer;
import org.apache.flink.streaming.api.watermark.Watermark;

/**
 * The watermarks a client holds back, each until every element that arrived before it has been
 * emitted. Positions are the client's arrival sequence numbers.
 *
 * <p>Not thread-safe: the client operator's mailbox thread owns it.
 */
final class HeldWatermarks {
  private final ArrayDeque<Held> held = new ArrayDeque<>();

  boolean isEmpty() {
    return held.isEmpty();
  }

  /** Holds {@code mark} until everything before position {@code boundary} is finished. */
  void hold(long boundary, Watermark mark) {
    Held last = held.peekLast();
    if (last != null && last.boundary == boundary) {
      held.pollLast(); // nothing arrived between the two: the newer one says it all
    }
    held.addLast(new Held(boundary, mark));
  }

  /**
   * Hands every watermark whose elements are all finished to {@code emit}, oldest first.
   *
   * @param oldest the position of the oldest element not finished yet
   */
  void release(long oldest, Consumer<Watermark> emit) {
    while (!held.isEmpty() && held.peekFirst().boundary <= oldest) {
      emit.accept(held.pollFirst().mark);
    }
  }

  /** Released once everything before {@code boundary} is finished. */
  private record Held(long boundary, Watermark mark) {}
}
