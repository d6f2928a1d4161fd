package io.ainative.examples;

import java.util.Map;

/**
 * The buckets of a latency histogram kept in Beam counters (one counter per bucket, so the
 * histogram is summed across workers like any metric), fine enough that a percentile read from it
 * is within 2.5% of the true value: one bucket per millisecond up to {@value #EXACT_MS} ms, then
 * buckets 5% wide.
 *
 * <p>Recording costs one counter increment per element; only the buckets that received a value
 * exist as metrics (a few dozen for a run whose latencies span a decade).
 */
final class LatencyHistogram {
  /** Latencies below this many milliseconds get a bucket each. */
  static final int EXACT_MS = 20;
  /** Width of a bucket above {@link #EXACT_MS}: its upper bound over its lower bound. */
  static final double GROWTH = 1.05;

  private LatencyHistogram() {}

  /** The bucket of a latency of {@code millis} (negative clock skew counts as 0). */
  static int bucket(long millis) {
    if (millis < EXACT_MS) {
      return (int) Math.max(0, millis);
    }
    return EXACT_MS + (int) Math.floor(Math.log((double) millis / EXACT_MS) / Math.log(GROWTH));
  }

  /** Lower bound (inclusive) of {@code bucket}, in milliseconds. */
  static double lowerBound(int bucket) {
    return bucket < EXACT_MS ? bucket : EXACT_MS * Math.pow(GROWTH, bucket - EXACT_MS);
  }

  /** Upper bound (exclusive) of {@code bucket}, in milliseconds. */
  static double upperBound(int bucket) {
    return bucket < EXACT_MS ? bucket + 1 : lowerBound(bucket + 1);
  }

  /**
   * The {@code q}-quantile (0 < q <= 1) of the values counted in {@code counts} (bucket -> count):
   * the middle of the bucket that holds the value of rank ceil(q * total); NaN when nothing was
   * counted. Exact below {@value #EXACT_MS} ms, within 2.5% above.
   */
  static double quantile(Map<Integer, Long> counts, double q) {
    long total = 0;
    for (long c : counts.values()) {
      total += c;
    }
    if (total == 0) {
      return Double.NaN;
    }
    long rank = Math.max(1, (long) Math.ceil(q * total));
    long seen = 0;
    for (Map.Entry<Integer, Long> bucket : new java.util.TreeMap<>(counts).entrySet()) {
      seen += bucket.getValue();
      if (seen >= rank) {
        int b = bucket.getKey();
        return b < EXACT_MS ? b : Math.sqrt(lowerBound(b) * upperBound(b));
      }
    }
    throw new AssertionError("rank " + rank + " beyond the " + total + " values counted");
  }
}
