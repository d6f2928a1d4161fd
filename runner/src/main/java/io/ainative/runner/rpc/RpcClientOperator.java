package io.ainative.runner.rpc;

import io.ainative.harness.grpc.ElementResult;
import io.ainative.harness.grpc.Encoding;
import io.ainative.harness.grpc.Failure;
import io.ainative.harness.grpc.InferRequest;
import io.ainative.harness.grpc.InferResponse;
import io.ainative.harness.grpc.InferenceServiceGrpc;
import io.ainative.multimodal.arrow.ArrowElements;
import io.ainative.multimodal.arrow.RecyclingRootAllocator;
import io.ainative.transforms.InferenceFailedException;
import io.ainative.transforms.InferenceFailure;
import io.ainative.transforms.InferenceOptions;
import io.ainative.transforms.InferenceResult;
import io.ainative.transforms.InferenceStep;
import io.ainative.transforms.RetryPolicy;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import com.google.protobuf.ByteString;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.beam.runners.core.metrics.MetricsContainerImpl;
import org.apache.beam.runners.core.metrics.MetricsContainerStepMap;
import org.apache.beam.runners.flink.metrics.MetricsAccumulator;
import org.apache.flink.api.common.accumulators.Accumulator;
import org.apache.beam.runners.flink.metrics.FlinkMetricContainer;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.metrics.MetricName;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.beam.sdk.values.KV;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeutils.base.array.BytePrimitiveArraySerializer;
import org.apache.flink.runtime.operators.coordination.CoordinationResponse;
import org.apache.flink.runtime.operators.coordination.OperatorEvent;
import org.apache.flink.runtime.operators.coordination.OperatorEventGateway;
import org.apache.flink.runtime.operators.coordination.OperatorEventHandler;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox;
import org.apache.flink.util.SerializedValue;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The asynchronous client of an inference service, in the pipeline's data DAG: it batches
 * elements, sends each batch to the ready instance with the fewest outstanding elements over a
 * gRPC stream, and emits each element's result (or failure) with the element's timestamp, windows,
 * pane and key.
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
 * or done but held back for ordering) is in the operator's state; after a restore it is sent
 * again. Results already emitted before the checkpoint are not. Watermarks are held back until
 * every element that arrived before them has been emitted.
 */
final class RpcClientOperator extends AbstractStreamOperator<WindowedValue<Object>>
    implements OneInputStreamOperator<WindowedValue<Object>, WindowedValue<Object>>, OperatorEventHandler {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(RpcClientOperator.class);
  private static final long TICK_MILLIS = 50;
  private static final long FINISH_POLL_MILLIS = 5;
  /** How long finish() waits for the coordinator's {@link ClientEvents.FinishedAck}. */
  private static final long FINISHED_ACK_TIMEOUT_MILLIS = 30_000;
  /** How often a subtask waiting for an instance inside a record asks the coordinator. */
  private static final long MEMBERSHIP_POLL_MILLIS = 100;
  /** Requests sent again elsewhere because their instance refused them or was lost. */
  static final String REROUTED_REQUESTS = "rerouted_requests";
  /** Elements taken in before a checkpoint, not emitted by then, and sent again after a restore. */
  static final String RESENT_AFTER_RESTORE = "resent_after_restore";
  /** Counters of the requests sent (re-sends included) in each wire encoding. */
  static final String ARROW_IPC_REQUESTS = "arrow_ipc_requests";

  static final String BEAM_CODER_REQUESTS = "beam_coder_requests";
  private static final long REFUSED_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
  private static final long METRICS_REPORT_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final ClientConfig config;
  private final transient MailboxExecutor mailbox;
  private final transient OperatorEventGateway coordinator;

  private transient InferenceOptions options;
  private transient Coder<Object> modelInputCoder;
  private transient Coder<Object> modelOutputCoder;
  /** For ARROW_IPC: the batch layouts of the model's input and output, and their memory. */
  private transient @Nullable ArrowElements<Object> arrowInputs;
  private transient @Nullable ArrowElements<Object> arrowOutputs;
  private transient @Nullable RecyclingRootAllocator allocator;
  private transient ListState<byte[]> pendingState;
  private transient List<WindowedValue<Object>> restored;
  /** The metrics since they were last added to the task's accumulator (which adds them up). */
  private transient MetricsContainerStepMap metricsDelta;
  private transient MetricsContainerImpl stepMetrics;
  private transient Accumulator<MetricsContainerStepMap, MetricsContainerStepMap> metricsAccumulator;
  private transient long metricsReportedNanos;

  /** Taken in, not yet emitted, in arrival order. */
  private transient ArrayDeque<Element> unemitted;
  private transient List<Element> buffer;
  private transient long bufferEpoch;
  private transient Map<Long, Request> inFlight;
  private transient ArrayDeque<Request> waiting;
  private transient PriorityQueue<Request> retries;
  private transient ArrayDeque<HeldWatermark> heldWatermarks;
  private transient Map<String, Instance> instances;
  private transient Set<String> gone;
  private transient long nextSeq;
  private transient long nextRequestId;
  private transient boolean tickScheduled;
  private transient long picks;
  private transient boolean closing;
  private transient boolean finishing;
  private transient boolean finishedAcked;
  private transient long membershipVersion;
  private transient @Nullable CompletableFuture<CoordinationResponse> membershipPoll;
  private transient long lastMembershipPollNanos;
  private transient MailboxExecutor anyMail;
  private transient Transcoder toSdk;
  private transient Transcoder resultToWire;
  private transient @Nullable Transcoder failureToWire;
  /** Suspects wait here while another one is on its way. */
  private transient ArrayDeque<Request> suspects;
  private transient @Nullable Request suspectInFlight;

  RpcClientOperator(ClientConfig config, MailboxExecutor mailbox, OperatorEventGateway coordinator) {
    this.config = config;
    this.mailbox = mailbox;
    this.coordinator = coordinator;
  }

  @Override
  @SuppressWarnings("unchecked")
  public void initializeState(StateInitializationContext context) throws Exception {
    super.initializeState(context);
    pendingState =
        context.getOperatorStateStore()
            .getListState(new ListStateDescriptor<>("ainative-rpc-pending", BytePrimitiveArraySerializer.INSTANCE));
    restored = new ArrayList<>();
    if (context.isRestored()) {
      for (byte[] bytes : pendingState.get()) {
        restored.add(CoderUtils.decodeFromByteArray(config.inputWire, bytes));
      }
    }
  }

  @Override
  @SuppressWarnings("unchecked")
  public void open() throws Exception {
    super.open();
    options = config.service.options();
    modelInputCoder = (Coder<Object>) config.service.inputCoder();
    modelOutputCoder = (Coder<Object>) config.service.outputCoder();
    ArrowElements<Object> inputLayout = ArrowElements.of(modelInputCoder);
    if (config.wireEncoding == WireEncoding.ARROW_IPC
        || (config.wireEncoding == WireEncoding.AUTO && inputLayout.layout() != ArrowElements.Layout.CODED_BYTES)) {
      arrowInputs = inputLayout;
      arrowOutputs = ArrowElements.of(modelOutputCoder);
      allocator = new RecyclingRootAllocator();
    }
    anyMail = getContainingTask().getMailboxExecutorFactory().createExecutor(TaskMailbox.MIN_PRIORITY);
    toSdk = Transcoder.of(config.inputWire, config.inputSdk);
    resultToWire = Transcoder.of(config.mainSdk, config.mainWire);
    failureToWire = config.failureTag == null ? null : Transcoder.of(config.failureSdk, config.failureWire);
    unemitted = new ArrayDeque<>();
    buffer = new ArrayList<>();
    inFlight = new LinkedHashMap<>();
    waiting = new ArrayDeque<>();
    suspects = new ArrayDeque<>();
    retries = new PriorityQueue<>((a, b) -> Long.compare(a.retryAtNanos, b.retryAtNanos));
    heldWatermarks = new ArrayDeque<>();
    instances = new HashMap<>();
    gone = new HashSet<>();
    metricsAccumulator = getRuntimeContext().getAccumulator(FlinkMetricContainer.ACCUMULATOR_NAME);
    if (metricsAccumulator == null) {
      metricsAccumulator = new MetricsAccumulator();
      getRuntimeContext().addAccumulator(FlinkMetricContainer.ACCUMULATOR_NAME, metricsAccumulator);
    }
    metricsDelta = new MetricsContainerStepMap();
    stepMetrics = metricsDelta.getContainer(config.stepName);
    metricsReportedNanos = System.nanoTime();
    if (!restored.isEmpty()) {
      LOG.info("{}: re-sending {} element(s) restored from a checkpoint", config.stepName, restored.size());
      stepMetrics.getCounter(name(RESENT_AFTER_RESTORE)).inc(restored.size());
      for (WindowedValue<Object> wire : restored) {
        take(wire);
      }
      restored.clear();
      // At once: a job that is cancelled before the next report would never show the count.
      reportMetrics();
    }
  }

  // ---------------------------------------------------------------- input

  @Override
  public void processElement(StreamRecord<WindowedValue<Object>> record) throws Exception {
    take(record.getValue());
    while (unemitted.size() >= config.capacity) {
      if (hasRoutableInstance()) {
        mailbox.yield();
        continue;
      }
      // No instance to send to, and pushed news of instances (operator events) cannot arrive
      // inside this record: ask the coordinator, and keep the time-outs and retries going.
      pollMembership();
      if (!mailbox.tryYield()) {
        housekeeping();
        Thread.sleep(FINISH_POLL_MILLIS);
      }
    }
  }

  /**
   * Asks the coordinator for the current membership (at most every {@value
   * #MEMBERSHIP_POLL_MILLIS} ms) and applies an answer that has arrived. Task thread only.
   */
  private void pollMembership() {
    long now = System.nanoTime();
    if (membershipPoll != null) {
      if (!membershipPoll.isDone()) {
        return;
      }
      try {
        applyMembership(((ClientEvents.MembershipResponse) membershipPoll.join()).membership);
      } catch (CompletionException | CancellationException e) {
        LOG.debug("{}: asking the coordinator for instances failed: {}", config.stepName, e.toString());
      }
      membershipPoll = null;
      lastMembershipPollNanos = now;
    }
    if (now - lastMembershipPollNanos >= TimeUnit.MILLISECONDS.toNanos(MEMBERSHIP_POLL_MILLIS)) {
      try {
        membershipPoll =
            getContainingTask()
                .getEnvironment()
                .getOperatorCoordinatorEventGateway()
                .sendRequestToCoordinator(getOperatorID(), new SerializedValue<>(new ClientEvents.MembershipRequest()));
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException("cannot serialize a membership request", e);
      }
    }
  }

  private boolean hasRoutableInstance() {
    for (Instance c : instances.values()) {
      if (c.routable()) {
        return true;
      }
    }
    return false;
  }

  private void take(WindowedValue<Object> wire) throws Exception {
    WindowedValue<Object> element = toSdk.apply(wire);
    Object modelInput = config.keyed ? ((KV<?, ?>) element.getValue()).getValue() : element.getValue();
    byte[] payload = arrowInputs == null ? CoderUtils.encodeToByteArray(modelInputCoder, modelInput) : null;
    Element e = new Element(nextSeq++, wire, element, modelInput, payload);
    unemitted.addLast(e);
    buffer.add(e);
    if (buffer.size() >= options.maxBatchSize()) {
      flush();
    } else if (buffer.size() == 1) {
      long epoch = bufferEpoch;
      long now = getProcessingTimeService().getCurrentProcessingTime();
      getProcessingTimeService().registerTimer(now + Math.max(1, options.maxBatchingDelay().getMillis()), t -> {
        if (bufferEpoch == epoch) {
          flush();
        }
      });
    }
  }

  @Override
  public void processWatermark(Watermark mark) throws Exception {
    if (unemitted.isEmpty() && heldWatermarks.isEmpty()) {
      output.emitWatermark(mark);
      return;
    }
    flush();
    HeldWatermark last = heldWatermarks.peekLast();
    if (last != null && last.boundary == nextSeq) {
      heldWatermarks.pollLast();
    }
    heldWatermarks.addLast(new HeldWatermark(nextSeq, mark));
  }

  @Override
  public void finish() throws Exception {
    // Flink quiesces the operator's timers before finish(): from here on this loop does what the
    // timers did (flush, time-outs, retries), between the mails that bring answers and membership.
    finishing = true;
    flush();
    while (!unemitted.isEmpty()) {
      // Operator events (news of instances) come through the task's own mailbox, at the lowest
      // priority; the operators before this one have finished, so taking any mail is safe here.
      if (!hasRoutableInstance()) {
        pollMembership();
      }
      if (!mailbox.tryYield() && !(!hasRoutableInstance() && anyMail.tryYield())) {
        housekeeping();
        Thread.sleep(FINISH_POLL_MILLIS);
      }
    }
    releaseWatermarks();
    reportMetrics();
    coordinator.sendEventToCoordinator(new ClientEvents.Finished());
    // Until the coordinator's answer: an event that reached this task after it ended would fail
    // the task over (and the job, without restarts), though nothing was wrong.
    long ackDeadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(FINISHED_ACK_TIMEOUT_MILLIS);
    while (!finishedAcked && System.nanoTime() < ackDeadline) {
      if (!anyMail.tryYield()) {
        Thread.sleep(FINISH_POLL_MILLIS);
      }
    }
    if (!finishedAcked) {
      LOG.warn("{}: no answer from the coordinator to Finished within {} ms; ending anyway", config.stepName, FINISHED_ACK_TIMEOUT_MILLIS);
    }
    super.finish();
  }

  // ---------------------------------------------------------------- sending

  private void flush() {
    bufferEpoch++;
    if (buffer.isEmpty()) {
      return;
    }
    Request r = new Request(nextRequestId++, buffer);
    buffer = new ArrayList<>();
    dispatch(r);
  }

  private void dispatch(Request r) {
    if (r.suspect && suspectInFlight != null && suspectInFlight != r) {
      suspects.addLast(r);
      return;
    }
    Instance target = pick();
    if (target == null) {
      if (r.waitingSinceNanos == 0) {
        r.waitingSinceNanos = System.nanoTime();
      }
      waiting.addLast(r);
      scheduleTick();
      return;
    }
    r.waitingSinceNanos = 0;
    r.instance = target;
    r.sentNanos = System.nanoTime();
    inFlight.put(r.id, r);
    target.outstanding += r.elements.size();
    target.requests.onNext(request(r));
    if (r.suspect) {
      suspectInFlight = r;
    }
    scheduleTick();
  }

  /**
   * The request for {@code r}: an Arrow batch of its model inputs (written once, kept for re-sends)
   * when the client uses ARROW_IPC and the inputs can be written in their layout, else each input
   * encoded with the model's input coder (an input the Arrow layout refuses then reaches the
   * service, whose pre-processing fails it alone, as with BEAM_CODER).
   */
  private InferRequest request(Request r) {
    InferRequest.Builder request = InferRequest.newBuilder().setRequestId(r.id);
    if (arrowInputs != null && r.arrowBatch == null && !r.arrowRefused) {
      List<Object> inputs = new ArrayList<>(r.elements.size());
      for (Element e : r.elements) {
        inputs.add(e.modelInput);
      }
      try {
        r.arrowBatch = ByteString.copyFrom(arrowInputs.encode(inputs, allocator));
      } catch (IllegalArgumentException | java.io.IOException e) {
        LOG.debug("{}: a batch cannot be written as Arrow ({}); sending it coder-encoded", config.stepName, e.getMessage());
        r.arrowRefused = true;
      }
    }
    if (r.arrowBatch != null) {
      stepMetrics.getCounter(name(ARROW_IPC_REQUESTS)).inc();
      return request.setEncoding(Encoding.ARROW_IPC).setArrowBatch(r.arrowBatch).build();
    }
    stepMetrics.getCounter(name(BEAM_CODER_REQUESTS)).inc();
    request.setEncoding(Encoding.BEAM_CODER);
    for (Element e : r.elements) {
      byte[] payload;
      try {
        payload = e.payload != null ? e.payload : CoderUtils.encodeToByteArray(modelInputCoder, e.modelInput);
      } catch (org.apache.beam.sdk.coders.CoderException ce) {
        throw new IllegalArgumentException(config.stepName + ": a model input cannot be encoded with " + modelInputCoder + ": " + ce.getMessage(), ce);
      }
      request.addElements(ByteString.copyFrom(payload));
    }
    return request.build();
  }

  /** The ready instance with the fewest outstanding elements; ties go to the one picked longest ago. */
  private @Nullable Instance pick() {
    Instance best = null;
    for (Instance c : instances.values()) {
      if (c.routable()
          && (best == null
              || c.outstanding < best.outstanding
              || (c.outstanding == best.outstanding && c.lastPicked < best.lastPicked))) {
        best = c;
      }
    }
    if (best != null) {
      best.lastPicked = ++picks;
    }
    return best;
  }

  private void dispatchWaiting() {
    int n = waiting.size();
    for (int i = 0; i < n && pick() != null; i++) {
      dispatch(waiting.pollFirst());
    }
  }

  // ---------------------------------------------------------------- answers

  private void onResponse(Instance from, InferResponse response) throws Exception {
    Request r = inFlight.get(response.getRequestId());
    if (r == null || r.instance != from) {
      return; // timed out and sent elsewhere already
    }
    inFlight.remove(r.id);
    from.outstanding -= r.elements.size();
    leftFlight(r);
    // A retired instance (left the membership, e.g. parked) is let go after its last answer.
    closeIfIdle(from);
    Status.Code code = Status.fromCodeValue(response.getStatusCode()).getCode();
    if (code == Status.Code.OK) {
      List<Object> arrowOut = null;
      if (response.getEncoding() == Encoding.ARROW_IPC) {
        if (arrowOutputs == null) {
          attemptFailed(r, from + " answered in ARROW_IPC, which this client did not ask for");
          return;
        }
        try {
          arrowOut = response.getArrowOutputs().isEmpty() ? List.of() : arrowOutputs.decode(response.getArrowOutputs().toByteArray(), allocator);
        } catch (java.io.IOException e) {
          attemptFailed(r, from + " answered an unreadable arrow_outputs: " + e.getMessage());
          return;
        }
        if (arrowOut.size() + response.getFailuresCount() != r.elements.size()) {
          attemptFailed(
              r, from + " answered " + arrowOut.size() + " outputs and " + response.getFailuresCount() + " failures for " + r.elements.size() + " elements");
          return;
        }
      } else if (response.getResultsCount() != r.elements.size()) {
        attemptFailed(r, from + " answered " + response.getResultsCount() + " results for " + r.elements.size() + " elements");
        return;
      }
      stepMetrics.getDistribution(name("inference_request_batch_size")).update(r.elements.size());
      stepMetrics.getDistribution(name("inference_batch_latency_micro_secs"))
          .update(TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - r.sentNanos));
      long successes = 0;
      if (arrowOut != null) {
        int nextOutput = 0;
        int nextFailure = 0;
        for (int i = 0; i < r.elements.size(); i++) {
          Element e = r.elements.get(i);
          if (nextFailure < response.getFailuresCount() && response.getFailures(nextFailure).getIndex() == i) {
            Failure f = response.getFailures(nextFailure++).getFailure();
            e.done(failure(e, stepOf(f.getStep()), f.getErrorClass(), f.getMessage()));
          } else {
            e.done(success(e, arrowOut.get(nextOutput++)));
            successes++;
          }
        }
      } else {
        for (int i = 0; i < r.elements.size(); i++) {
          Element e = r.elements.get(i);
          ElementResult result = response.getResults(i);
          if (result.hasOutput()) {
            Object output = CoderUtils.decodeFromByteArray(modelOutputCoder, result.getOutput().toByteArray());
            e.done(success(e, output));
            successes++;
          } else {
            e.done(failure(e, stepOf(result.getFailure().getStep()), result.getFailure().getErrorClass(), result.getFailure().getMessage()));
          }
        }
      }
      stepMetrics.getCounter(name("num_inferences")).inc(successes);
      emitReady();
    } else if (code == Status.Code.ABORTED) {
      from.refusedUntilNanos = System.nanoTime() + REFUSED_BACKOFF_NANOS;
      lost(r, from + " broke while serving the request: " + response.getStatusMessage());
    } else if (code == Status.Code.UNAVAILABLE) {
      // Loading, draining or broken: not this request's fault. Route elsewhere for a while; a
      // draining or broken instance leaves the membership meanwhile.
      LOG.info("{}: {} refused a request ({}); re-routing", config.stepName, from, response.getStatusMessage());
      from.refusedUntilNanos = System.nanoTime() + REFUSED_BACKOFF_NANOS;
      stepMetrics.getCounter(name(REROUTED_REQUESTS)).inc();
      dispatch(r);
    } else {
      attemptFailed(r, from + " failed the request with " + code + ": " + response.getStatusMessage());
    }
  }

  private void onStreamError(Instance from, Throwable error) throws Exception {
    if (from.dead) {
      return;
    }
    from.dead = true;
    instances.remove(from.info.id());
    gone.add(from.info.id());
    from.channel.shutdownNow();
    List<Request> lost = new ArrayList<>();
    for (Iterator<Request> it = inFlight.values().iterator(); it.hasNext(); ) {
      Request r = it.next();
      if (r.instance == from) {
        it.remove();
        lost.add(r);
      }
    }
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
    stepMetrics.getCounter(name(REROUTED_REQUESTS)).inc();
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
    if (suspectInFlight == r) {
      suspectInFlight = null;
      Request next = suspects.pollFirst();
      if (next != null) {
        dispatch(next);
      }
    }
  }

  private void attemptFailed(Request r, String why) throws Exception {
    r.attempts++;
    stepMetrics.getCounter(name("failed_batches_counter")).inc();
    RetryPolicy policy = options.retryPolicy();
    if (r.attempts >= policy.maxAttempts()) {
      LOG.warn("{}: a batch of {} failed after {} attempt(s): {}", config.stepName, r.elements.size(), r.attempts, why);
      for (Element e : r.elements) {
        e.done(failure(e, InferenceStep.INFERENCE, InferenceFailedException.class.getName(), why));
      }
      emitReady();
      return;
    }
    LOG.info("{}: attempt {} of a batch failed, retrying: {}", config.stepName, r.attempts, why);
    r.instance = null;
    r.retryAtNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(policy.backoffAfter(r.attempts).getMillis());
    retries.add(r);
    scheduleTick();
  }

  private WindowedValue<Object> success(Element e, Object output) throws Exception {
    Object result =
        config.keyed
            ? KV.of(((KV<?, ?>) e.element.getValue()).getKey(), InferenceResult.of(e.modelInput, output))
            : InferenceResult.of(e.modelInput, output);
    return resultToWire.apply(e.element.withValue(result));
  }

  private Outcome failure(Element e, InferenceStep step, String errorClass, String message) throws Exception {
    if (config.failureTag == null) {
      throw new InferenceFailedException(
          step,
          config.stepName + ": element failed at " + step.label() + " (use withFailures() to route failed elements to a failure output): "
              + errorClass + ": " + message,
          null);
    }
    InferenceFailure<Object> f = InferenceFailure.of(e.element.getValue(), step, errorClass, message, "");
    return new Outcome(failureToWire.apply(e.element.withValue(f)), true);
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
    if (options.ordering() == InferenceOptions.Ordering.ORDERED) {
      while (!unemitted.isEmpty() && unemitted.peekFirst().outcome != null) {
        emit(unemitted.pollFirst());
      }
    } else {
      for (Iterator<Element> it = unemitted.iterator(); it.hasNext(); ) {
        Element e = it.next();
        if (e.outcome != null) {
          emit(e);
          it.remove();
        }
      }
    }
    releaseWatermarks();
  }

  private void emit(Element e) {
    Outcome o = e.outcome;
    if (o.failure) {
      output.collect(config.failureTag, new StreamRecord<>(o.value));
    } else {
      output.collect(new StreamRecord<>(o.value));
    }
  }

  private void releaseWatermarks() {
    long oldest = unemitted.isEmpty() ? Long.MAX_VALUE : unemitted.peekFirst().seq;
    while (!heldWatermarks.isEmpty() && heldWatermarks.peekFirst().boundary <= oldest) {
      output.emitWatermark(heldWatermarks.pollFirst().mark);
    }
  }

  // ---------------------------------------------------------------- time

  private void scheduleTick() {
    if (tickScheduled || closing || finishing) {
      return;
    }
    tickScheduled = true;
    long now = getProcessingTimeService().getCurrentProcessingTime();
    getProcessingTimeService().registerTimer(now + TICK_MILLIS, t -> tick());
  }

  private void tick() throws Exception {
    tickScheduled = false;
    housekeeping();
    if (!inFlight.isEmpty() || !waiting.isEmpty() || !retries.isEmpty()) {
      scheduleTick();
    }
  }

  /** Time-outs, due retries, waiting requests, metrics. */
  private void housekeeping() throws Exception {
    long now = System.nanoTime();
    long timeout = TimeUnit.MILLISECONDS.toNanos(options.requestTimeout().getMillis());
    List<Request> expired = new ArrayList<>();
    for (Iterator<Request> it = inFlight.values().iterator(); it.hasNext(); ) {
      Request r = it.next();
      if (now - r.sentNanos > timeout) {
        it.remove();
        r.instance.outstanding -= r.elements.size();
        expired.add(r);
      }
    }
    for (Request r : expired) {
      leftFlight(r);
      attemptFailed(r, r.instance + " did not answer within " + options.requestTimeout());
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
    while (!retries.isEmpty() && retries.peek().retryAtNanos <= now) {
      dispatch(retries.poll());
    }
    dispatchWaiting();
    if (now - metricsReportedNanos > METRICS_REPORT_NANOS) {
      reportMetrics();
    }
  }

  // ---------------------------------------------------------------- membership

  @Override
  public void handleOperatorEvent(OperatorEvent event) {
    if (event instanceof ClientEvents.FinishedAck) {
      finishedAcked = true;
      return;
    }
    if (!(event instanceof ClientEvents.Membership)) {
      throw new IllegalArgumentException(config.stepName + ": unknown event " + event);
    }
    applyMembership((ClientEvents.Membership) event);
  }

  /** Connects to new instances and retires those no longer listed, unless {@code m} is stale. */
  private void applyMembership(ClientEvents.Membership m) {
    if (m.version <= membershipVersion) {
      return;
    }
    membershipVersion = m.version;
    List<InstanceInfo> ready = m.instances;
    Set<String> listed = new HashSet<>();
    for (InstanceInfo info : ready) {
      listed.add(info.id());
      if (!instances.containsKey(info.id()) && !gone.contains(info.id())) {
        instances.put(info.id(), connect(info));
        stepMetrics.getGauge(name("load_model_latency_milli_secs")).set(info.loadMillis());
        stepMetrics.getGauge(name("model_byte_size")).set(info.parameterBytes());
      }
    }
    for (Instance c : new ArrayList<>(instances.values())) {
      if (!listed.contains(c.info.id())) {
        c.retired = true;
        closeIfIdle(c);
      }
    }
    dispatchWaiting();
  }

  private Instance connect(InstanceInfo info) {
    ManagedChannel channel =
        NettyChannelBuilder.forAddress(info.host(), info.port())
            .usePlaintext()
            .maxInboundMessageSize(Integer.MAX_VALUE)
            .build();
    Instance c = new Instance(info, channel);
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
    LOG.info("{}: connected to {}", config.stepName, info);
    return c;
  }

  private void mail(org.apache.flink.util.function.ThrowingRunnable<? extends Exception> action, String what) {
    if (closing) {
      return;
    }
    try {
      mailbox.execute(action, what);
    } catch (RejectedExecutionException e) {
      // the task is shutting down
    }
  }

  private void closeIfIdle(Instance c) {
    if (c.outstanding == 0 && c.retired && !c.dead) {
      c.dead = true;
      instances.remove(c.info.id());
      gone.add(c.info.id());
      c.requests.onCompleted();
      c.channel.shutdown();
    }
  }

  // ---------------------------------------------------------------- checkpoints

  @Override
  public void snapshotState(StateSnapshotContext context) throws Exception {
    super.snapshotState(context);
    pendingState.clear();
    List<byte[]> all = new ArrayList<>(unemitted.size());
    for (Element e : unemitted) {
      all.add(CoderUtils.encodeToByteArray(config.inputWire, e.wire));
    }
    pendingState.update(all);
  }

  @Override
  public void close() throws Exception {
    closing = true;
    if (instances != null) {
      for (Instance c : instances.values()) {
        c.channel.shutdownNow();
      }
      instances.clear();
    }
    if (allocator != null) {
      allocator.close();
      allocator = null;
    }
    super.close();
  }

  // ---------------------------------------------------------------- helpers

  /** Adds the metrics since the last report to the task's accumulator (what the result reads). */
  private void reportMetrics() {
    metricsAccumulator.add(metricsDelta);
    metricsDelta = new MetricsContainerStepMap();
    stepMetrics = metricsDelta.getContainer(config.stepName);
    metricsReportedNanos = System.nanoTime();
  }

  private MetricName name(String metric) {
    return MetricName.named(config.metricsNamespace, metric);
  }

  /** One element, from arrival to emission. */
  private static final class Element {
    final long seq;
    final WindowedValue<Object> wire;
    final WindowedValue<Object> element;
    final Object modelInput;
    /** The model input encoded with its coder (BEAM_CODER), or null (ARROW_IPC). */
    final byte @Nullable [] payload;
    @Nullable Outcome outcome;

    Element(long seq, WindowedValue<Object> wire, WindowedValue<Object> element, Object modelInput, byte @Nullable [] payload) {
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
  private static final class Request {
    final long id;
    final List<Element> elements;
    @Nullable Instance instance;
    long sentNanos;
    long waitingSinceNanos;
    long retryAtNanos;
    int attempts;
    /** Was in flight on an instance that was lost: travels alone, one suspect at a time. */
    boolean suspect;
    /** ARROW_IPC: the batch, written at the first send; or refused by the Arrow layout. */
    @Nullable ByteString arrowBatch;
    boolean arrowRefused;

    Request(long id, List<Element> elements) {
      this.id = id;
      this.elements = elements;
    }
  }

  /** A connection to one instance. */
  private static final class Instance {
    final InstanceInfo info;
    final ManagedChannel channel;
    StreamObserver<InferRequest> requests;
    int outstanding;
    boolean retired;
    long refusedUntilNanos;
    long lastPicked;
    boolean dead;

    Instance(InstanceInfo info, ManagedChannel channel) {
      this.info = info;
      this.channel = channel;
      this.refusedUntilNanos = System.nanoTime();
    }

    boolean routable() {
      return !retired && !dead && System.nanoTime() - refusedUntilNanos >= 0;
    }

    @Override
    public String toString() {
      return info.toString();
    }
  }

  private static final class HeldWatermark {
    final long boundary;
    final Watermark mark;

    HeldWatermark(long boundary, Watermark mark) {
      this.boundary = boundary;
      this.mark = mark;
    }
  }
}
