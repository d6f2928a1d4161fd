package io.ainative.runner.service.client;

import io.ainative.runner.service.discovery.InstanceInfo;
import io.ainative.runner.service.discovery.ServiceControl;
import io.ainative.runner.service.discovery.ServiceEvents;
import io.ainative.runner.service.discovery.ServiceLink;
import io.ainative.runner.service.discovery.ServiceSpec;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.operators.coordination.CoordinationRequest;
import org.apache.flink.runtime.operators.coordination.CoordinationRequestHandler;
import org.apache.flink.runtime.operators.coordination.CoordinationResponse;
import org.apache.flink.runtime.operators.coordination.CoordinatorStore;
import org.apache.flink.runtime.operators.coordination.OperatorCoordinator;
import org.apache.flink.runtime.operators.coordination.OperatorEvent;
import org.apache.flink.runtime.source.event.SourceEventWrapper;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client operator's coordinator, in the JobManager: it finds its service's {@link
 * ServiceLink} in Flink's {@code CoordinatorStore}, attaches it to the service's enumerator (by
 * the enumerator's coordinator-listening id), and pushes every change of the ready instances to
 * each running subtask. A subtask that reports {@link ClientEvents.Finished} gets a {@link
 * ClientEvents.FinishedAck} and no event after it. When every subtask has reported finished, it
 * tells the service, which then finishes.
 *
 * <p>Flink calls it from the JobManager's main thread; everything it does runs on its own single
 * thread, so its state needs no locks.
 */
final class RpcClientCoordinator implements OperatorCoordinator, CoordinationRequestHandler {
  private static final Logger LOG = LoggerFactory.getLogger(RpcClientCoordinator.class);
  private static final long ATTACH_RETRY_MILLIS = 200;
  /** How long every subtask must stay finished before the service is told to finish. */
  static final long FINISH_GRACE_MILLIS = 3000;

  private final Context context;
  private final ServiceSpec spec;
  private final String clientId;
  private final ScheduledExecutorService thread;
  private final SubtaskGateway[] gateways;
  private final BitSet finished;
  private List<InstanceInfo> instances = List.of();
  private long membershipVersion;
  private @Nullable ServiceLink link;
  private @Nullable Consumer<List<InstanceInfo>> listener;
  private @Nullable ScheduledFuture<?> attaching;
  private long finishEpoch;

  RpcClientCoordinator(Context context, ServiceSpec spec, String clientId) {
    this.context = context;
    this.spec = spec;
    this.clientId = clientId;
    this.gateways = new SubtaskGateway[context.currentParallelism()];
    this.finished = new BitSet(context.currentParallelism());
    this.thread =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "ainative-rpc-client-coordinator-" + clientId);
              t.setDaemon(true);
              return t;
            });
  }

  @Override
  public void start() {
    CoordinatorStore store = context.getCoordinatorStore();
    ServiceLink found =
        (ServiceLink) store.compute(spec.linkKey(), (key, old) -> old != null ? old : new ServiceLink(spec.serviceId()));
    thread.execute(
        () -> {
          link = found;
          listener = list -> thread.execute(() -> onInstances(list));
          found.listen(clientId, spec.clients(), listener);
          attaching = thread.scheduleWithFixedDelay(this::attach, 0, ATTACH_RETRY_MILLIS, TimeUnit.MILLISECONDS);
        });
  }

  /** Until the service's enumerator has the link: hand it over through the store. */
  private void attach() {
    ServiceLink l = link;
    if (l == null) {
      return;
    }
    if (l.serviceAttached()) {
      if (attaching != null) {
        attaching.cancel(false);
      }
      return;
    }
    SourceEventWrapper event = new SourceEventWrapper(new ServiceEvents.Attach(l));
    context.getCoordinatorStore().compute(
        spec.listeningId(),
        (key, old) -> {
          if (old instanceof OperatorCoordinator) {
            try {
              ((OperatorCoordinator) old).handleEventFromOperator(0, 0, event);
            } catch (Exception e) {
              LOG.debug("{}: the service's coordinator is not ready yet: {}", spec, e.toString());
            }
            return old;
          }
          // The service's coordinator has not started: it takes the event when it does.
          return event;
        });
  }

  private void onInstances(List<InstanceInfo> ready) {
    instances = ready;
    membershipVersion++;
    LOG.info("{}: client {} sees {} ready instance(s): {}", spec, clientId, ready.size(), ready);
    for (int i = 0; i < gateways.length; i++) {
      send(i);
    }
  }

  private void send(int subtask) {
    SubtaskGateway gateway = gateways[subtask];
    // A finished subtask has had its FinishedAck, the last event it may get.
    if (gateway != null && !finished.get(subtask)) {
      gateway.sendEvent(new ClientEvents.Membership(membershipVersion, instances));
    }
  }

  @Override
  public CompletableFuture<CoordinationResponse> handleCoordinationRequest(CoordinationRequest request) {
    if (request instanceof ServiceControl.Request) {
      return control((ServiceControl.Request) request);
    }
    if (!(request instanceof ClientEvents.MembershipRequest)) {
      return CompletableFuture.failedFuture(new IllegalArgumentException(spec + ": unknown request " + request));
    }
    return CompletableFuture.supplyAsync(
        () -> new ClientEvents.MembershipResponse(new ClientEvents.Membership(membershipVersion, instances)), thread);
  }

  /**
   * A scaling or status request from the job's client: passed to the service through the link. A
   * refusal (a count out of bounds, a service not started or finishing) is an answer, not a
   * failure, so that its message reaches the caller as written.
   */
  private CompletableFuture<CoordinationResponse> control(ServiceControl.Request request) {
    return CompletableFuture.supplyAsync(() -> link, thread)
        .thenCompose(l -> l == null
            ? CompletableFuture.failedFuture(new IllegalStateException(spec + " has no link yet; ask again later"))
            : l.control(request))
        .<CoordinationResponse>handle((status, error) -> {
          if (error == null) {
            return new ServiceControl.Response(status, null, false);
          }
          Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
          if (cause instanceof IllegalArgumentException || cause instanceof IllegalStateException) {
            return new ServiceControl.Response(null, cause.getMessage(), cause instanceof IllegalArgumentException);
          }
          throw new CompletionException(cause);
        });
  }

  @Override
  public void handleEventFromOperator(int subtask, int attemptNumber, OperatorEvent event) {
    if (!(event instanceof ClientEvents.Finished)) {
      throw new IllegalArgumentException(spec + ": unknown event " + event + " from client subtask " + subtask);
    }
    thread.execute(
        () -> {
          finished.set(subtask);
          SubtaskGateway gateway = gateways[subtask];
          if (gateway != null && gateway.getExecution().getAttemptNumber() == attemptNumber) {
            gateway.sendEvent(new ClientEvents.FinishedAck());
          }
          if (finished.cardinality() == gateways.length) {
            // A subtask reports from its client operator's finish(); operators chained after it
            // may still fail the task. Tell the service only if none does within the grace time.
            long epoch = ++finishEpoch;
            thread.schedule(
                () -> {
                  if (epoch == finishEpoch && finished.cardinality() == gateways.length && link != null) {
                    LOG.info("{}: every subtask of client {} has finished", spec, clientId);
                    link.clientFinished(clientId);
                  }
                },
                FINISH_GRACE_MILLIS,
                TimeUnit.MILLISECONDS);
          }
        });
  }

  @Override
  public void executionAttemptReady(int subtask, int attemptNumber, SubtaskGateway gateway) {
    thread.execute(
        () -> {
          gateways[subtask] = gateway;
          send(subtask);
        });
  }

  @Override
  public void executionAttemptFailed(int subtask, int attemptNumber, @Nullable Throwable reason) {
    thread.execute(
        () -> {
          SubtaskGateway gateway = gateways[subtask];
          if (gateway != null && gateway.getExecution().getAttemptNumber() == attemptNumber) {
            gateways[subtask] = null;
          }
          finished.clear(subtask);
          finishEpoch++;
        });
  }

  @Override
  public void subtaskReset(int subtask, long checkpointId) {
    thread.execute(() -> {
      finished.clear(subtask);
      finishEpoch++;
    });
  }

  @Override
  public void checkpointCoordinator(long checkpointId, CompletableFuture<byte[]> result) {
    result.complete(new byte[0]);
  }

  @Override
  public void notifyCheckpointComplete(long checkpointId) {}

  @Override
  public void resetToCheckpoint(long checkpointId, byte @Nullable [] checkpointData) {}

  @Override
  public void close() {
    ServiceLink l = link;
    Consumer<List<InstanceInfo>> ls = listener;
    if (l != null && ls != null) {
      l.stopListening(ls);
    }
    thread.shutdownNow();
  }

  /** Creates the coordinator in the JobManager; travels with the job graph. */
  static final class Provider implements OperatorCoordinator.Provider {
    private static final long serialVersionUID = 1L;
    private final OperatorID operatorId;
    private final ServiceSpec spec;
    private final String clientId;

    Provider(OperatorID operatorId, ServiceSpec spec, String clientId) {
      this.operatorId = operatorId;
      this.spec = spec;
      this.clientId = clientId;
    }

    @Override
    public OperatorID getOperatorId() {
      return operatorId;
    }

    @Override
    public OperatorCoordinator create(Context context) {
      return new RpcClientCoordinator(context, spec, clientId);
    }
  }
}
