package io.ainative.runner.service.client;

import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The elements a client took in and has not emitted yet, in arrival order, and the rule by which
 * finished ones leave: in arrival order (ordered mode: a finished element waits for every earlier
 * one), or as soon as each is finished (unordered mode).
 *
 * <p>Not thread-safe: the client operator's mailbox thread owns it.
 */
final class OrderedEmitter<E> {
  private final ArrayDeque<E> unemitted = new ArrayDeque<>();
  private final boolean ordered;
  private final Predicate<E> finished;

  /**
   * @param ordered whether elements leave in arrival order
   * @param finished whether an element is ready to leave
   */
  OrderedEmitter(boolean ordered, Predicate<E> finished) {
    this.ordered = ordered;
    this.finished = finished;
  }

  /** An element arrived. */
  void add(E e) {
    unemitted.addLast(e);
  }

  int size() {
    return unemitted.size();
  }

  /** The earliest element not emitted yet, or null. */
  @Nullable E oldest() {
    return unemitted.peekFirst();
  }

  /** Every element not emitted yet, in arrival order; a read-only view. */
  Collection<E> pending() {
    return Collections.unmodifiableCollection(unemitted);
  }

  /** Hands every finished element the rule lets go to {@code emit}, and forgets it. */
  void emitReady(Consumer<E> emit) {
    if (ordered) {
      while (!unemitted.isEmpty() && finished.test(unemitted.peekFirst())) {
        emit.accept(unemitted.pollFirst());
      }
    } else {
      for (Iterator<E> it = unemitted.iterator(); it.hasNext(); ) {
        E e = it.next();
        if (finished.test(e)) {
          emit.accept(e);
          it.remove();
        }
      }
    }
  }
}
