package io.ainative.runner.service.discovery;

import java.io.Serializable;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.annotations.Internal;

/**
 * A served stage's settings, as its annotation carries them: {@code key=value} pairs separated by
 * {@code ;} (keys {@code instances}, {@code max_batch_size}, {@code max_batching_delay_ms}, {@code
 * timeout_ms}, {@code threads}; each optional, a positive integer). Immutable.
 */
@Internal
public final class ServedStageSettings implements Serializable {
  private static final long serialVersionUID = 1L;

  private final int instances;
  private final int maxBatchSize;
  private final long maxBatchingDelayMillis;
  private final long timeoutMillis;
  private final int threads;

  private ServedStageSettings(int instances, int maxBatchSize, long maxBatchingDelayMillis, long timeoutMillis, int threads) {
    this.instances = instances;
    this.maxBatchSize = maxBatchSize;
    this.maxBatchingDelayMillis = maxBatchingDelayMillis;
    this.timeoutMillis = timeoutMillis;
    this.threads = threads;
  }

  /**
   * @param step the composite's name, for the error
   * @throws IllegalArgumentException naming the step and the key of an unknown key or a value that
   *     is not a positive integer
   */
  public static ServedStageSettings parse(String step, String text) {
    Map<String, Long> values = new TreeMap<>(Map.of("instances", 1L, "max_batch_size", 64L, "max_batching_delay_ms", 50L, "timeout_ms", 120_000L, "threads", 1L));
    for (String pair : text.split(";")) {
      if (pair.isBlank()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String key = eq < 0 ? pair.trim() : pair.substring(0, eq).trim();
      if (!values.containsKey(key)) {
        throw new IllegalArgumentException("Served stage '" + step + "': unknown setting '" + key + "'; known: " + values.keySet());
      }
      long value;
      try {
        value = eq < 0 ? -1 : Long.parseLong(pair.substring(eq + 1).trim());
      } catch (NumberFormatException e) {
        value = -1;
      }
      if (value < 1 || (!key.endsWith("_ms") && value > Integer.MAX_VALUE)) {
        throw new IllegalArgumentException("Served stage '" + step + "': " + key + " must be a positive integer, got '" + pair + "'");
      }
      values.put(key, value);
    }
    return new ServedStageSettings(
        Math.toIntExact(values.get("instances")),
        Math.toIntExact(values.get("max_batch_size")),
        values.get("max_batching_delay_ms"),
        values.get("timeout_ms"),
        Math.toIntExact(values.get("threads")));
  }

  /** Service instances: Flink tasks, each with its own SDK worker. */
  public int instances() {
    return instances;
  }

  /** Elements in one request (one bundle) at most. */
  public int maxBatchSize() {
    return maxBatchSize;
  }

  /** How long the client waits to fill a request. */
  public long maxBatchingDelayMillis() {
    return maxBatchingDelayMillis;
  }

  /** How long one request may take before it is sent again elsewhere. */
  public long timeoutMillis() {
    return timeoutMillis;
  }

  /** Threads the numeric libraries of each instance's worker process may use (see {@code translation.service.WorkerThreads}). */
  public int threads() {
    return threads;
  }

  @Override
  public String toString() {
    return "instances=" + instances + ";max_batch_size=" + maxBatchSize + ";max_batching_delay_ms=" + maxBatchingDelayMillis
        + ";timeout_ms=" + timeoutMillis + ";threads=" + threads;
  }
}
