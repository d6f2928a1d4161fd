package io.ainative.runner.service.source;

import io.ainative.harness.stage.StageServer;
import io.ainative.runner.service.discovery.ServiceEvents;
import io.ainative.runner.service.discovery.StageSpec;
import io.grpc.Server;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
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
 * One instance of a served stage inside a Flink task: a gRPC server with a {@link StageServer}.
 *
 * <p>As {@link RpcServiceReader} does for a model: the task thread never waits for the SDK
 * environment; the instance announces itself ({@link ServiceEvents.Ready}) only once the environment
 * is up and warmed; a failed start or a broken environment fails the task (Flink restarts only the
 * service's region); after {@link ServiceEvents.Finish} it leaves, drains and ends.
 */
final class StageServiceReader implements SourceReader<Void, RpcServiceSource.NoSplit> {
  private static final Logger LOG = LoggerFactory.getLogger(StageServiceReader.class);

  private final StageSpec spec;
  private final SourceReaderContext context;
  private @Nullable StageServer stage;
  private @Nullable Server server;
  private final ReaderWakeup wake = new ReaderWakeup();
  private boolean announced;
  private boolean finishRequested;
  private boolean finished;

  StageServiceReader(StageSpec spec, SourceReaderContext context) {
    this.spec = spec;
    this.context = context;
  }

  @Override
  public void start() {
    StageServer s = new StageServer(spec, "instance " + context.getIndexOfSubtask());
    stage = s;
    try {
      Counter refused = context.metricGroup().counter(ServiceEndpoint.REFUSED_CALLS);
      server = ServiceEndpoint.start(advertisedHost(), s.definition(), spec.service().maxMessageBytes(), spec.service().token(), spec.service().tls(), refused::inc);
    } catch (IOException e) {
      throw new IllegalStateException(
          spec + ": subtask " + context.getIndexOfSubtask() + " could not start its gRPC server on " + advertisedHost(), e);
    }
    LOG.info("{}: subtask {} serves on {}:{}, starting the SDK environment", spec, context.getIndexOfSubtask(), advertisedHost(), server.getPort());
    s.start();
    s.ready().whenComplete((ok, error) -> wakeUp());
    s.broken().whenComplete((ok, error) -> wakeUp());
  }

  private void wakeUp() {
    wake.wakeUp();
  }

  @Override
  public CompletableFuture<Void> isAvailable() {
    return wake.isAvailable();
  }

  @Override
  public InputStatus pollNext(ReaderOutput<Void> output) throws Exception {
    if (finished) {
      return InputStatus.END_OF_INPUT;
    }
    StageServer s = stage;
    if (s.broken().isCompletedExceptionally()) {
      throw new IllegalStateException(spec + ": instance " + context.getIndexOfSubtask() + " broke", cause(s.broken()));
    }
    if (s.ready().isCompletedExceptionally()) {
      throw new IllegalStateException(spec + ": instance " + context.getIndexOfSubtask() + " failed to start", cause(s.ready()));
    }
    if (finishRequested) {
      if (announced) {
        context.sendSourceEventToCoordinator(new ServiceEvents.Leaving());
      }
      LOG.info("{}: subtask {} finishing: draining in-flight requests", spec, context.getIndexOfSubtask());
      closeStage(StageSpec.DRAIN_MILLIS);
      finished = true;
      return InputStatus.END_OF_INPUT;
    }
    if (!announced && s.ready().isDone()) {
      context.sendSourceEventToCoordinator(
          // Generation 0: a served stage is never parked and activated again.
          new ServiceEvents.Ready(advertisedHost(), server.getPort(), spec.settings().maxBatchSize(), 0, 0, 0, null));
      announced = true;
    }
    return InputStatus.NOTHING_AVAILABLE;
  }

  private String advertisedHost() {
    return ReaderWakeup.advertisedHost(context);
  }

  private static Throwable cause(CompletableFuture<?> failed) {
    return ReaderWakeup.cause(failed);
  }

  @Override
  public void handleSourceEvents(SourceEvent event) {
    if (event instanceof ServiceEvents.Finish) {
      finishRequested = true;
      wakeUp();
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
    closeStage(0);
  }

  /**
   * Drains the stage (at most {@code drainMillis}), ends its environment and stops the gRPC server,
   * whatever fails on the way, so that neither a worker process nor a port outlives the task.
   */
  private void closeStage(long drainMillis) throws Exception {
    StageServer s = stage;
    Server g = server;
    stage = null;
    server = null;
    try {
      if (s != null) {
        s.close(s.broken().isDone() ? 0 : drainMillis);
      }
    } finally {
      if (g != null) {
        g.shutdownNow();
        g.awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }
}
