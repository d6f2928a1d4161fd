package io.ainative.runner.service.source;

import io.ainative.runner.service.ServiceStatus;
import io.ainative.runner.service.discovery.InstanceInfo;
import io.ainative.runner.service.discovery.ServiceControl;
import io.ainative.runner.service.discovery.ServiceEvents;
import io.ainative.runner.service.discovery.ServiceLink;
import io.ainative.runner.service.discovery.ServiceSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.api.connector.source.ReaderInfo;
import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service's registry, in the JobManager: which instances are ready, fenced by task attempt and
 * activation, and which of the reserved tasks should be active.
 *
 * <p>An instance is listed from its {@link ServiceEvents.Ready} until its reader leaves, fails, is
 * parked, or is replaced by a newer attempt of the same subtask (checked against the readers Flink
 * has registered, every {@value #CHECK_MILLIS} ms and on every event).
 *
 * <p><b>Scaling.</b> The service reserves {@code maxInstances} tasks; {@link #scale} sets how many
 * are active. Up: the lowest parked subtasks are activated (they load and warm up their model and
 * are listed only then). Down: the active subtasks not ready yet go first, then the highest; each
 * is taken out of the membership first (clients stop routing to it), then told to park: it drains
 * what it accepted, within the drain bound, and frees its model. The active count is the
 * enumerator's checkpoint, so a restore keeps it.
 *
 * <p>All methods run on the source coordinator's thread.
 */
final class RpcServiceEnumerator implements SplitEnumerator<RpcServiceSource.NoSplit, Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(RpcServiceEnumerator.class);
  static final long CHECK_MILLIS = 200;

  private final ServiceSpec spec;
  private final SplitEnumeratorContext<RpcServiceSource.NoSplit> context;
  private final Map<Integer, InstanceInfo> ready = new TreeMap<>();
  private final Task[] tasks;
  private int active;
  private @Nullable ServiceLink link;
  private boolean finishing;
  /** Decides the count from the load, when the service scales by load. */
  private final @Nullable Autoscaler autoscaler;
  /** A count asked for by hand holds until released: the autoscaler leaves it. */
  private boolean pinned;

  /** What the enumerator knows of one reserved task. */
  private static final class Task {
    /** Whether it should be active. */
    boolean wanted;
    /** The activation of the current attempt the enumerator expects it to announce. */
    int generation;
    ServiceStatus.State state;
    boolean modelLoaded;
    long requests;
    /** Elements it holds, as last reported (queued or in a running batch). */
    long ongoing;
    int activations;
    long lastDrainMillis = -1;
    boolean lastDrainWithinBound = true;
  }

  /** @param active the instances to run from the start, in 1..maxInstances */
  RpcServiceEnumerator(ServiceSpec spec, SplitEnumeratorContext<RpcServiceSource.NoSplit> context, int active) {
    this.spec = spec;
    this.context = context;
    this.active = active;
    this.tasks = new Task[spec.maxInstances()];
    this.autoscaler = spec.autoscale() == null ? null : new Autoscaler(spec.autoscale(), spec.maxInstances());
    for (int i = 0; i < tasks.length; i++) {
      Task t = new Task();
      t.wanted = i < active;
      // What the reader does by itself when it starts; addReader corrects it when it differs.
      boolean startsActive = i < spec.instances();
      t.state = startsActive ? ServiceStatus.State.LOADING : ServiceStatus.State.PARKED;
      t.modelLoaded = startsActive;
      t.activations = startsActive ? 1 : 0;
      tasks[i] = t;
    }
  }

  @Override
  public void start() {
    context.callAsync(() -> null, (ignored, error) -> tick(), CHECK_MILLIS, CHECK_MILLIS);
  }

  @Override
  public void handleSplitRequest(int subtaskId, @Nullable String requesterHostname) {}

  @Override
  public void addSplitsBack(List<RpcServiceSource.NoSplit> splits, int subtaskId) {}

  /** A (new attempt of a) reader registered: it started as its index says; tell it otherwise if needed. */
  @Override
  public void addReader(int subtaskId) {
    if (finishing) {
      context.sendEventToSourceReader(subtaskId, new ServiceEvents.Finish());
      return;
    }
    Task t = tasks[subtaskId];
    boolean startsActive = subtaskId < spec.instances();
    t.generation = 0;
    t.requests = 0;
    t.activations = startsActive ? 1 : 0;
    t.modelLoaded = startsActive;
    if (t.wanted && !startsActive) {
      t.generation = 1;
      t.activations = 1;
      t.modelLoaded = true;
      t.state = ServiceStatus.State.LOADING;
      context.sendEventToSourceReader(subtaskId, new ServiceEvents.Activate(t.generation));
    } else if (!t.wanted && startsActive) {
      t.state = ServiceStatus.State.DRAINING;
      context.sendEventToSourceReader(subtaskId, new ServiceEvents.Park(t.generation));
    } else {
      t.state = startsActive ? ServiceStatus.State.LOADING : ServiceStatus.State.PARKED;
    }
  }

  @Override
  public void handleSourceEvent(int subtaskId, SourceEvent event) {
    if (event instanceof ServiceEvents.Attach) {
      attach(((ServiceEvents.Attach) event).link);
      return;
    }
    Task t = tasks[subtaskId];
    if (event instanceof ServiceEvents.Ready) {
      ServiceEvents.Ready r = (ServiceEvents.Ready) event;
      int attempt = currentAttempt(subtaskId);
      if (attempt < 0) {
        LOG.warn("{}: ignoring {} from subtask {} that has no registered reader", spec, r, subtaskId);
        return;
      }
      if (!t.wanted || r.generation() != t.generation) {
        LOG.info("{}: ignoring {} from subtask {}: it is to be parked, or activated again", spec, r, subtaskId);
        return;
      }
      InstanceInfo instance =
          new InstanceInfo(subtaskId, attempt, r.generation(), r.host(), r.port(), r.capacity(), r.loadMillis(), r.parameterBytes())
              .withLocalName(r.localName());
      LOG.info("{}: {} is ready (model loaded in {} ms)", spec, instance, r.loadMillis());
      t.state = ServiceStatus.State.READY;
      ready.put(subtaskId, instance);
      publish();
    } else if (event instanceof ServiceEvents.Leaving) {
      if (ready.remove(subtaskId) != null) {
        publish();
      }
    } else if (event instanceof ServiceEvents.Served) {
      ServiceEvents.Served served = (ServiceEvents.Served) event;
      t.requests = served.requests();
      t.ongoing = served.ongoing();
    } else if (event instanceof ServiceEvents.Parked) {
      ServiceEvents.Parked p = (ServiceEvents.Parked) event;
      LOG.info("{}: subtask {} {}", spec, subtaskId, p);
      if (p.generation() == t.generation && !t.wanted) {
        t.state = ServiceStatus.State.PARKED;
        t.modelLoaded = !p.modelFreed();
        t.lastDrainMillis = p.drainMillis();
        t.lastDrainWithinBound = p.drainedWithinBound();
      }
    } else if (event instanceof ServiceEvents.ModelFreed) {
      if (((ServiceEvents.ModelFreed) event).generation() == t.generation && t.state == ServiceStatus.State.PARKED) {
        t.modelLoaded = false;
      }
    } else {
      throw new IllegalArgumentException(spec + ": unknown event " + event + " from subtask " + subtaskId);
    }
  }

  private void attach(@Nullable ServiceLink newLink) {
    if (newLink == null || newLink == link) {
      return;
    }
    link = newLink;
    LOG.info("{}: a client attached", spec);
    publish();
    newLink.attachService(() -> context.runInCoordinatorThread(this::finishAll), this::control);
  }

  /** Called on any thread (through the link): answered on the coordinator's thread. */
  private CompletableFuture<ServiceStatus> control(ServiceControl.Request request) {
    CompletableFuture<ServiceStatus> answer = new CompletableFuture<>();
    context.runInCoordinatorThread(() -> {
      try {
        if (request.scale) {
          scaleByHand(request.activeInstances);
        } else if (request.release) {
          releaseScale();
        }
        answer.complete(status());
      } catch (RuntimeException e) {
        answer.completeExceptionally(e);
      }
    });
    return answer;
  }

  /**
   * Runs {@code n} instances from now on: activates parked tasks or parks active ones (see the
   * class comment). Returns at once; {@link #status()} shows the progress.
   *
   * @throws IllegalArgumentException when {@code n} is not in 1..maxInstances, naming the service
   *     and the bounds
   * @throws IllegalStateException when the service is finishing
   */
  void scale(int n) {
    if (n < 1 || n > tasks.length) {
      throw new IllegalArgumentException(
          "Cannot scale " + spec + " to " + n + " instance(s): it runs between 1 and " + tasks.length
              + " (maxInstances; --maxInferenceInstances reserves more)");
    }
    if (finishing) {
      throw new IllegalStateException("Cannot scale " + spec + ": it is finishing (every client has finished)");
    }
    LOG.info("{}: scaling from {} to {} instance(s)", spec, active, n);
    active = n;
    while (wantedCount() < n) {
      int subtask = -1;
      for (int i = 0; i < tasks.length && subtask < 0; i++) {
        if (!tasks[i].wanted) {
          subtask = i;
        }
      }
      activate(subtask);
    }
    boolean published = false;
    while (wantedCount() > n) {
      published |= ready.remove(parkOne()) != null;
    }
    if (published) {
      // Out of the membership before the Park reaches the instance: clients stop sending to it
      // first, and re-route what it refuses meanwhile.
      publish();
    }
    for (int i = 0; i < tasks.length; i++) {
      Task t = tasks[i];
      if (!t.wanted && t.state != ServiceStatus.State.PARKED && t.state != ServiceStatus.State.DRAINING) {
        t.state = ServiceStatus.State.DRAINING;
        sendIfRunning(i, new ServiceEvents.Park(t.generation));
      }
    }
  }

  private void activate(int subtask) {
    Task t = tasks[subtask];
    t.wanted = true;
    t.generation++;
    t.activations++;
    t.state = ServiceStatus.State.LOADING;
    t.modelLoaded = true;
    sendIfRunning(subtask, new ServiceEvents.Activate(t.generation));
  }

  /** Marks the active task to park next (not ready first, then the highest) and returns it. */
  private int parkOne() {
    int pick = -1;
    for (int i = tasks.length - 1; i >= 0; i--) {
      Task t = tasks[i];
      if (t.wanted && (pick < 0 || (t.state != ServiceStatus.State.READY && tasks[pick].state == ServiceStatus.State.READY))) {
        pick = i;
      }
    }
    tasks[pick].wanted = false;
    return pick;
  }

  private int wantedCount() {
    int n = 0;
    for (Task t : tasks) {
      n += t.wanted ? 1 : 0;
    }
    return n;
  }

  /** A reader that is not registered (restarting) learns its state in {@link #addReader}. */
  private void sendIfRunning(int subtask, SourceEvent event) {
    if (currentAttempt(subtask) >= 0) {
      context.sendEventToSourceReader(subtask, event);
    }
  }

  ServiceStatus status() {
    List<ServiceStatus.Instance> list = new ArrayList<>();
    for (int i = 0; i < tasks.length; i++) {
      Task t = tasks[i];
      list.add(new ServiceStatus.Instance(
          i, t.state, currentAttempt(i) >= 0, t.modelLoaded, t.requests, t.activations, t.lastDrainMillis, t.lastDrainWithinBound));
    }
    return new ServiceStatus(spec.serviceId(), spec.instances(), spec.maxInstances(), active, spec.drainTimeoutMillis(), list);
  }

  /** Every client has finished: tell every instance to drain and end. */
  private void finishAll() {
    if (finishing) {
      return;
    }
    finishing = true;
    LOG.info("{}: every client has finished; finishing the service", spec);
    for (Integer subtask : context.registeredReaders().keySet()) {
      context.sendEventToSourceReader(subtask, new ServiceEvents.Finish());
    }
  }

  /** What runs every {@value #CHECK_MILLIS} ms: fencing, then scaling by load. */
  void tick() {
    fence();
    autoscale();
  }

  /** {@link #scale}, asked for by a user: on a service that scales by load, the count holds until released. */
  void scaleByHand(int n) {
    scale(n);
    if (autoscaler != null && !pinned) {
      pinned = true;
      LOG.info("{}: {} instance(s) pinned until the scale is released; not scaling by load", spec, active);
    }
  }

  /**
   * Lets the service scale by load again after {@link #scaleByHand}.
   *
   * @throws IllegalArgumentException when the service does not scale by load
   */
  void releaseScale() {
    if (autoscaler == null) {
      throw new IllegalArgumentException(spec + " does not scale by load (--inferenceAutoscaleTargetOngoing is 0)");
    }
    pinned = false;
    LOG.info("{}: scaling by load again ({})", spec, spec.autoscale());
  }

  /** Scales by load when the service does and its count is not pinned (see {@link Autoscaler}). */
  private void autoscale() {
    if (autoscaler == null || pinned || finishing) {
      return;
    }
    boolean settled = true;
    long ongoing = 0;
    for (Task t : tasks) {
      if (t.wanted) {
        settled &= t.state == ServiceStatus.State.READY;
        ongoing += t.ongoing;
      } else {
        settled &= t.state == ServiceStatus.State.PARKED;
      }
    }
    int next = autoscaler.decide(System.nanoTime() / 1_000_000, active, settled, ongoing);
    if (next != active) {
      LOG.info("{}: scaling by load from {} to {} instance(s): {} elements held, target {} per instance",
          spec, active, next, ongoing, spec.autoscale().targetOngoing());
      scale(next);
    }
  }

  /** Drops instances whose task attempt is no longer the registered one (failed or restarted). */
  private void fence() {
    boolean changed = ready.values().removeIf(i -> {
      boolean stale = currentAttempt(i.subtask()) != i.attempt();
      if (stale) {
        LOG.info("{}: {} is gone (its task attempt ended)", spec, i);
        Task t = tasks[i.subtask()];
        if (t.state == ServiceStatus.State.READY) {
          t.state = ServiceStatus.State.LOADING;
        }
      }
      return stale;
    });
    if (changed) {
      publish();
    }
  }

  private int currentAttempt(int subtask) {
    Map<Integer, ReaderInfo> attempts = context.registeredReadersOfAttempts().get(subtask);
    return attempts == null || attempts.isEmpty() ? -1 : Collections.max(attempts.keySet());
  }

  private void publish() {
    if (link != null) {
      link.publish(new ArrayList<>(ready.values()));
    }
  }

  /** The active instance count: a restore (global failover) keeps the service's scale. */
  @Override
  public Integer snapshotState(long checkpointId) {
    return active;
  }

  @Override
  public void close() {
    if (link != null) {
      link.detachService();
      link.publish(List.of());
    }
  }
}
