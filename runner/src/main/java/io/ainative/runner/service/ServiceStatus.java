package io.ainative.runner.service;

import java.io.Serializable;
import java.util.List;
import java.util.Objects;

/**
 * A snapshot of one inference service of a running job, as its registry in the JobManager sees it:
 * how many instances it should run, and what each of its reserved tasks is doing. Answered by
 * {@link AiNativePipelineResult#serviceStatus} and {@link AiNativePipelineResult#scaleService}.
 * Immutable.
 */
public final class ServiceStatus implements Serializable {
  private static final long serialVersionUID = 1L;

  /** What one reserved task of a service is doing. */
  public enum State {
    /** Active: loading and warming up its model; not routed to yet. */
    LOADING,
    /** Active: registered; clients route requests to it. */
    READY,
    /** Being parked: out of the membership, answering the requests it accepted. */
    DRAINING,
    /** No model loaded, no server, not registered: a reserved task that waits to be activated. */
    PARKED
  }

  /** One reserved task of the service (one subtask of its vertex). */
  public static final class Instance implements Serializable {
    private static final long serialVersionUID = 1L;
    private final int subtask;
    private final State state;
    private final boolean running;
    private final boolean modelLoaded;
    private final long requests;
    private final int activations;
    private final long lastDrainMillis;
    private final boolean lastDrainWithinBound;

    public Instance(
        int subtask,
        State state,
        boolean running,
        boolean modelLoaded,
        long requests,
        int activations,
        long lastDrainMillis,
        boolean lastDrainWithinBound) {
      this.subtask = subtask;
      this.state = Objects.requireNonNull(state, "state");
      this.running = running;
      this.modelLoaded = modelLoaded;
      this.requests = requests;
      this.activations = activations;
      this.lastDrainMillis = lastDrainMillis;
      this.lastDrainWithinBound = lastDrainWithinBound;
    }

    public int subtask() {
      return subtask;
    }

    public State state() {
      return state;
    }

    /** Whether a task attempt of this subtask is registered (false while Flink restarts it). */
    public boolean running() {
      return running;
    }

    /**
     * Whether the task holds a model: while active and draining, and after a park whose drain was
     * cut at the bound, until the model call still running then has returned.
     */
    public boolean modelLoaded() {
      return modelLoaded;
    }

    /** Inference requests the current task attempt received, over all its activations. */
    public long requests() {
      return requests;
    }

    /** How many times the current task attempt was activated (0: never; the first start counts). */
    public int activations() {
      return activations;
    }

    /** How long the last park's drain took, in ms; -1 if it was never parked after serving. */
    public long lastDrainMillis() {
      return lastDrainMillis;
    }

    /** Whether the last park answered every accepted request within the drain bound. */
    public boolean lastDrainWithinBound() {
      return lastDrainWithinBound;
    }

    @Override
    public String toString() {
      return subtask + ":" + state + (running ? "" : "(no task)") + (modelLoaded ? "+model" : "") + " requests=" + requests
          + (lastDrainMillis >= 0 ? " lastDrain=" + lastDrainMillis + "ms" + (lastDrainWithinBound ? "" : "(cut)") : "");
    }
  }

  private final String service;
  private final int instances;
  private final int maxInstances;
  private final int activeInstances;
  private final long drainTimeoutMillis;
  private final List<Instance> tasks;

  public ServiceStatus(
      String service, int instances, int maxInstances, int activeInstances, long drainTimeoutMillis, List<Instance> tasks) {
    this.service = Objects.requireNonNull(service, "service");
    this.instances = instances;
    this.maxInstances = maxInstances;
    this.activeInstances = activeInstances;
    this.drainTimeoutMillis = drainTimeoutMillis;
    this.tasks = List.copyOf(tasks);
  }

  /** The service's id in the job. */
  public String service() {
    return service;
  }

  /** The instances it started with. */
  public int instances() {
    return instances;
  }

  /** The tasks it reserves: the most instances it can run. */
  public int maxInstances() {
    return maxInstances;
  }

  /** The instances it should run now (the last scale request, or {@link #instances()}). */
  public int activeInstances() {
    return activeInstances;
  }

  public long drainTimeoutMillis() {
    return drainTimeoutMillis;
  }

  /** Every reserved task, by subtask index. */
  public List<Instance> tasks() {
    return tasks;
  }

  /** How many tasks are in {@code state}. */
  public long count(State state) {
    return tasks.stream().filter(t -> t.state == state).count();
  }

  /** Whether the service runs exactly {@link #activeInstances()} ready instances and parks the rest, models freed. */
  public boolean settled() {
    return count(State.READY) == activeInstances
        && tasks.stream().allMatch(t -> t.running && (t.state == State.READY || (t.state == State.PARKED && !t.modelLoaded)));
  }

  @Override
  public String toString() {
    return "service " + service + ": " + activeInstances + " active of at most " + maxInstances + " " + tasks;
  }
}
