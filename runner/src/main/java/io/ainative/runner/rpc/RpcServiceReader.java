package io.ainative.runner.rpc;

import io.ainative.harness.InferenceServer;
import io.ainative.harness.grpc.StatusResponse;
import io.ainative.transforms.ModelSpec;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.coders.Coder;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.core.io.InputStatus;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One instance of an inference service, inside a Flink task: a gRPC server with the {@code
 * InferenceServer} that loads the model in the background.
 *
 * <p>The task thread never waits for the model: {@link #pollNext} only looks at what the
 * background threads reported. It announces the instance to the enumerator once the model is
 * warmed up, fails the task when the model failed to load or the service broke (so Flink restarts
 * the service's region, and only it), and ends after {@link ServiceEvents.Finish} once the
 * in-flight requests are answered.
 */
final class RpcServiceReader implements SourceReader<Void, RpcServiceSource.NoSplit> {
  private static final Logger LOG = LoggerFactory.getLogger(RpcServiceReader.class);
  private static final long DRAIN_SECONDS = 30;

  private final ServiceSpec spec;
  private final SourceReaderContext context;
  private @Nullable InferenceServer<?, ?> service;
  private @Nullable Server server;
  private CompletableFuture<Void> wake = new CompletableFuture<>();
  private boolean announced;
  private boolean finishRequested;
  private boolean finished;

  RpcServiceReader(ServiceSpec spec, SourceReaderContext context) {
    this.spec = spec;
    this.context = context;
  }

  @Override
  @SuppressWarnings({"unchecked", "rawtypes"})
  public void start() {
    InferenceServer.Config config = InferenceServer.Config.of(spec.options()).withExecution(spec.execution());
    service =
        InferenceServer.loading(
            (ModelSpec) spec.model(), (Coder) spec.inputCoder(), (Coder) spec.outputCoder(), config);
    try {
      server =
          NettyServerBuilder.forAddress(new InetSocketAddress(0))
              .addService(service)
              .maxInboundMessageSize(Integer.MAX_VALUE)
              .build()
              .start();
    } catch (IOException e) {
      throw new IllegalStateException(spec + ": subtask " + context.getIndexOfSubtask() + " could not start its gRPC server", e);
    }
    LOG.info("{}: subtask {} serves on port {}, loading the model", spec, context.getIndexOfSubtask(), server.getPort());
    service.ready().whenComplete((ok, error) -> wakeUp());
    service.broken().whenComplete((ok, error) -> wakeUp());
  }

  private synchronized void wakeUp() {
    wake.complete(null);
  }

  @Override
  public synchronized CompletableFuture<Void> isAvailable() {
    if (wake.isDone()) {
      wake = new CompletableFuture<>();
      // Give pollNext one turn to look at the new state.
      return CompletableFuture.completedFuture(null);
    }
    return wake;
  }

  @Override
  public InputStatus pollNext(ReaderOutput<Void> output) throws Exception {
    if (finished) {
      return InputStatus.END_OF_INPUT;
    }
    InferenceServer<?, ?> s = service;
    if (s.broken().isCompletedExceptionally()) {
      throw new IllegalStateException(spec + ": instance " + context.getIndexOfSubtask() + " broke", cause(s.broken()));
    }
    if (s.ready().isCompletedExceptionally()) {
      throw new IllegalStateException(
          spec + ": instance " + context.getIndexOfSubtask() + " failed to load the model", cause(s.ready()));
    }
    if (finishRequested) {
      finishNow();
      return InputStatus.END_OF_INPUT;
    }
    if (!announced && s.ready().isDone()) {
      StatusResponse status = s.status();
      context.sendSourceEventToCoordinator(
          new ServiceEvents.Ready(
              advertisedHost(), server.getPort(), status.getCapacity(), status.getLoadTimeMillis(), status.getParameterBytes()));
      announced = true;
    }
    return InputStatus.NOTHING_AVAILABLE;
  }

  /** The TaskManager's host as Flink knows it; an embedded MiniCluster has none: loopback. */
  private String advertisedHost() {
    String host = context.getLocalHostName();
    return host == null || host.isBlank() ? java.net.InetAddress.getLoopbackAddress().getHostAddress() : host;
  }

  private static Throwable cause(CompletableFuture<?> failed) {
    try {
      failed.join();
      return new IllegalStateException("not failed");
    } catch (CompletionException e) {
      return e.getCause() == null ? e : e.getCause();
    }
  }

  private void finishNow() {
    if (announced) {
      context.sendSourceEventToCoordinator(new ServiceEvents.Leaving());
    }
    LOG.info("{}: subtask {} finishing: draining in-flight requests", spec, context.getIndexOfSubtask());
    closeService();
    finished = true;
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
    closeService();
  }

  /**
   * Drains the service (at most {@value #DRAIN_SECONDS} s) and stops its gRPC server. Flink
   * interrupts a task's thread when it cancels the task: the drain is waited for all the same (the
   * interrupt is kept for the caller), and the server is stopped whatever happens, so no port stays
   * open.
   */
  private void closeService() {
    InferenceServer<?, ?> s = service;
    Server g = server;
    service = null;
    server = null;
    boolean interrupted = false;
    try {
      if (s != null) {
        // Drain: accepted requests are answered; clients re-route the ones refused meanwhile. A
        // broken service answers nothing more: free it in the background, do not wait.
        Thread drain = new Thread(() -> {
          try {
            s.close();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }, "ainative-service-drain");
        drain.setDaemon(true);
        drain.start();
        if (!s.broken().isDone()) {
          interrupted = awaitUninterruptibly(drain, TimeUnit.SECONDS.toNanos(DRAIN_SECONDS));
          if (drain.isAlive()) {
            LOG.warn("{}: subtask {} did not drain within {} s; closing it anyway", spec, context.getIndexOfSubtask(), DRAIN_SECONDS);
          }
        }
      }
    } finally {
      if (g != null) {
        if (s != null && s.broken().isDone()) {
          // Let the refusals of the requests the broken model dropped reach their clients, so they
          // re-route them instead of taking the lost stream for a crash they caused.
          g.shutdown();
          interrupted |= awaitTermination(g, TimeUnit.SECONDS.toNanos(1));
        }
        // Clients keep their streams open; ending them tells the clients at once.
        g.shutdownNow();
        interrupted |= awaitTermination(g, TimeUnit.SECONDS.toNanos(5));
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Waits for {@code thread} to end, at most {@code nanos}; returns whether it was interrupted. */
  private static boolean awaitUninterruptibly(Thread thread, long nanos) {
    boolean interrupted = false;
    long deadline = System.nanoTime() + nanos;
    while (thread.isAlive()) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        break;
      }
      try {
        thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    return interrupted;
  }

  /** Waits for {@code server} to terminate, at most {@code nanos}; returns whether it was interrupted. */
  private static boolean awaitTermination(Server server, long nanos) {
    boolean interrupted = false;
    long deadline = System.nanoTime() + nanos;
    while (!server.isTerminated()) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        break;
      }
      try {
        server.awaitTermination(left, TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    return interrupted;
  }
}
