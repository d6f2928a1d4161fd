package io.ainative.transforms;

import java.io.Serializable;
import java.util.Objects;
import org.joda.time.Duration;

/**
 * How often a failed model call is tried again, with exponential back-off between attempts.
 * Immutable.
 *
 * <p>In the inline expansion a batch whose model call fails is split in halves until the failing
 * element is alone; that single-element call is then attempted up to {@link #maxAttempts()}
 * times in all before the element goes to the failure output. A service runner applies the same
 * policy to a request that an instance failed to answer (re-sending it to another instance).
 */
public final class RetryPolicy implements Serializable {
  private static final long serialVersionUID = 1L;

  private final int maxAttempts;
  private final Duration initialBackoff;
  private final Duration maxBackoff;

  private RetryPolicy(int maxAttempts, Duration initialBackoff, Duration maxBackoff) {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("retry maxAttempts must be >= 1, was " + maxAttempts);
    }
    if (initialBackoff.getMillis() < 0) {
      throw new IllegalArgumentException("retry initialBackoff must be >= 0, was " + initialBackoff);
    }
    if (maxBackoff.isShorterThan(initialBackoff)) {
      throw new IllegalArgumentException(
          "retry maxBackoff (" + maxBackoff + ") must be >= initialBackoff (" + initialBackoff + ")");
    }
    this.maxAttempts = maxAttempts;
    this.initialBackoff = initialBackoff;
    this.maxBackoff = maxBackoff;
  }

  /** One attempt, no retry. */
  public static RetryPolicy noRetries() {
    return new RetryPolicy(1, Duration.ZERO, Duration.ZERO);
  }

  /**
   * Up to {@code maxAttempts} attempts in all; the wait before attempt {@code n + 1} is {@code
   * initialBackoff * 2^(n-1)}, capped at {@code maxBackoff}.
   */
  public static RetryPolicy exponential(
      int maxAttempts, Duration initialBackoff, Duration maxBackoff) {
    return new RetryPolicy(
        maxAttempts,
        Objects.requireNonNull(initialBackoff, "initialBackoff"),
        Objects.requireNonNull(maxBackoff, "maxBackoff"));
  }

  /** The default: 3 attempts, 100 ms then 200 ms back-off, never more than 5 s. */
  public static RetryPolicy defaultPolicy() {
    return exponential(3, Duration.millis(100), Duration.standardSeconds(5));
  }

  public int maxAttempts() {
    return maxAttempts;
  }

  public Duration initialBackoff() {
    return initialBackoff;
  }

  public Duration maxBackoff() {
    return maxBackoff;
  }

  /** The wait after failed attempt {@code attempt} (1-based) before the next one. */
  public Duration backoffAfter(int attempt) {
    if (attempt < 1) {
      throw new IllegalArgumentException("attempt is 1-based, was " + attempt);
    }
    long millis = initialBackoff.getMillis();
    for (int i = 1; i < attempt && millis < maxBackoff.getMillis(); i++) {
      millis *= 2;
    }
    return Duration.millis(Math.min(millis, maxBackoff.getMillis()));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RetryPolicy
        && ((RetryPolicy) o).maxAttempts == maxAttempts
        && ((RetryPolicy) o).initialBackoff.equals(initialBackoff)
        && ((RetryPolicy) o).maxBackoff.equals(maxBackoff);
  }

  @Override
  public int hashCode() {
    return Objects.hash(maxAttempts, initialBackoff, maxBackoff);
  }

  @Override
  public String toString() {
    return "RetryPolicy{maxAttempts=" + maxAttempts + ", initialBackoff=" + initialBackoff
        + ", maxBackoff=" + maxBackoff + "}";
  }
}
