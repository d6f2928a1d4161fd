package io.ainative.runner.service.discovery;

import org.apache.beam.sdk.annotations.Internal;
import org.apache.flink.api.connector.source.SourceEvent;

/**
 * The events between a service's readers (its instances), its enumerator and its clients. Records:
 * immutable values that Flink serializes between the TaskManagers and the JobManager; each keeps
 * the short form that logs and tests read ({@code Park(1)}).
 */
@Internal
public final class ServiceEvents {
  private ServiceEvents() {}

  /**
   * Reader to enumerator: this instance's model is loaded and warmed up; route to it. {@code
   * generation} is the activation this announces; the enumerator ignores one it no longer expects.
   * {@code localName} is the instance's in-process endpoint ({@link LocalEndpoints}), or null.
   */
  public record Ready(String host, int port, int capacity, long loadMillis, long parameterBytes, int generation, String localName)
      implements SourceEvent {
    @Override
    public String toString() {
      return "Ready(" + host + ":" + port + ", capacity " + capacity + ", generation " + generation + ")";
    }
  }

  /** Reader to enumerator: this instance stops taking requests (it drains, then ends). */
  public record Leaving() implements SourceEvent {
    @Override
    public String toString() {
      return "Leaving";
    }
  }

  /**
   * Enumerator to reader: load the model and serve as activation {@code generation} (announce it
   * with a {@link Ready} of that generation once warmed up). A reader that serves already only
   * announces itself again under the new generation.
   */
  public record Activate(int generation) implements SourceEvent {
    @Override
    public String toString() {
      return "Activate(" + generation + ")";
    }
  }

  /**
   * Enumerator to reader, after it took the instance out of the membership: drain the accepted
   * requests (at most the spec's drain timeout), stop the server and free the model; answer with
   * {@link Parked}. A parked reader answers at once.
   */
  public record Park(int generation) implements SourceEvent {
    @Override
    public String toString() {
      return "Park(" + generation + ")";
    }
  }

  /** Reader to enumerator: parked; how the drain went, and whether the model is freed yet. */
  public record Parked(int generation, long drainMillis, boolean drainedWithinBound, boolean modelFreed) implements SourceEvent {
    @Override
    public String toString() {
      return "Parked(" + generation + ", drained in " + drainMillis + " ms" + (drainedWithinBound ? "" : ", cut at the bound")
          + (modelFreed ? ", model freed" : ", model still in use") + ")";
    }
  }

  /**
   * Reader to enumerator, after a {@link Parked} that said the model was still in use (a request
   * outlived the drain bound): the model is freed now.
   */
  public record ModelFreed(int generation) implements SourceEvent {
    @Override
    public String toString() {
      return "ModelFreed(" + generation + ")";
    }
  }

  /**
   * Reader to enumerator, now and then while it serves: the requests this task attempt received,
   * and the elements it holds now (queued for a batch or in a running one), the load the
   * autoscaler reads.
   */
  public record Served(long requests, long ongoing) implements SourceEvent {
    @Override
    public String toString() {
      return "Served(" + requests + ", ongoing " + ongoing + ")";
    }
  }

  /** Enumerator to reader: every client has finished; drain and end. */
  public record Finish() implements SourceEvent {
    @Override
    public String toString() {
      return "Finish";
    }
  }

  /**
   * A client's coordinator to the service's enumerator, handed over inside the JobManager (never
   * serialized): the link through which the enumerator publishes instances. A class, not a record:
   * the link is transient, which a record component cannot be.
   */
  public static final class Attach implements SourceEvent {
    private static final long serialVersionUID = 1L;
    public final transient ServiceLink link;

    public Attach(ServiceLink link) {
      this.link = link;
    }

    @Override
    public String toString() {
      return "Attach(" + (link == null ? "?" : link.serviceId()) + ")";
    }
  }
}
