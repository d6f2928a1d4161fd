package io.ainative.runner.service.client;

import io.ainative.runner.service.discovery.InstanceInfo;
import java.util.List;
import org.apache.flink.runtime.operators.coordination.CoordinationRequest;
import org.apache.flink.runtime.operators.coordination.CoordinationResponse;
import org.apache.flink.runtime.operators.coordination.OperatorEvent;

/** Events between the client operator's subtasks and their coordinator. */
final class ClientEvents {
  private ClientEvents() {}

  /** Coordinator to subtask: the instances of the service that are ready now (the whole list). */
  static final class Membership implements OperatorEvent {
    private static final long serialVersionUID = 1L;
    /** Grows with every change; a subtask ignores a list older than one it has. */
    final long version;
    final List<InstanceInfo> instances;

    Membership(long version, List<InstanceInfo> instances) {
      this.version = version;
      this.instances = List.copyOf(instances);
    }

    @Override
    public String toString() {
      return "Membership#" + version + instances;
    }
  }

  /**
   * Subtask to coordinator, as a request (answered off the task's mailbox): the current {@link
   * Membership}. A subtask asks while it waits for an instance inside one record, where pushed
   * events cannot reach it: they are mails, taken only between records, and a chained operator
   * before the client may emit a whole bundle within one.
   */
  static final class MembershipRequest implements CoordinationRequest {
    private static final long serialVersionUID = 1L;
  }

  /** The answer to a {@link MembershipRequest}. */
  static final class MembershipResponse implements CoordinationResponse {
    private static final long serialVersionUID = 1L;
    final Membership membership;

    MembershipResponse(Membership membership) {
      this.membership = membership;
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
