package io.ainative.runner.service.client;

import io.ainative.transforms.RetryPolicy;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.TimeUnit;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Where each request of a client stands between its sends: in flight on an instance (by request
 * id), waiting for a retry (by due time), or, for a suspect, waiting for the one suspect in flight
 * to come back. Knows no gRPC and no clock: the caller passes the time (nanoseconds).
 *
 * <p>A suspect is a request that was in flight on an instance that was lost; it carries one element
 * and travels alone, one suspect at a time, so an element that kills instances takes down one at
 * most.
 *
 * <p>Not thread-safe: the client operator's mailbox thread owns it.
 *
 * @param <I> the instance a request is sent to
 * @param <R> the request
 */
final class Attempts<I, R extends Attempts.Attempt<I>> {
  private final Map<Long, R> inFlight = new LinkedHashMap<>();
  private final PriorityQueue<R> retries = new PriorityQueue<>(Comparator.comparingLong((R r) -> r.retryAtNanos));
  /** Suspects wait here while another one is on its way. */
  private final ArrayDeque<R> suspects = new ArrayDeque<>();
  private @Nullable R suspectInFlight;

  /** What this class tracks of a request. */
  static class Attempt<I> {
    final long id;
    /** Where it is in flight; null while it is not. */
    @Nullable I instance;
    long sentNanos;
    long retryAtNanos;
    /** Failed attempts so far. */
    int attempts;
    /** Was in flight on an instance that was lost: travels alone, one suspect at a time. */
    boolean suspect;

    Attempt(long id) {
      this.id = id;
    }
  }

  /** Whether {@code r} must wait for another suspect to come back; if so it is queued for then. */
  boolean holdBack(R r) {
    if (r.suspect && suspectInFlight != null && suspectInFlight != r) {
      suspects.addLast(r);
      return true;
    }
    return false;
  }

  /** {@code r} is on its way to {@code target}. */
  void sent(R r, I target, long nowNanos) {
    r.instance = target;
    r.sentNanos = nowNanos;
    inFlight.put(r.id, r);
    if (r.suspect) {
      suspectInFlight = r;
    }
  }

  /**
   * Takes the request an answer from {@code from} is for out of flight; null when there is none
   * (it timed out and went elsewhere already).
   */
  @Nullable R answered(long requestId, I from) {
    R r = inFlight.get(requestId);
    if (r == null || r.instance != from) {
      return null;
    }
    inFlight.remove(requestId);
    return r;
  }

  /** Takes every request in flight on {@code instance} out of flight, in the order they were sent. */
  List<R> lostWith(I instance) {
    List<R> lost = new ArrayList<>();
    for (Iterator<R> it = inFlight.values().iterator(); it.hasNext(); ) {
      R r = it.next();
      if (r.instance == instance) {
        it.remove();
        lost.add(r);
      }
    }
    return lost;
  }

  /** Takes every request in flight longer than {@code timeoutNanos} out of flight. */
  List<R> expired(long nowNanos, long timeoutNanos) {
    List<R> expired = new ArrayList<>();
    for (Iterator<R> it = inFlight.values().iterator(); it.hasNext(); ) {
      R r = it.next();
      if (nowNanos - r.sentNanos > timeoutNanos) {
        it.remove();
        expired.add(r);
      }
    }
    return expired;
  }

  /**
   * {@code r} is no longer on its way to an instance.
   *
   * @return the next suspect, to be sent now, when {@code r} was the suspect in flight; else null
   */
  @Nullable R leftFlight(R r) {
    if (suspectInFlight != r) {
      return null;
    }
    suspectInFlight = null;
    return suspects.pollFirst();
  }

  /**
   * Charges a failed attempt to {@code r}. When {@code policy} allows another, schedules it after the
   * policy's back-off.
   *
   * @return whether {@code r} will be tried again; false once its attempts are spent
   */
  boolean retryLater(R r, RetryPolicy policy, long nowNanos) {
    r.attempts++;
    if (r.attempts >= policy.maxAttempts()) {
      return false;
    }
    r.instance = null;
    r.retryAtNanos = nowNanos + TimeUnit.MILLISECONDS.toNanos(policy.backoffAfter(r.attempts).getMillis());
    retries.add(r);
    return true;
  }

  /** Takes the retries due at {@code nowNanos}, earliest first. */
  List<R> dueRetries(long nowNanos) {
    List<R> due = new ArrayList<>();
    while (!retries.isEmpty() && retries.peek().retryAtNanos <= nowNanos) {
      due.add(retries.poll());
    }
    return due;
  }

  /** Whether a time-out or a retry may come due. */
  boolean hasTimedWork() {
    return !inFlight.isEmpty() || !retries.isEmpty();
  }
}
