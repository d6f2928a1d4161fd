package io.ainative.runner.service.source;

import io.ainative.harness.grpc.StatusResponse;
import io.ainative.runner.service.discovery.ServiceEvents;
import io.ainative.runner.service.discovery.ServiceSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.core.io.InputStatus;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One task of an inference service, inside a Flink task: active (an {@link ServiceInstance} loading
 * or serving the model) or parked (no model, no server, no thread of its own).
 *
 * <p>It starts active when its index is below the service's {@code instances}, parked otherwise;
 * the enumerator activates and parks it while the job runs ({@link ServiceEvents.Activate}, {@link
 * ServiceEvents.Park}). The task thread never waits for the model: {@link #pollNext} only looks at
 * what the background threads reported. It announces the instance to the enumerator once the model
 * is warmed up, fails the task when the model failed to load or the service broke (so Flink
 * restarts the service's region, and only it), drains a parked instance on a thread of its own, and
 * ends after {@link ServiceEvents.Finish} once the in-flight requests are answered.
 */
final class RpcServiceReader implements SourceReader<Void, RpcServiceSource.NoSplit> {
  private static final Logger LOG = LoggerFactory.getLogger(RpcServiceReader.class);
  /** How often a serving instance tells the enumerator how many requests it received. */
  static final long SERVED_REPORT_MILLIS = 500;

  private final ServiceSpec spec;
  private final SourceReaderContext context;
  /** Events from background threads, sent from the task thread. */
  private final Queue<SourceEvent> outbox = new ConcurrentLinkedQueue<>();
  private volatile @Nullable ServiceInstance active;
  /** The activation the enumerator expects {@link #active} to announce as. */
  private int generation;
  /** Parked instances still draining or freeing their model. */
  private final List<CompletableFuture<Void>> parking = new ArrayList<>();
  /** The request counts of the activations before the current one (they count on while draining). */
  private final List<AtomicLong> servedBefore = new java.util.concurrent.CopyOnWriteArrayList<>();
  private long servedReported = -1;
  private long ongoingReported = -1;
  private final AtomicBoolean servedReportScheduled = new AtomicBoolean();
  private final ReaderWakeup wake = new ReaderWakeup();
  private boolean announced;
  private boolean finishRequested;
  private boolean finished;
  /** Calls refused for their token, over every activation of this task. */
  private final Counter refusedCalls;
  /** The Flink gauge of {@link #cancelledElements}. */
  static final String CANCELLED_ELEMENTS = "cancelled_elements";

  RpcServiceReader(ServiceSpec spec, SourceReaderContext context) {
    this.spec = spec;
    this.context = context;
    this.refusedCalls = context.metricGroup().counter(ServiceEndpoint.REFUSED_CALLS);
    context.metricGroup().gauge(CANCELLED_ELEMENTS, this::cancelledElements);
  }

  /** Elements the active instance dropped unrun because their client went away; 0 while parked. */
  private long cancelledElements() {
    ServiceInstance instance = active;
    return instance == null ? 0 : instance.status().getCancelledElements();
  }

  @Override
  public void start() {
    if (context.getIndexOfSubtask() < spec.instances()) {
      activate(0);
    } else {
      LOG.info("{}: subtask {} starts parked", spec, context.getIndexOfSubtask());
    }
  }

  private void activate(int newGeneration) {
    generation = newGeneration;
    if (active != null) {
      // Serving already (the enumerator restarted, or its Park never came): only re-announce.
      announced = false;
      wakeUp();
      return;
    }
    ServiceInstance instance = ServiceInstance.start(spec, context.getIndexOfSubtask(), advertisedHost(), refusedCalls::inc);
    active = instance;
    announced = false;
    instance.ready().whenComplete((ok, error) -> wakeUp());
    instance.broken().whenComplete((ok, error) -> wakeUp());
  }

  /** Takes the active instance out of this task: it drains and frees its model in the background. */
  private void park(int parkedGeneration) {
    ServiceInstance instance = active;
    if (instance == null) {
      outbox.add(new ServiceEvents.Parked(parkedGeneration, 0, true, true));
      wakeUp();
      return;
    }
    active = null;
    announced = false;
    servedBefore.add(instance.requestCounter());
    int subtask = context.getIndexOfSubtask();
    LOG.info("{}: subtask {} parks: draining its requests (at most {} ms), then freeing its model", spec, subtask, spec.drainTimeoutMillis());
    CompletableFuture<Void> done = new CompletableFuture<>();
    parking.add(done);
    Thread drainer = new Thread(() -> {
      try {
        ServiceInstance.DrainOutcome outcome = instance.close(spec.drainTimeoutMillis());
        boolean freed = instance.modelFreed().isDone();
        LOG.info("{}: subtask {} is parked (drained in {} ms{})", spec, subtask, outcome.millis,
            outcome.withinBound ? "" : ", cut at the bound; the model is freed when its last call returns");
        outbox.add(new ServiceEvents.Parked(parkedGeneration, outcome.millis, outcome.withinBound, freed));
        wakeUp();
        if (!freed) {
          instance.modelFreed().thenRun(() -> {
            outbox.add(new ServiceEvents.ModelFreed(parkedGeneration));
            wakeUp();
          });
        }
      } finally {
        done.complete(null);
        wakeUp();
      }
    }, "ainative-service-park-" + subtask);
    drainer.setDaemon(true);
    drainer.start();
  }

  private void wakeUp() {
    wake.wakeUp();
  }

  @Override
  public CompletableFuture<Void> isAvailable() {
    // Complete once after each wake-up: pollNext gets one turn to look at the new state.
    return wake.isAvailable();
  }

  @Override
  public InputStatus pollNext(ReaderOutput<Void> output) throws Exception {
    if (finished) {
      return InputStatus.END_OF_INPUT;
    }
    boolean reported = false;
    for (SourceEvent event; (event = outbox.poll()) != null; ) {
      context.sendSourceEventToCoordinator(event);
      reported = true;
    }
    ServiceInstance s = active;
    if (s != null && s.broken().isCompletedExceptionally()) {
      throw new IllegalStateException(spec + ": instance " + context.getIndexOfSubtask() + " broke", cause(s.broken()));
    }
    if (s != null && s.ready().isCompletedExceptionally()) {
      throw new IllegalStateException(
          spec + ": instance " + context.getIndexOfSubtask() + " failed to load the model", cause(s.ready()));
    }
    if (finishRequested) {
      parking.removeIf(CompletableFuture::isDone);
      if (!parking.isEmpty()) {
        return InputStatus.NOTHING_AVAILABLE; // woken when the drain is done
      }
      finishNow();
      return InputStatus.END_OF_INPUT;
    }
    if (s != null && !announced && s.ready().isDone()) {
      StatusResponse status = s.status();
      context.sendSourceEventToCoordinator(
          new ServiceEvents.Ready(
              advertisedHost(), s.port(), status.getCapacity(), status.getLoadTimeMillis(), status.getParameterBytes(), generation, s.localName()));
      announced = true;
    }
    boolean serving = s != null && announced;
    if (serving || reported) {
      // A park that just ended counts what its instance received while it drained.
      reportServed(s, serving);
    }
    return InputStatus.NOTHING_AVAILABLE;
  }

  /**
   * Tells the enumerator the requests received, when they changed; while {@code serving}, looks
   * again in a while.
   */
  private void reportServed(@Nullable ServiceInstance s, boolean serving) {
    long served = served(s);
    // The load matters only to a service that scales by it: others skip building a status.
    long ongoing = serving && spec.autoscale() != null ? ongoing(s) : 0;
    if (served != servedReported || ongoing != ongoingReported) {
      context.sendSourceEventToCoordinator(new ServiceEvents.Served(served, ongoing));
      servedReported = served;
      ongoingReported = ongoing;
    }
    if (serving && servedReportScheduled.compareAndSet(false, true)) {
      CompletableFuture.delayedExecutor(SERVED_REPORT_MILLIS, TimeUnit.MILLISECONDS).execute(() -> {
        servedReportScheduled.set(false);
        wakeUp();
      });
    }
  }

  /** Requests received by every activation of this task so far. */
  /** Elements the instance holds: queued for a batch, or in one that runs. */
  private static long ongoing(ServiceInstance s) {
    StatusResponse status = s.status();
    return (long) status.getQueueDepth() + status.getInFlight();
  }

  private long served(@Nullable ServiceInstance current) {
    long served = current == null ? 0 : current.requests();
    for (AtomicLong before : servedBefore) {
      served += before.get();
    }
    return served;
  }

  /** The TaskManager's host as Flink knows it; an embedded MiniCluster has none: loopback. */
  private String advertisedHost() {
    return ReaderWakeup.advertisedHost(context);
  }

  private static Throwable cause(CompletableFuture<?> failed) {
    return ReaderWakeup.cause(failed);
  }

  private void finishNow() {
    if (announced) {
      context.sendSourceEventToCoordinator(new ServiceEvents.Leaving());
    }
    LOG.info("{}: subtask {} finishing: draining in-flight requests", spec, context.getIndexOfSubtask());
    closeActive();
    finished = true;
  }

  @Override
  public void handleSourceEvents(SourceEvent event) {
    if (event instanceof ServiceEvents.Finish) {
      finishRequested = true;
      wakeUp();
    } else if (finishRequested || finished) {
      // Finishing: activating or parking no longer matters.
    } else if (event instanceof ServiceEvents.Activate) {
      activate(((ServiceEvents.Activate) event).generation());
    } else if (event instanceof ServiceEvents.Park) {
      park(((ServiceEvents.Park) event).generation());
    } else {
      throw new IllegalArgumentException(spec + ": unknown event " + event + " for subtask " + context.getIndexOfSubtask());
    }
  }

  @Override
  public List<RpcServiceSource.NoSplit> snapshotState(long checkpointId) {
    return List.of();
  }

  @Override
  public void addSplits(List<RpcServiceSource.NoSplit> splits) {}

  @Override
  public void notifyNoMoreSplits() {}

  @Override
  public void close() throws Exception {
    closeActive();
    // A parked instance still draining stops its server within its bound (plus the server's own
    // grace): wait for it, so no port outlives the task.
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(spec.drainTimeoutMillis() + 6_000);
    boolean interrupted = false;
    for (CompletableFuture<Void> p : parking) {
      while (!p.isDone() && System.nanoTime() < deadline) {
        try {
          p.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
          break;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** Drains the active instance (at most the spec's drain timeout) and stops its gRPC server. */
  private void closeActive() {
    ServiceInstance s = active;
    active = null;
    if (s != null) {
      s.close(spec.drainTimeoutMillis());
    }
  }
}
