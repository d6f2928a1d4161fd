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

    Ready(String host, int port, int capacity, long loadMillis, long parameterBytes) {
      this.host = host;
      this.port = port;
      this.capacity = capacity;
      this.loadMillis = loadMillis;
      this.parameterBytes = parameterBytes;
    }

    @Override
    public String toString() {
      return "Ready(" + host + ":" + port + ", capacity " + capacity + ")";
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
