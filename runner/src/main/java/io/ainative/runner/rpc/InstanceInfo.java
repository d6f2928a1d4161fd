package io.ainative.runner.rpc;

import java.io.Serializable;
import java.util.Objects;

/**
 * A ready instance of a service: where to reach it and which task attempt runs it. Two
 * registrations of the same subtask with different attempts are different instances; the older
 * one is stale and fenced off.
 */
public final class InstanceInfo implements Serializable {
  private static final long serialVersionUID = 1L;

  private final int subtask;
  private final int attempt;
  private final String host;
  private final int port;
  private final int capacity;
  private final long loadMillis;
  private final long parameterBytes;

  public InstanceInfo(int subtask, int attempt, String host, int port, int capacity, long loadMillis, long parameterBytes) {
    this.subtask = subtask;
    this.attempt = attempt;
    this.host = Objects.requireNonNull(host, "host");
    this.port = port;
    this.capacity = capacity;
    this.loadMillis = loadMillis;
    this.parameterBytes = parameterBytes;
  }

  /** {@code subtask#attempt}: unique among every instance a service ever had in this job. */
  public String id() {
    return subtask + "#" + attempt;
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

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof InstanceInfo)) {
      return false;
    }
    InstanceInfo that = (InstanceInfo) o;
    return subtask == that.subtask && attempt == that.attempt && port == that.port && host.equals(that.host);
  }

  @Override
  public int hashCode() {
    return Objects.hash(subtask, attempt, host, port);
  }

  @Override
  public String toString() {
    return "instance " + id() + " at " + host + ":" + port;
  }
}
