package io.ainative.runner.service.client;

import io.ainative.runner.translation.types.Transcoder;
import com.google.protobuf.ByteString;
import io.ainative.harness.grpc.IndexedRef;
import io.ainative.harness.grpc.InferRequest;
import io.ainative.harness.grpc.InferResponse;
import io.ainative.harness.grpc.InferenceServiceGrpc;
import io.ainative.multimodal.types.ObjectRef;
import io.ainative.runner.service.discovery.InstanceInfo;
import io.ainative.runner.service.discovery.ServiceSpec;
import io.ainative.transforms.InferenceFailedException;
import io.ainative.transforms.InferenceFailure;
import io.ainative.transforms.InferenceOptions;
import io.ainative.transforms.InferenceResult;
import io.ainative.transforms.InferenceStep;
import io.ainative.transforms.RetryPolicy;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.beam.sdk.values.KV;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.runtime.operators.coordination.OperatorEventGateway;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The asynchronous client of an inference service, in the pipeline's data DAG: it batches
 * elements, sends each batch to the ready instance with the fewest outstanding elements over a
 * gRPC stream, and emits each element's result (or failure) with the element's timestamp, windows,
 * pane and key. Membership, routing, back-pressure, held watermarks, checkpointed elements, metric
 * reports and the end of input are {@link AbstractClientOperator}'s, shared with the client of
 * served stages; {@link RequestCodec} builds the requests (Arrow or coder-encoded model inputs,
 * large ones by reference) and reads the answers; this class keeps the time-outs and retries and
 * orders the output.
 *
 * <p><b>Threading.</b> Everything runs on the task's mailbox thread: gRPC callbacks only enqueue
 * mails, so the operator's state needs no locks, and a checkpoint sees a consistent picture.
 *
 * <p><b>Failures.</b> A lost instance (stream error) or one that refuses a request ({@code
 * UNAVAILABLE}: loading, draining, broken) never fails the task: its requests go to another ready
 * instance, or wait for one. A request that fails on an instance ({@code INTERNAL}, or no answer
 * within the request timeout, or no ready instance within it) counts as an attempt of the user's
 * {@link RetryPolicy}; when the attempts are spent its elements go to the failure output, or fail
 * the task when there is none. A failure of one element inside a batch comes back as that
 * element's failure.
 *
 * <p><b>Checkpoints.</b> Every element taken in but not yet emitted (buffered, in flight, waiting,
 * or done but held back for ordering) is in the operator's state ({@value #PENDING_STATE}); after
 * a restore it is sent again. Results already emitted before the checkpoint are not. Watermarks
 * are held back until every element that arrived before them has been emitted.
 */
@Internal
public final class RpcClientOperator extends AbstractClientOperator<RpcClientOperator.Request, RpcClientOperator.StreamInstance> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(RpcClientOperator.class);
  /** The name of the list state of elements not yet emitted. */
  static final String PENDING_STATE = "ainative-rpc-pending";

  private final ClientConfig config;

  private transient InferenceOptions options;
  /** Builds the requests and reads the answers. */
  private transient RequestCodec codec;

  /** Taken in, not yet emitted, in arrival order. */
  private transient OrderedEmitter<Element> unemitted;
  private transient Batcher<Element> batcher;
  /** In flight, waiting for a retry, suspects. */
  private transient Attempts<StreamInstance, Request> attempts;
  private transient long nextSeq;
  private transient long nextRequestId;
  private transient Transcoder resultToWire;
  private transient @Nullable Transcoder failureToWire;

  RpcClientOperator(ClientConfig config, MailboxExecutor mailbox, OperatorEventGateway coordinator) {
    super(config.stepName, config.metricsNamespace, config.stepName, PENDING_STATE, config.inputWire, mailbox, coordinator);
    this.config = config;
  }

  @Override
  void openClient() {
    options = config.service.options();
    Offloader offloader;
    try {
      offloader = Offloader.open(config, getRuntimeContext().getIndexOfThisSubtask());
    } catch (java.io.IOException | RuntimeException e) {
      LOG.warn("{}: the object store {} cannot be used ({}); every input travels inside its request", config.stepName, config.objectStore, e.toString());
      offloader = null;
    }
    codec = new RequestCodec(config, offloader, this::count);
    LOG.info("{}: {}", config.stepName, codec.describe());
    resultToWire = Transcoder.of(config.mainSdk, config.mainWire);
    failureToWire = config.failureTag == null ? null : Transcoder.of(config.failureSdk, config.failureWire);
    unemitted = new OrderedEmitter<>(options.ordering() == InferenceOptions.Ordering.ORDERED, e -> e.outcome != null);
    batcher = new Batcher<>(options.maxBatchSize(), Math.max(1, options.maxBatchingDelay().getMillis()), getProcessingTimeService(), this::submit);
    attempts = new Attempts<>();
  }

  @Override
  public void close() throws Exception {
    try {
      super.close();
    } finally {
      if (codec != null) {
        codec.close();
        codec = null;
      }
    }
  }

  // ---------------------------------------------------------------- input

  @Override
  void take(WindowedValue<Object> wire) throws Exception {
    Element e = codec.element(nextSeq++, wire);
    unemitted.add(e);
    batcher.add(e);
  }

  @Override
  void flush() {
    batcher.flush();
  }

  @Override
  boolean full() {
    return unemitted.size() >= capacity();
  }

  /** The configured capacity, or more while more instances are routable than the service started with. */
  private int capacity() {
    return capacity(config.capacity, config.capacityPerInstance, instances().routable());
  }

  static int capacity(int floor, int perInstance, int routable) {
    return Math.max(floor, perInstance * routable);
  }

  @Override
  long watermarkBoundary() {
    return nextSeq;
  }

  @Override
  long oldestUnfinished() {
    Element oldest = unemitted.oldest();
    return oldest == null ? Long.MAX_VALUE : oldest.seq;
  }

  @Override
  List<WindowedValue<Object>> unfinishedElements() {
    List<WindowedValue<Object>> wires = new ArrayList<>(unemitted.size());
    for (Element e : unemitted.pending()) {
      wires.add(e.wire);
    }
    return wires;
  }

  // ---------------------------------------------------------------- sending

  private void submit(List<Element> batch) {
    dispatch(new Request(nextRequestId++, batch));
  }

  @Override
  void dispatch(Request r) {
    if (attempts.holdBack(r)) {
      return;
    }
    super.dispatch(r);
  }

  @Override
  void onWaiting(Request r) {
    if (r.waitingSinceNanos == 0) {
      r.waitingSinceNanos = System.nanoTime();
    }
  }

  @Override
  void send(Request r, StreamInstance target) {
    r.waitingSinceNanos = 0;
    attempts.sent(r, target, System.nanoTime());
    target.outstanding += r.elements.size();
    target.requests.onNext(codec.request(r));
    scheduleTick();
  }

  // ---------------------------------------------------------------- answers

  private void onResponse(StreamInstance from, InferResponse response) throws Exception {
    Request r = attempts.answered(response.getRequestId(), from);
    if (r == null) {
      return; // timed out and sent elsewhere already
    }
    from.outstanding -= r.elements.size();
    leftFlight(r);
    // A retired instance (left the membership, e.g. parked) is let go after its last answer.
    instances().closeIfIdle(from);
    Status.Code code = Status.fromCodeValue(response.getStatusCode()).getCode();
    if (code == Status.Code.OK) {
      List<RequestCodec.Result> results;
      try {
        results = codec.results(response, r);
      } catch (RequestCodec.UnusableAnswer unusable) {
        attemptFailed(r, from + " " + unusable.getMessage());
        return;
      }
      metrics().getDistribution(metricName("inference_request_batch_size")).update(r.elements.size());
      metrics().getDistribution(metricName("inference_batch_latency_micro_secs"))
          .update(TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - r.sentNanos));
      long successes = 0;
      for (int i = 0; i < r.elements.size(); i++) {
        Element e = r.elements.get(i);
        RequestCodec.Result result = results.get(i);
        if (result.failure != null) {
          e.done(failure(e, stepOf(result.failure.getStep()), result.failure.getErrorClass(), result.failure.getMessage()));
        } else {
          e.done(result.wireResult != null ? result.wireResult : success(e, result.output));
          successes++;
        }
      }
      count("num_inferences", successes);
      emitReady();
    } else if (code == Status.Code.ABORTED) {
      from.backOff();
      lost(r, from + " broke while serving the request: " + response.getStatusMessage());
    } else if (code == Status.Code.UNAVAILABLE) {
      // Loading, draining or broken: not this request's fault. Route elsewhere for a while; a
      // draining or broken instance leaves the membership meanwhile.
      LOG.info("{}: {} refused a request ({}); re-routing", config.stepName, from, response.getStatusMessage());
      reroute(r, from);
    } else {
      attemptFailed(r, from + " failed the request with " + code + ": " + response.getStatusMessage());
    }
  }

  private void onStreamError(StreamInstance from, Throwable error) throws Exception {
    if (from.dead) {
      return;
    }
    instances().drop(from);
    List<Request> lost = attempts.lostWith(from);
    LOG.warn("{}: lost {} ({}); re-routing {} request(s)", config.stepName, from, Status.fromThrowable(error), lost.size());
    for (Request r : lost) {
      leftFlight(r);
      lost(r, from + " was lost while it held the request: " + Status.fromThrowable(error));
    }
  }

  /**
   * The instance serving {@code r} died or broke: any of its elements may be why. Not charged,
   * unless it was a suspect already (then it likely is the reason): its elements are sent again
   * one at a time, alone.
   */
  private void lost(Request r, String why) throws Exception {
    count(REROUTED_REQUESTS, 1);
    if (r.suspect) {
      // An element that crashes every instance it reaches runs out of attempts this way and ends
      // in the failure output.
      attemptFailed(r, why);
      return;
    }
    for (Element e : r.elements) {
      Request single = new Request(nextRequestId++, List.of(e));
      single.attempts = r.attempts;
      single.suspect = true;
      dispatch(single);
    }
  }

  /** A request is no longer on its way to an instance; lets the next suspect go. */
  private void leftFlight(Request r) {
    Request next = attempts.leftFlight(r);
    if (next != null) {
      dispatch(next);
    }
  }

  private void attemptFailed(Request r, String why) throws Exception {
    count("failed_batches_counter", 1);
    if (!attempts.retryLater(r, options.retryPolicy(), System.nanoTime())) {
      LOG.warn("{}: a batch of {} failed after {} attempt(s): {}", config.stepName, r.elements.size(), r.attempts, why);
      for (Element e : r.elements) {
        e.done(failure(e, InferenceStep.INFERENCE, InferenceFailedException.class.getName(), why));
      }
      emitReady();
      return;
    }
    LOG.info("{}: attempt {} of a batch failed, retrying: {}", config.stepName, r.attempts, why);
    scheduleTick();
  }

  private WindowedValue<Object> success(Element e, Object output) throws Exception {
    WindowedValue<Object> element = codec.sdkElement(e);
    Object result =
        config.keyed
            ? KV.of(((KV<?, ?>) element.getValue()).getKey(), InferenceResult.of(codec.modelInput(e), output))
            : InferenceResult.of(codec.modelInput(e), output);
    return resultToWire.apply(element.withValue(result));
  }

  private Outcome failure(Element e, InferenceStep step, String errorClass, String message) throws Exception {
    if (config.failureTag == null) {
      throw new InferenceFailedException(
          step,
          config.stepName + ": element failed at " + step.label() + " (use withFailures() to route failed elements to a failure output): "
              + errorClass + ": " + message,
          null);
    }
    WindowedValue<Object> element = codec.sdkElement(e);
    InferenceFailure<Object> f = InferenceFailure.of(element.getValue(), step, errorClass, message, "");
    return new Outcome(failureToWire.apply(element.withValue(f)), true);
  }

  private static InferenceStep stepOf(String label) {
    for (InferenceStep s : InferenceStep.values()) {
      if (s.label().equals(label)) {
        return s;
      }
    }
    return InferenceStep.INFERENCE;
  }

  /** Emits every finished element the ordering allows, then the watermarks they held back. */
  private void emitReady() {
    unemitted.emitReady(this::emit);
    releaseWatermarks();
  }

  private void emit(Element e) {
    codec.answered(e);
    Outcome o = e.outcome;
    if (o.failure) {
      output.collect(config.failureTag, new StreamRecord<>(o.value));
    } else {
      output.collect(new StreamRecord<>(o.value));
    }
  }

  // ---------------------------------------------------------------- time

  @Override
  boolean hasTimedWork() {
    return attempts.hasTimedWork();
  }

  /** Time-outs of requests in flight and of waiting ones, and due retries. */
  @Override
  void expire(long now) throws Exception {
    long timeout = TimeUnit.MILLISECONDS.toNanos(options.requestTimeout().getMillis());
    List<Request> expired = attempts.expired(now, timeout);
    for (Request r : expired) {
      r.instance.outstanding -= r.elements.size();
    }
    for (Request r : expired) {
      StreamInstance from = r.instance;
      leftFlight(r);
      attemptFailed(r, from + " did not answer within " + options.requestTimeout());
      // a retired instance whose last request timed out is let go as if it had answered
      instances().closeIfIdle(from);
    }
    int n = waiting.size();
    for (int i = 0; i < n; i++) {
      Request r = waiting.pollFirst();
      if (now - r.waitingSinceNanos > timeout) {
        r.waitingSinceNanos = 0;
        attemptFailed(r, "no ready instance of " + config.service + " within " + options.requestTimeout());
      } else {
        waiting.addLast(r);
      }
    }
    for (Request r : attempts.dueRetries(now)) {
      dispatch(r);
    }
  }

  // ---------------------------------------------------------------- instances

  @Override
  ServiceSpec service() {
    return config.service;
  }

  @Override
  boolean inProcessTransport() {
    return config.inProcess;
  }

  /** Opens the instance's request stream; its answers and its end come back as mails. */
  @Override
  StreamInstance connect(InstanceInfo info, ManagedChannel channel) {
    StreamInstance c = new StreamInstance(info, channel);
    c.requests =
        InferenceServiceGrpc.newStub(channel)
            .infer(
                new StreamObserver<InferResponse>() {
                  @Override
                  public void onNext(InferResponse response) {
                    mail(() -> onResponse(c, response), "inference response");
                  }

                  @Override
                  public void onError(Throwable t) {
                    mail(() -> onStreamError(c, t), "inference stream error");
                  }

                  @Override
                  public void onCompleted() {
                    mail(() -> onStreamError(c, new IllegalStateException("the service closed the stream")), "inference stream end");
                  }
                });
    metrics().getGauge(metricName("load_model_latency_milli_secs")).set(info.loadMillis());
    metrics().getGauge(metricName("model_byte_size")).set(info.parameterBytes());
    return c;
  }

  /** One element, from arrival to emission. */
  static final class Element {
    final long seq;
    final WindowedValue<Object> wire;
    /** The element in the SDK's form; null until needed when the request took the wire's bytes. */
    @Nullable WindowedValue<Object> element;
    /** Its model input (the value, or the KV's value), or null with {@code element}. */
    final @Nullable Object modelInput;
    /** The model input encoded with its coder (BEAM_CODER), or null (ARROW_IPC). */
    final byte @Nullable [] payload;
    @Nullable Outcome outcome;
    /** Where the input lies while it travels by reference; null when it travels inline. */
    @Nullable ObjectRef<?> ref;

    Element(
        long seq, WindowedValue<Object> wire, @Nullable WindowedValue<Object> element, @Nullable Object modelInput, byte @Nullable [] payload) {
      this.seq = seq;
      this.wire = wire;
      this.element = element;
      this.modelInput = modelInput;
      this.payload = payload;
    }

    void done(WindowedValue<Object> result) {
      outcome = new Outcome(result, false);
    }

    void done(Outcome o) {
      outcome = o;
    }
  }

  /** What an element becomes: a result (wire form) for the main output, or a failure. */
  private static final class Outcome {
    final WindowedValue<Object> value;
    final boolean failure;

    Outcome(WindowedValue<Object> value, boolean failure) {
      this.value = value;
      this.failure = failure;
    }
  }

  /** One batch sent as one gRPC request; re-sent whole on retry. */
  static final class Request extends Attempts.Attempt<StreamInstance> {
    final List<Element> elements;
    long waitingSinceNanos;
    /** ARROW_IPC: the batch, written at the first send; or refused by the Arrow layout. */
    @Nullable ByteString arrowBatch;
    boolean arrowRefused;
    /** The elements that travel by reference, fixed at the first send; null before it. */
    @Nullable List<IndexedRef> refs;

    Request(long id, List<Element> elements) {
      super(id);
      this.elements = elements;
    }
  }

  /** A connection to one instance, with the stream its requests go on. */
  static final class StreamInstance extends InstancePool.Instance {
    StreamObserver<InferRequest> requests;

    StreamInstance(InstanceInfo info, ManagedChannel channel) {
      super(info, channel);
    }

    @Override
    void close() {
      requests.onCompleted();
      channel.shutdown();
    }
  }
}
