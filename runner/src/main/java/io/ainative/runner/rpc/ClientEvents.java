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

  /** Subtask to coordinator: this subtask has finished its input and every request of it. */
  static final class Finished implements OperatorEvent {
    private static final long serialVersionUID = 1L;

    @Override
    public String toString() {
      return "Finished";
    }
  }
}
