package io.ainative.runner.rpc;

import org.apache.flink.api.connector.source.SourceEvent;

/** The events between a service's readers (its instances), its enumerator and its clients. */
final class ServiceEvents {
  private ServiceEvents() {}

  /** Reader to enumerator: this instance's model is loaded and warmed up; route to it. */
  static final class Ready implements SourceEvent {
    private static final long serialVersionUID = 1L;
    final String host;
    final int port;
    final int capacity;
    final long loadMillis;
    final long parameterBytes;
    /** The activation this announces; the enumerator ignores one it no longer expects. */
    final int generation;

    Ready(String host, int port, int capacity, long loadMillis, long parameterBytes, int generation) {
      this.generation = generation;
      this.host = host;
      this.port = port;
      this.capacity = capacity;
      this.loadMillis = loadMillis;
      this.parameterBytes = parameterBytes;
    }

    @Override
    public String toString() {
      return "Ready(" + host + ":" + port + ", capacity " + capacity + ", generation " + generation + ")";
    }
  }

  /** Reader to enumerator: this instance stops taking requests (it drains, then ends). */
  static final class Leaving implements SourceEvent {
    private static final long serialVersionUID = 1L;

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
  static final class Activate implements SourceEvent {
    private static final long serialVersionUID = 1L;
    final int generation;

    Activate(int generation) {
      this.generation = generation;
    }

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
  static final class Park implements SourceEvent {
    private static final long serialVersionUID = 1L;
    final int generation;

    Park(int generation) {
      this.generation = generation;
    }

    @Override
    public String toString() {
      return "Park(" + generation + ")";
    }
  }

  /** Reader to enumerator: parked; how the drain went, and whether the model is freed yet. */
  static final class Parked implements SourceEvent {
    private static final long serialVersionUID = 1L;
    final int generation;
    final long drainMillis;
    final boolean drainedWithinBound;
    final boolean modelFreed;

    Parked(int generation, long drainMillis, boolean drainedWithinBound, boolean modelFreed) {
      this.generation = generation;
      this.drainMillis = drainMillis;
      this.drainedWithinBound = drainedWithinBound;
      this.modelFreed = modelFreed;
    }

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
  static final class ModelFreed implements SourceEvent {
    private static final long serialVersionUID = 1L;
    final int generation;

    ModelFreed(int generation) {
      this.generation = generation;
    }

    @Override
    public String toString() {
      return "ModelFreed(" + generation + ")";
    }
  }

  /** Reader to enumerator, now and then while it serves: the requests this task attempt received. */
  static final class Served implements SourceEvent {
    private static final long serialVersionUID = 1L;
    final long requests;

    Served(long requests) {
      this.requests = requests;
    }

    @Override
    public String toString() {
      return "Served(" + requests + ")";
    }
  }

  /** Enumerator to reader: every client has finished; drain and end. */
  static final class Finish implements SourceEvent {
    private static final long serialVersionUID = 1L;

    @Override
    public String toString() {
      return "Finish";
    }
  }

  /**
   * A client's coordinator to the service's enumerator, handed over inside the JobManager (never
   * serialized): the link through which the enumerator publishes instances.
   */
  static final class Attach implements SourceEvent {
    private static final long serialVersionUID = 1L;
    final transient ServiceLink link;

    Attach(ServiceLink link) {
      this.link = link;
    }

    @Override
    public String toString() {
      return "Attach(" + (link == null ? "?" : link.serviceId()) + ")";
    }
  }
}
