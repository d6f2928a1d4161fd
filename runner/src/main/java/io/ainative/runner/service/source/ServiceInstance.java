package io.ainative.runner.service.source;

import io.ainative.harness.InferenceServer;
import io.ainative.harness.grpc.InferenceServiceGrpc;
import io.ainative.harness.grpc.StatusResponse;
import io.ainative.runner.service.discovery.CallToken;
import io.ainative.runner.service.discovery.LocalEndpoints;
import io.ainative.runner.service.discovery.ServiceSpec;
import io.ainative.transforms.ModelSpec;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.beam.sdk.coders.Coder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One activation of a service instance inside its task: the {@code InferenceServer} that loads and
 * serves the model, and the gRPC server in front of it. A task that is parked and activated again
 * makes a new one (a new port, a freshly loaded model).
 *
 * <p><b>Lifecycle.</b> {@link #start} returns at once with the model loading in the background;
 * {@link #close} drains the accepted requests, at most for a bound, stops the gRPC server and
 * frees the model. Once closed, the instance holds no port, no server thread and, as soon as no
 * model call is running, no model: a model call still running at the bound cannot be cut short
 * (freeing a model under a running call would free memory in use), so it finishes on its own
 * thread and the model is freed right after ({@link #modelFreed()}).
 *
 * <p><b>Threading.</b> {@link #close} blocks; call it off the task's mailbox thread unless the
 * task is ending anyway. The other methods do not block.
 */
@Internal
public final class ServiceInstance {
  private static final Logger LOG = LoggerFactory.getLogger(ServiceInstance.class);

  private final ServiceSpec spec;
  private final int subtask;
  private final InferenceServer<?, ?> service;
  private final Server server;
  /** The same service in process, for clients in this JVM ({@link LocalEndpoints}). */
  private final Server local;
  private final String localName;
  private final AtomicLong requests;
  private final CompletableFuture<Void> modelFreed = new CompletableFuture<>();
  private final AtomicBoolean closed = new AtomicBoolean();

  private ServiceInstance(
      ServiceSpec spec, int subtask, InferenceServer<?, ?> service, Server server, Server local, String localName, AtomicLong requests) {
    this.spec = spec;
    this.subtask = subtask;
    this.service = service;
    this.server = server;
    this.local = local;
    this.localName = localName;
    this.requests = requests;
  }

  /** The service's batching, execution and, when set, its copies' intra-op threads. */
  public static InferenceServer.Config serverConfig(ServiceSpec spec) {
    InferenceServer.Config config =
        InferenceServer.Config.of(spec.options()).withExecution(spec.execution()).withObjectStore(spec.objectStore());
    if (spec.intraOpThreads() > 0) {
      config = config.withHostOptions(io.ainative.harness.ModelHost.Options.defaults().withIntraOpThreads(spec.intraOpThreads()));
    }
    return config;
  }

  /**
   * Starts the gRPC server on a free port of {@code host} and the model's load behind it.
   *
   * @throws IllegalStateException when the server cannot bind a port, naming the service and subtask
   */
  @SuppressWarnings({"unchecked", "rawtypes"})
  static ServiceInstance start(ServiceSpec spec, int subtask, String host, Runnable onRefused) {
    InferenceServer.Config config = serverConfig(spec);
    InferenceServer<?, ?> service =
        InferenceServer.loading((ModelSpec) spec.model(), (Coder) spec.inputCoder(), (Coder) spec.outputCoder(), config);
    AtomicLong requests = new AtomicLong();
    ServerServiceDefinition counted = ServerInterceptors.intercept(service, new RequestCounter(requests));
    String localName = LocalEndpoints.newName(subtask);
    Server server;
    Server local;
    try {
      server = ServiceEndpoint.start(host, counted, spec.maxMessageBytes(), spec.token(), spec.tls(), onRefused);
    } catch (IOException e) {
      freeInBackground(service, () -> {});
      throw new IllegalStateException(spec + ": subtask " + subtask + " could not start its gRPC server on " + host, e);
    }
    try {
      local = InProcessServerBuilder.forName(localName)
              .addService(ServerInterceptors.intercept(counted, CallToken.checking(spec.token(), onRefused))).maxInboundMessageSize(spec.maxMessageBytes()).build().start();
    } catch (IOException | RuntimeException e) {
      server.shutdownNow();
      freeInBackground(service, () -> {});
      throw new IllegalStateException(spec + ": subtask " + subtask + " could not start its in-process gRPC server", e);
    }
    LocalEndpoints.serving(localName);
    LOG.info("{}: subtask {} serves on {}:{} (and in process as {}), loading the model", spec, subtask, host, server.getPort(), localName);
    return new ServiceInstance(spec, subtask, service, server, local, localName, requests);
  }

  int port() {
    return server.getPort();
  }

  /** The in-process endpoint clients in this JVM reach the instance by. */
  String localName() {
    return localName;
  }

  /** Completes when the model is loaded and warmed up; fails with the load error. */
  CompletableFuture<Void> ready() {
    return service.ready();
  }

  /** Fails when the model broke while serving; see {@code InferenceServer#broken()}. */
  CompletableFuture<Void> broken() {
    return service.broken();
  }

  StatusResponse status() {
    return service.status();
  }

  /** Inference requests this activation received (answered, refused or not yet answered). */
  long requests() {
    return requests.get();
  }

  /** The live count behind {@link #requests()}: it goes on counting while the instance drains. */
  AtomicLong requestCounter() {
    return requests;
  }

  /** Completes once the model copies are freed (after {@link #close}). */
  CompletableFuture<Void> modelFreed() {
    return modelFreed;
  }

  /**
   * Stops taking requests, waits at most {@code boundMillis} for the accepted ones to be answered,
   * then stops the gRPC server: clients lose the streams of requests still unanswered and send
   * them to another instance. The model is freed once no call of it runs any more. A broken
   * service is not waited for. Flink interrupts a task's thread when it cancels the task: the drain
   * is waited for all the same, and the interrupt is kept for the caller. Only the first call does
   * anything.
   */
  DrainOutcome close(long boundMillis) {
    if (!closed.compareAndSet(false, true)) {
      return new DrainOutcome(0, true);
    }
    long started = System.nanoTime();
    boolean interrupted = false;
    boolean drained = true;
    LocalEndpoints.stopped(localName);
    try {
      // Drain: accepted requests are answered; clients re-route the ones refused meanwhile.
      Thread drain = freeInBackground(service, () -> modelFreed.complete(null));
      if (!service.broken().isDone()) {
        interrupted = awaitUninterruptibly(drain, TimeUnit.MILLISECONDS.toNanos(boundMillis));
        drained = !drain.isAlive();
        if (!drained) {
          LOG.warn("{}: subtask {} did not drain within {} ms; stopping its server anyway (clients re-route"
              + " what it still holds; the model is freed when its running call returns)", spec, subtask, boundMillis);
        }
      }
    } finally {
      if (service.broken().isDone()) {
        // Let the refusals of the requests the broken model dropped reach their clients, so they
        // re-route them instead of taking the lost stream for a crash they caused.
        server.shutdown();
        local.shutdown();
        interrupted |= awaitTermination(server, TimeUnit.SECONDS.toNanos(1));
        interrupted |= awaitTermination(local, TimeUnit.SECONDS.toNanos(1));
      }
      // Clients keep their streams open; ending them tells the clients at once.
      server.shutdownNow();
      local.shutdownNow();
      interrupted |= awaitTermination(server, TimeUnit.SECONDS.toNanos(5));
      interrupted |= awaitTermination(local, TimeUnit.SECONDS.toNanos(5));
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
    return new DrainOutcome(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), drained);
  }

  /**
   * Runs {@code InferenceServer#close} (drain, then free the model) on a thread of its own, then
   * {@code freed}.
   */
  private static Thread freeInBackground(InferenceServer<?, ?> service, Runnable freed) {
    Thread drain = new Thread(() -> {
      try {
        service.close();
        freed.run();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "ainative-service-drain");
    drain.setDaemon(true);
    drain.start();
    return drain;
  }

  /** How a {@link #close} went. */
  static final class DrainOutcome {
    final long millis;
    /** Every accepted request was answered within the bound. */
    final boolean withinBound;

    DrainOutcome(long millis, boolean withinBound) {
      this.millis = millis;
      this.withinBound = withinBound;
    }
  }

  /** Counts the inference requests that reach the server, whatever their answer. */
  private static final class RequestCounter implements ServerInterceptor {
    private final AtomicLong requests;

    RequestCounter(AtomicLong requests) {
      this.requests = requests;
    }

    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
        ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
      ServerCall.Listener<ReqT> listener = next.startCall(call, headers);
      if (!InferenceServiceGrpc.getInferMethod().getFullMethodName().equals(call.getMethodDescriptor().getFullMethodName())) {
        return listener;
      }
      return new ForwardingServerCallListener.SimpleForwardingServerCallListener<ReqT>(listener) {
        @Override
        public void onMessage(ReqT message) {
          requests.incrementAndGet();
          super.onMessage(message);
        }
      };
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
