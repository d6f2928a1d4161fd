package io.ainative.runner.service.discovery;

import java.io.Serializable;
import java.util.Objects;
import org.apache.beam.sdk.annotations.Internal;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * A ready instance of a service: where to reach it and which task attempt runs it. Two
 * registrations of the same subtask with different attempts are different instances; the older
 * one is stale and fenced off. So are two activations of one task attempt (a task that was parked
 * and activated again serves a freshly loaded model on a new port): they differ in {@link
 * #generation()}.
 */
@Internal
public final class InstanceInfo implements Serializable {
  private static final long serialVersionUID = 1L;

  private final int subtask;
  private final int attempt;
  private final String host;
  private final int port;
  private final int capacity;
  private final long loadMillis;
  private final long parameterBytes;
  private final int generation;
  private final @Nullable String localName;

  public InstanceInfo(int subtask, int attempt, String host, int port, int capacity, long loadMillis, long parameterBytes) {
    this(subtask, attempt, 0, host, port, capacity, loadMillis, parameterBytes);
  }

  /**
   * @param generation which activation of the task attempt this is: 0 for the one it started with,
   *     counting up each time the service activates it again after it was parked
   */
  public InstanceInfo(
      int subtask, int attempt, int generation, String host, int port, int capacity, long loadMillis, long parameterBytes) {
    this(subtask, attempt, generation, host, port, capacity, loadMillis, parameterBytes, null);
  }

  private InstanceInfo(
      int subtask,
      int attempt,
      int generation,
      String host,
      int port,
      int capacity,
      long loadMillis,
      long parameterBytes,
      @Nullable String localName) {
    this.localName = localName;
    this.generation = generation;
    this.subtask = subtask;
    this.attempt = attempt;
    this.host = Objects.requireNonNull(host, "host");
    this.port = port;
    this.capacity = capacity;
    this.loadMillis = loadMillis;
    this.parameterBytes = parameterBytes;
  }

  /**
   * {@code subtask#attempt}, and {@code .generation} after the first activation: unique among every
   * instance a service ever had in this job. Clients never reconnect to an id they saw leave.
   */
  public String id() {
    return generation == 0 ? subtask + "#" + attempt : subtask + "#" + attempt + "." + generation;
  }

  public int generation() {
    return generation;
  }

  public int subtask() {
    return subtask;
  }

  public int attempt() {
    return attempt;
  }

  public String host() {
    return host;
  }

  public int port() {
    return port;
  }

  /** Elements the instance takes at once (its batcher queue) before it pushes back. */
  public int capacity() {
    return capacity;
  }

  public long loadMillis() {
    return loadMillis;
  }

  public long parameterBytes() {
    return parameterBytes;
  }

  /** This instance, also reachable in process under {@code name} by clients in its JVM. */
  public InstanceInfo withLocalName(@Nullable String name) {
    return new InstanceInfo(subtask, attempt, generation, host, port, capacity, loadMillis, parameterBytes, name);
  }

  /** The instance's in-process endpoint ({@link LocalEndpoints}), or null: reach it by its port. */
  public @Nullable String localName() {
    return localName;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof InstanceInfo)) {
      return false;
    }
    InstanceInfo that = (InstanceInfo) o;
    return subtask == that.subtask
        && attempt == that.attempt
        && generation == that.generation
        && port == that.port
        && host.equals(that.host);
  }

  @Override
  public int hashCode() {
    return Objects.hash(subtask, attempt, generation, host, port);
  }

  @Override
  public String toString() {
    return "instance " + id() + " at " + host + ":" + port;
  }
}
