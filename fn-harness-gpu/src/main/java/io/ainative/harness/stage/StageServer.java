package io.ainative.harness.stage;

import io.ainative.harness.fnapi.EmbeddedHarnesses;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.runners.fnexecution.control.BundleProgressHandler;
import org.apache.beam.runners.fnexecution.control.DefaultJobBundleFactory;
import org.apache.beam.runners.fnexecution.control.JobBundleFactory;
import org.apache.beam.runners.fnexecution.control.OutputReceiverFactory;
import org.apache.beam.runners.fnexecution.control.RemoteBundle;
import org.apache.beam.runners.fnexecution.control.StageBundleFactory;
import org.apache.beam.runners.fnexecution.provisioning.JobInfo;
import org.apache.beam.runners.fnexecution.state.StateRequestHandler;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.fn.data.FnDataReceiver;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.beam.sdk.util.construction.graph.ExecutableStage;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One instance of a served stage: the stage's SDK environment (for a Python pipeline, a Python
 * worker process), started through Beam's {@link DefaultJobBundleFactory} as {@link
 * EmbeddedHarnesses} sets it up (an in-process harness ends before its servers), and the gRPC method
 * ({@link StageCalls#PROCESS}) that runs one bundle per request.
 *
 * <p><b>Lifecycle.</b> {@link #start} starts the environment on a thread of its own and runs an
 * empty warm-up bundle (the SDK sets its DoFns up, e.g. loads the model); then {@link #ready()}
 * completes. Requests before that, or after {@link #close} began, are refused with {@code
 * UNAVAILABLE}. When a bundle fails, an empty probe bundle tells a failure of the request (the
 * probe passes: {@code INTERNAL}, the client's retry policy decides) from a broken environment (the
 * probe fails: {@link #broken()} completes exceptionally and this and every later request is
 * refused with {@code UNAVAILABLE}, so the clients send them elsewhere; the hosting task then fails,
 * and Flink restarts the instance's region with a fresh environment).
 *
 * <p><b>Threading.</b> Requests run on gRPC's executor threads, several bundles at once; the
 * methods here are thread-safe.
 */
@Internal
public final class StageServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(StageServer.class);

  private final Stage spec;
  private final String instanceName;
  private final CompletableFuture<Void> ready = new CompletableFuture<>();
  private final CompletableFuture<Void> broken = new CompletableFuture<>();
  private final Object lock = new Object();
  private @Nullable JobBundleFactory jobBundles;
  private @Nullable StageBundleFactory stage;
  private int inFlight;
  private boolean closing;

  /** What a server needs to know of the stage it serves. */
  public interface Stage {
    /** The served composite's unique name, for messages. */
    String stepName();

    /** The job the stage's SDK environments are started for. */
    JobInfo jobInfo();

    /** The stage itself. */
    RunnerApi.ExecutableStagePayload stage();

    /** How requests carry the stage's input elements. */
    Coder<WindowedValue<Object>> inputWire();

    /** How responses carry the stage's outputs. */
    Coder<WindowedValue<Object>> outputWire();
  }

  public StageServer(Stage spec, String instanceName) {
    this.spec = spec;
    this.instanceName = instanceName;
  }

  /** Starts the environment and warms it up in the background; see {@link #ready()}. */
  public void start() {
    Thread starter = new Thread(this::startEnvironment, "ainative-served-stage-start-" + instanceName);
    starter.setDaemon(true);
    starter.start();
  }

  private void startEnvironment() {
    long started = System.nanoTime();
    try {
      JobBundleFactory factory = EmbeddedHarnesses.jobBundleFactory(spec.jobInfo());
      synchronized (lock) {
        if (closing) {
          factory.close();
          return;
        }
        jobBundles = factory;
      }
      StageBundleFactory s = factory.forStage(ExecutableStage.fromPayload(spec.stage()));
      synchronized (lock) {
        stage = s;
      }
      run(s, List.of());
      LOG.info("{}: {} is ready (SDK environment up and warmed in {} ms)", spec, instanceName,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
      ready.complete(null);
    } catch (Exception | Error e) {
      ready.completeExceptionally(new IllegalStateException(
          spec + ": " + instanceName + " could not start the stage's SDK environment: " + e.getMessage(), e));
    }
  }

  /** Completes when the environment is up and a warm-up bundle ran; exceptionally if it could not start. */
  public CompletableFuture<Void> ready() {
    return ready;
  }

  /** Completes exceptionally when the environment broke. */
  public CompletableFuture<Void> broken() {
    return broken;
  }

  /** The gRPC service to add to a server. */
  public ServerServiceDefinition definition() {
    return ServerServiceDefinition.builder(StageCalls.SERVICE_NAME)
        .addMethod(StageCalls.PROCESS, ServerCalls.asyncUnaryCall(this::process))
        .build();
  }

  private void process(byte[] request, StreamObserver<byte[]> observer) {
    // A client that gave up (deadline) cancels the call; the bundle still ends, its answer is dropped.
    ServerCallStreamObserver<byte[]> response = (ServerCallStreamObserver<byte[]>) observer;
    response.setOnCancelHandler(() -> {});
    StageBundleFactory s;
    synchronized (lock) {
      if (closing || !ready.isDone() || ready.isCompletedExceptionally() || broken.isDone()) {
        String why = closing ? "draining" : broken.isDone() ? "broken" : "not ready";
        response.onError(Status.UNAVAILABLE.withDescription(instanceName + " is " + why).asRuntimeException());
        return;
      }
      s = stage;
      inFlight++;
    }
    try {
      List<WindowedValue<Object>> inputs;
      try {
        inputs = StageCalls.decode(request, spec.inputWire());
      } catch (Exception e) {
        response.onError(Status.INVALID_ARGUMENT.withDescription("unreadable request: " + e).asRuntimeException());
        return;
      }
      List<WindowedValue<Object>> outputs;
      try {
        outputs = run(s, inputs);
      } catch (Exception e) {
        if (probeFails(s, e)) {
          response.onError(Status.UNAVAILABLE.withDescription(instanceName + " broke while it ran the request: " + e).asRuntimeException());
        } else {
          response.onError(Status.INTERNAL.withDescription(spec.stepName() + " failed on a batch of " + inputs.size() + ": " + e).asRuntimeException());
        }
        return;
      }
      if (response.isCancelled()) {
        LOG.info("{}: {} ran a batch of {} whose client had given up; its outputs are dropped", spec, instanceName, inputs.size());
        return;
      }
      response.onNext(StageCalls.encode(outputs, spec.outputWire()));
      response.onCompleted();
    } finally {
      synchronized (lock) {
        inFlight--;
        lock.notifyAll();
      }
    }
  }

  /** Whether {@code s} fails an empty bundle too: then it is broken, not the request. */
  private boolean probeFails(StageBundleFactory s, Exception failure) {
    if (broken.isDone()) {
      return true;
    }
    try {
      run(s, List.of());
      LOG.warn("{}: a bundle failed on {}; the environment still works: {}", spec, instanceName, failure.toString());
      return false;
    } catch (Exception probe) {
      probe.addSuppressed(failure);
      LOG.warn("{}: the SDK environment of {} broke", spec, instanceName, probe);
      broken.completeExceptionally(new IllegalStateException(spec + ": the SDK environment of " + instanceName + " broke", probe));
      return true;
    }
  }

  /** Runs {@code inputs} as one bundle and returns what the stage's output received. */
  private List<WindowedValue<Object>> run(StageBundleFactory s, List<WindowedValue<Object>> inputs) throws Exception {
    List<WindowedValue<Object>> outputs = Collections.synchronizedList(new ArrayList<>());
    OutputReceiverFactory receivers =
        new OutputReceiverFactory() {
          @Override
          @SuppressWarnings("unchecked")
          public <T> FnDataReceiver<T> create(String pCollectionId) {
            return value -> outputs.add((WindowedValue<Object>) value);
          }
        };
    try (RemoteBundle bundle = s.getBundle(receivers, StateRequestHandler.unsupported(), BundleProgressHandler.ignored())) {
      @SuppressWarnings({"unchecked", "rawtypes"})
      FnDataReceiver<WindowedValue<Object>> input = (FnDataReceiver) bundle.getInputReceivers().values().iterator().next();
      for (WindowedValue<Object> element : inputs) {
        input.accept(element);
      }
    }
    synchronized (outputs) {
      return new ArrayList<>(outputs);
    }
  }

  /**
   * Refuses new requests, waits (at most {@code drainMillis}) for those being run, and ends the
   * environment (for a Python worker process, the process).
   */
  public void close(long drainMillis) throws Exception {
    StageBundleFactory s;
    JobBundleFactory factory;
    synchronized (lock) {
      closing = true;
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(drainMillis);
      while (inFlight > 0 && !broken.isDone()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          LOG.warn("{}: {} closes with {} request(s) still running", spec, instanceName, inFlight);
          break;
        }
        lock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
      }
      s = stage;
      factory = jobBundles;
      stage = null;
      jobBundles = null;
    }
    try {
      if (s != null) {
        s.close();
      }
    } finally {
      if (factory != null) {
        factory.close();
      }
    }
  }

  @Override
  public void close() throws Exception {
    close(0);
  }
}
