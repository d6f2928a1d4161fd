package io.ainative.harness;

import io.ainative.harness.grpc.DrainRequest;
import io.ainative.harness.grpc.DrainResponse;
import io.ainative.harness.grpc.ElementResult;
import io.ainative.harness.grpc.InferRequest;
import io.ainative.harness.grpc.InferResponse;
import io.ainative.harness.grpc.InferenceServiceGrpc;
import io.ainative.harness.grpc.StatusRequest;
import io.ainative.harness.grpc.StatusResponse;
import io.ainative.transforms.InferenceStep;
import io.ainative.transforms.InferenceOptions;
import io.ainative.transforms.ModelSpec;
import io.ainative.transforms.runtime.Outcome;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.beam.sdk.coders.Coder;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gRPC inference service ({@code inference_service.proto}): model copies ({@link ModelBackend},
 * chosen by {@link Execution}) behind one {@link DynamicBatcher}, so requests from every stream are
 * merged into batches.
 *
 * <p><b>Lifecycle.</b> {@link #loading} returns at once and loads the copies on a background
 * thread; until every copy is loaded and warmed up, {@code GetStatus} says not ready and requests
 * are answered {@code UNAVAILABLE}. {@link #ready()} completes then (or fails with the load error).
 * {@code Drain} (or {@link #drain()}) stops accepting requests, finishes the accepted ones and
 * leaves the service not ready; {@link #close()} drains and frees the model copies.
 *
 * <p><b>Threading.</b> gRPC threads only hand requests to the service's own executor, which
 * decodes the elements and queues them, blocking while the batcher's queue is full; the stream's
 * next request is read only after that (manual flow control), so a full queue slows the clients
 * instead of growing memory. Responses are sent from the batcher's worker threads, serialized per
 * stream.
 *
 * <p><b>Errors.</b> A request that cannot be served as a whole is answered with a gRPC status code
 * and description in its {@link InferResponse}; an element that fails is an {@link
 * ElementResult} failure with its step; the stream itself is never failed by one bad request.
 */
public final class InferenceServer<InputT, OutputT> extends InferenceServiceGrpc.InferenceServiceImplBase
    implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(InferenceServer.class);

  private final ModelSpec<InputT, OutputT> spec;
  /** Reads requests and writes answers; closed with the service. */
  private final ServiceWireCodec<InputT, OutputT> wire;
  private final Config config;
  private final ExecutorService executor;
  private final CompletableFuture<LoadedModels<InputT, OutputT>> models;
  private final AtomicLong completedRequests = new AtomicLong();
  private final CompletableFuture<Void> broken = new CompletableFuture<>();
  private volatile boolean draining;

  private InferenceServer(
      ModelSpec<InputT, OutputT> spec,
      Coder<InputT> inputCoder,
      Coder<OutputT> outputCoder,
      Config config) {
    this.spec = spec;
    this.wire = new ServiceWireCodec<>(inputCoder, outputCoder, config.objectStore);
    this.config = config;
    AtomicInteger threads = new AtomicInteger();
    ThreadFactory factory =
        r -> {
          Thread t = new Thread(r, "inference-server-" + threads.incrementAndGet());
          t.setDaemon(true);
          return t;
        };
    this.executor = Executors.newCachedThreadPool(factory);
    this.models =
        CompletableFuture.supplyAsync(() -> LoadedModels.load(spec, inputCoder, outputCoder, config), executor);
    models.whenComplete(
        (b, e) -> {
          if (e != null) {
            LOG.error("Inference service for {} failed to load", spec.modelUri(), e);
          }
        });
  }

  /**
   * Creates the service and starts loading its model copies in the background. Add it to a gRPC
   * server right away: it answers {@code GetStatus} while loading.
   */
  public static <InputT, OutputT> InferenceServer<InputT, OutputT> loading(
      ModelSpec<InputT, OutputT> spec,
      Coder<InputT> inputCoder,
      Coder<OutputT> outputCoder,
      Config config) {
    return new InferenceServer<>(
        Objects.requireNonNull(spec, "spec"),
        Objects.requireNonNull(inputCoder, "inputCoder"),
        Objects.requireNonNull(outputCoder, "outputCoder"),
        Objects.requireNonNull(config, "config"));
  }

  /**
   * Never completes normally; completes exceptionally when a model copy threw an {@link Error}
   * (out of memory, a native crash surfaced as an error, ...). The service is then broken: it
   * answers every request {@code UNAVAILABLE}, and its owner should fail (an RpcOperator fails its
   * task, so Flink restarts the service region and clients re-route).
   */
  public CompletableFuture<Void> broken() {
    return broken;
  }

  /** Completes when every model copy is loaded and warmed up; fails with the load error. */
  public CompletableFuture<Void> ready() {
    return models.thenApply(b -> null);
  }

  @Override
  public StreamObserver<InferRequest> infer(StreamObserver<InferResponse> responseObserver) {
    ServerCallStreamObserver<InferResponse> call =
        (ServerCallStreamObserver<InferResponse>) responseObserver;
    call.disableAutoRequest();
    ClientStream stream = new ClientStream(call, completedRequests);
    call.setOnCancelHandler(() -> cancel(stream));
    call.request(1);
    return new StreamObserver<InferRequest>() {
      @Override
      public void onNext(InferRequest request) {
        stream.pending.incrementAndGet();
        try {
          executor.execute(() -> accept(stream, request));
        } catch (RejectedExecutionException e) {
          stream.answer(error(request, Status.UNAVAILABLE, "the inference service is closed"));
        }
      }

      @Override
      public void onError(Throwable t) {
        cancel(stream);
      }

      @Override
      public void onCompleted() {
        stream.halfClosed();
      }
    };
  }

  /** The stream's client is gone (its task failed or restarted): its queued elements never run. */
  private void cancel(ClientStream stream) {
    stream.cancel();
    LoadedModels<InputT, OutputT> b = models.getNow(null);
    if (b != null) {
      b.batcher.dropCancelled();
    }
  }

  /** On the executor: decode, queue (blocking while full), then read the next request. */
  private void accept(ClientStream stream, InferRequest request) {
    CompletableFuture<InferResponse> response;
    try {
      response = queue(stream, request);
    } catch (RuntimeException e) {
      response =
          CompletableFuture.completedFuture(error(request, Status.INTERNAL, e.toString()));
    } finally {
      stream.call.request(1);
    }
    response.whenComplete(
        (r, e) ->
            stream.answer(
                e == null ? r : error(request, Status.INTERNAL, "request failed: " + e)));
  }

  private CompletableFuture<InferResponse> queue(ClientStream stream, InferRequest request) {
    if (draining) {
      return done(error(request, Status.UNAVAILABLE, "the inference service is draining"));
    }
    if (broken.isDone()) {
      return done(error(request, Status.UNAVAILABLE, "the inference service is broken: " + brokenReason()));
    }
    LoadedModels<InputT, OutputT> b = models.getNow(null);
    if (b == null) {
      String why =
          models.isCompletedExceptionally()
              ? "the model failed to load: " + loadError()
              : "the model is loading";
      return done(error(request, Status.UNAVAILABLE, why));
    }
    List<ServiceWireCodec.Input<InputT>> inputs;
    try {
      inputs = wire.inputs(request);
    } catch (ServiceWireCodec.BadRequest e) {
      return done(error(request, Status.INVALID_ARGUMENT, e.getMessage()));
    }
    List<CompletableFuture<Outcome<OutputT>>> futures = new ArrayList<>(inputs.size());
    Status refused = null;
    for (ServiceWireCodec.Input<InputT> input : inputs) {
      if (input.unreadable != null) {
        futures.add(CompletableFuture.completedFuture(Outcome.failure(InferenceStep.PRE_PROCESS, input.unreadable)));
        continue;
      }
      try {
        CompletableFuture<Outcome<OutputT>> element = b.batcher.submit(input.value);
        stream.queued(element);
        futures.add(element);
      } catch (RejectedExecutionException e) {
        refused = Status.UNAVAILABLE.withDescription("the inference service is draining");
        break;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        refused = Status.UNAVAILABLE.withDescription("interrupted while queueing");
        break;
      }
    }
    Status whole = refused;
    return CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0]))
        .handle(
            (ignored, failure) -> {
              if (whole != null) {
                return error(request, whole, whole.getDescription());
              }
              if (failure != null) {
                Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
                if (cause instanceof Error) {
                  LOG.error("A model copy of {} threw an Error; the service is broken", spec.modelUri(), cause);
                  broken.completeExceptionally(cause);
                  // ABORTED, not UNAVAILABLE: this request was being served when the model broke,
                  // so one of its elements may be what broke it.
                  return error(request, Status.ABORTED, "the inference service broke while serving this request: " + cause);
                }
                if (broken.isDone()) {
                  // Dropped because another request broke the model: not this request's fault.
                  return error(request, Status.UNAVAILABLE, "the inference service is broken: " + brokenReason());
                }
                return error(request, Status.INTERNAL, "the batch failed: " + cause);
              }
              List<Outcome<OutputT>> outcomes = new ArrayList<>(futures.size());
              for (CompletableFuture<Outcome<OutputT>> f : futures) {
                outcomes.add(f.join());
              }
              return wire.answer(request, outcomes);
            });
  }

  private static InferResponse error(InferRequest request, Status status, String description) {
    return ServiceWireCodec.error(request, status, description);
  }

  private static CompletableFuture<InferResponse> done(InferResponse response) {
    return CompletableFuture.completedFuture(response);
  }

  private String brokenReason() {
    try {
      broken.getNow(null);
      return "";
    } catch (CompletionException e) {
      return String.valueOf(e.getCause());
    }
  }

  private String loadError() {
    try {
      models.join();
      return "";
    } catch (CompletionException e) {
      Throwable cause = e.getCause() instanceof CompletionException ? e.getCause().getCause() : e.getCause();
      return String.valueOf(cause == null ? e : cause.getMessage());
    }
  }

  @Override
  public void getStatus(StatusRequest request, StreamObserver<StatusResponse> responseObserver) {
    responseObserver.onNext(status());
    responseObserver.onCompleted();
  }

  /** The same answer as the {@code GetStatus} RPC. */
  public StatusResponse status() {
    StatusResponse.Builder s =
        StatusResponse.newBuilder()
            .setModelUri(spec.modelUri())
            .setModelCopies(config.options.modelCopies())
            .setCapacity(config.queueCapacity)
            .setDraining(draining);
    LoadedModels<InputT, OutputT> b = models.getNow(null);
    if (b != null) {
      s.setReady(!draining)
          .setDevice(b.backend.device())
          .setQueueDepth(b.batcher.queueDepth())
          .setInFlight(b.batcher.inFlight())
          .setLoadTimeMillis(b.backend.loadMillis())
          .setWarmupMillis(b.backend.warmupMillis())
          .setParameterBytes(b.backend.parameterBytes())
          .setCancelledElements(b.batcher.cancelledCount());
    } else if (models.isCompletedExceptionally()) {
      s.setError(loadError());
    }
    return s.build();
  }

  @Override
  public void drain(DrainRequest request, StreamObserver<DrainResponse> responseObserver) {
    executor.execute(
        () -> {
          try {
            drain();
            responseObserver.onNext(
                DrainResponse.newBuilder().setCompletedRequests(completedRequests.get()).build());
            responseObserver.onCompleted();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            responseObserver.onError(
                Status.CANCELLED.withDescription("interrupted while draining").asRuntimeException());
          }
        });
  }

  /**
   * Stops accepting requests and returns when every accepted one is answered. Waits for a load in
   * progress first.
   */
  public void drain() throws InterruptedException {
    draining = true;
    LoadedModels<InputT, OutputT> b;
    try {
      b = models.join();
    } catch (CompletionException e) {
      return; // nothing was ever accepted
    }
    b.batcher.drain();
  }

  /**
   * Drains, stops the batcher and frees every model copy. A broken service is not drained (its
   * model cannot answer): its queued requests fail and the copies are freed at once.
   */
  @Override
  public void close() throws InterruptedException {
    LoadedModels<InputT, OutputT> b =
        models.isDone() && !models.isCompletedExceptionally() ? models.join() : null;
    if (broken.isDone()) {
      draining = true;
      if (b != null) {
        b.batcher.abort(new IllegalStateException("the inference service is broken: " + brokenReason()));
        b.closeModels(spec);
      }
      executor.shutdown();
      closeAllocator();
      return;
    }
    drain();
    // drain() waited for the load to end one way or the other.
    b = models.isCompletedExceptionally() ? null : models.join();
    if (b != null) {
      b.batcher.close();
      b.closeModels(spec);
    }
    executor.shutdown();
    closeAllocator();
  }

  private void closeAllocator() {
    try {
      wire.close();
    } catch (IllegalStateException e) {
      // A request still being read after the drain (refused once read) holds a buffer: it is
      // freed when that read ends.
      LOG.warn("Arrow memory of {} still in use at close: {}", spec.modelUri(), e.getMessage());
    }
  }

  /** Where the model copies run. */
  public enum Execution {
    /** In this JVM, called directly by the batcher's workers. */
    DIRECT,
    /**
     * In Beam's Java SDK harness (in-process, {@code EMBEDDED}), one bundle per batch through the
     * Fn API ({@code io.ainative.harness.fnapi.FnApiModelHosts}, found as a {@link
     * ModelBackend.Factory}).
     */
    FN_API_HARNESS
  }

  /** How the service batches and sizes its copies. Immutable. */
  public static final class Config {
    final InferenceOptions options;
    final int queueCapacity;
    final int[] preferredBatchSizes;
    final ModelHost.Options hostOptions;
    final Execution execution;
    final @Nullable RequestObjectStore objectStore;

    private Config(
        InferenceOptions options,
        int queueCapacity,
        int[] preferred,
        ModelHost.Options hostOptions,
        Execution execution,
        @Nullable RequestObjectStore objectStore) {
      if (queueCapacity < 1) {
        throw new IllegalArgumentException("queueCapacity must be >= 1, was " + queueCapacity);
      }
      this.options = options;
      this.queueCapacity = queueCapacity;
      this.preferredBatchSizes = preferred;
      this.hostOptions = hostOptions;
      this.execution = Objects.requireNonNull(execution, "execution");
      this.objectStore = objectStore;
    }

    /**
     * Max batch size, batching delay and model copies from {@code options}; a queue of 4 full
     * batches per copy; no preferred sizes; default host options; copies run directly.
     */
    public static Config of(InferenceOptions options) {
      return new Config(
          Objects.requireNonNull(options, "options"),
          4 * options.maxBatchSize() * options.modelCopies(),
          new int[0],
          ModelHost.Options.defaults(),
          Execution.DIRECT,
          null);
    }

    public Config withQueueCapacity(int capacity) {
      return new Config(options, capacity, preferredBatchSizes, hostOptions, execution, objectStore);
    }

    public Config withPreferredBatchSizes(int... sizes) {
      return new Config(options, queueCapacity, sizes.clone(), hostOptions, execution, objectStore);
    }

    public Config withHostOptions(ModelHost.Options host) {
      return new Config(options, queueCapacity, preferredBatchSizes, Objects.requireNonNull(host), execution, objectStore);
    }

    public Config withExecution(Execution where) {
      return new Config(options, queueCapacity, preferredBatchSizes, hostOptions, where, objectStore);
    }

    /** The store the elements that travel by reference are read from; none by default. */
    public Config withObjectStore(@Nullable RequestObjectStore store) {
      return new Config(options, queueCapacity, preferredBatchSizes, hostOptions, execution, store);
    }

    /** What each model copy is loaded with (its copies per JVM are set from the options at start). */
    public ModelHost.Options hostOptions() {
      return hostOptions;
    }
  }
}
