package io.ainative.runner.rpc;

import java.util.List;
import org.apache.flink.runtime.operators.coordination.OperatorEvent;

/** Events between the client operator's subtasks and their coordinator. */
final class ClientEvents {
  private ClientEvents() {}

  /** Coordinator to subtask: the instances of the service that are ready now (the whole list). */
  static final class Membership implements OperatorEvent {
    private static final long serialVersionUID = 1L;
    final List<InstanceInfo> instances;

    Membership(List<InstanceInfo> instances) {
      this.instances = List.copyOf(instances);
    }

    @Override
    public String toString() {
      return "Membership" + instances;
    }
  }

  /**
   * Coordinator to subtask, in answer to {@link Finished}: the last event this attempt of the
   * subtask gets. A subtask waits for it before its task ends, because Flink fails over a task that
   * an event from a coordinator reaches after it ended ("An OperatorEvent ... was lost").
   */
  static final class FinishedAck implements OperatorEvent {
    private static final long serialVersionUID = 1L;

    @Override
    public String toString() {
      return "FinishedAck";
    }
  }

  /** Subtask to coordinator: this subtask has finished its input and every request of it. */
  static final class Finished implements OperatorEvent {
    private static final long serialVersionUID = 1L;

    @Override
    public String toString() {
      return "Finished";
    }
  }
}
