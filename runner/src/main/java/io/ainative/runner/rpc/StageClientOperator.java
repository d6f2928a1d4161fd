package io.ainative.runner.rpc;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.beam.runners.core.metrics.MetricsContainerImpl;
import org.apache.beam.runners.core.metrics.MetricsContainerStepMap;
import org.apache.beam.runners.flink.metrics.FlinkMetricContainer;
import org.apache.beam.runners.flink.metrics.MetricsAccumulator;
import org.apache.beam.sdk.metrics.MetricName;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.flink.api.common.accumulators.Accumulator;
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
 * The client of a served stage, in the data DAG: batches the input's windowed elements (runner wire
 * form), sends each batch to the ready instance with the fewest outstanding elements ({@link
 * StageCalls#PROCESS}), and emits every output of a batch once its request succeeded.
 *
 * <p><b>Exactly once.</b> A batch's outputs are emitted together, only from the answer to the
 * request's current attempt; the answer of an attempt that was given up (its instance was lost, or
 * it timed out and was sent again) is ignored. So a batch re-sent after an instance loss yields each
 * output once. Every element taken in and not yet answered is in the operator's checkpointed state
 * and sent again after a restore.
 *
 * <p><b>Failures.</b> An instance that refuses a request ({@code UNAVAILABLE}: starting, draining,
 * broken) or is lost (the call fails without an answer) costs the request nothing: it goes to
 * another ready instance, or waits for one. Any other error, or no answer within the timeout, is a
 * failed attempt; after {@value #MAX_ATTEMPTS} the task fails, naming the stage.
 *
 * <p><b>Metrics</b> (Beam counters in {@value #METRICS_NAMESPACE}, step = the composite's name):
 * {@value #REROUTED_REQUESTS}, {@value #RETRIED_REQUESTS}, {@value #ANSWERED_REQUESTS}, {@value
 * #ANSWERED_ELEMENTS}, {@value #OUTPUTS}, {@value #RESENT_AFTER_RESTORE}.
 *
 * <p><b>Threading.</b> Everything runs on the task's mailbox thread; gRPC callbacks only enqueue
 * mails. Watermarks are held back until every element that arrived before them has been answered.
 */
final class StageClientOperator extends AbstractStreamOperator<WindowedValue<Object>>
    implements OneInputStreamOperator<WindowedValue<Object>, WindowedValue<Object>>, OperatorEventHandler {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(StageClientOperator.class);
  static final int MAX_ATTEMPTS = 3;
  private static final long TICK_MILLIS = 50;
  private static final long POLL_SLEEP_MILLIS = 5;
  private static final long MEMBERSHIP_POLL_MILLIS = 100;
  private static final long FINISHED_ACK_TIMEOUT_MILLIS = 30_000;
  private static final long REFUSED_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
  /** The namespace of the client's metrics (Beam counters, step = the served composite). */
  static final String METRICS_NAMESPACE = "ainative.served_stage";
  /** Requests sent again elsewhere, uncharged, because their instance refused them or was lost. */
  static final String REROUTED_REQUESTS = "rerouted_requests";
  /** Failed attempts (errors, time-outs) that were tried again. */
  static final String RETRIED_REQUESTS = "retried_requests";
  /** Requests answered; their elements and outputs. */
  static final String ANSWERED_REQUESTS = "answered_requests";
  static final String ANSWERED_ELEMENTS = "answered_elements";
  static final String OUTPUTS = "outputs";
  /** Elements taken in before a checkpoint, unanswered by then, and sent again after a restore. */
  static final String RESENT_AFTER_RESTORE = "resent_after_restore";
  private static final long METRICS_REPORT_NANOS = TimeUnit.SECONDS.toNanos(1);
  /** Elements taken in and not answered, per instance and full batch, before input waits. */
  private static final int BATCHES_PER_INSTANCE = 4;

  private final StageSpec spec;
  private final transient MailboxExecutor mailbox;
  private final transient OperatorEventGateway coordinator;

  private transient ListState<byte[]> pendingState;
  private transient List<WindowedValue<Object>> restored;
  private transient MailboxExecutor anyMail;
  private transient List<WindowedValue<Object>> buffer;
  private transient long bufferEpoch;
  /** Every request not yet answered, by id (ids grow with arrival). */
  private transient TreeMap<Long, Request> open;
  private transient ArrayDeque<Request> waiting;
  private transient ArrayDeque<HeldWatermark> heldWatermarks;
  private transient Map<String, Instance> instances;
  private transient Set<String> gone;
  private transient long nextRequestId;
  private transient int unanswered;
  private transient int capacity;
  private transient boolean tickScheduled;
  private transient boolean closing;
  private transient boolean finishing;
  private transient boolean finishedAcked;
  private transient long membershipVersion;
  private transient @Nullable CompletableFuture<CoordinationResponse> membershipPoll;
  private transient long lastMembershipPollNanos;
  /** The metrics since they were last added to the task's accumulator (which adds them up). */
  private transient MetricsContainerStepMap metricsDelta;
  private transient MetricsContainerImpl stepMetrics;
  private transient Accumulator<MetricsContainerStepMap, MetricsContainerStepMap> metricsAccumulator;
  private transient long metricsReportedNanos;

  StageClientOperator(StageSpec spec, MailboxExecutor mailbox, OperatorEventGateway coordinator) {
    this.spec = spec;
    this.mailbox = mailbox;
    this.coordinator = coordinator;
  }

  @Override
  public void initializeState(StateInitializationContext context) throws Exception {
    super.initializeState(context);
    pendingState =
        context.getOperatorStateStore()
            .getListState(new ListStateDescriptor<>("ainative-served-stage-pending", BytePrimitiveArraySerializer.INSTANCE));
    restored = new ArrayList<>();
    if (context.isRestored()) {
      for (byte[] bytes : pendingState.get()) {
        restored.add(CoderUtils.decodeFromByteArray(spec.inputWire(), bytes));
      }
    }
  }

  @Override
  public void open() throws Exception {
    super.open();
    anyMail = getContainingTask().getMailboxExecutorFactory().createExecutor(TaskMailbox.MIN_PRIORITY);
    buffer = new ArrayList<>();
    open = new TreeMap<>();
    waiting = new ArrayDeque<>();
    heldWatermarks = new ArrayDeque<>();
    instances = new HashMap<>();
    gone = new HashSet<>();
    metricsAccumulator = getRuntimeContext().getAccumulator(FlinkMetricContainer.ACCUMULATOR_NAME);
    if (metricsAccumulator == null) {
      metricsAccumulator = new MetricsAccumulator();
      getRuntimeContext().addAccumulator(FlinkMetricContainer.ACCUMULATOR_NAME, metricsAccumulator);
    }
    metricsDelta = new MetricsContainerStepMap();
    stepMetrics = metricsDelta.getContainer(spec.stepName());
    metricsReportedNanos = System.nanoTime();
    capacity = Math.max(2, BATCHES_PER_INSTANCE * spec.settings().instances()) * spec.settings().maxBatchSize();
    if (!restored.isEmpty()) {
      LOG.info("{}: sending {} element(s) restored from a checkpoint again", spec, restored.size());
      count(RESENT_AFTER_RESTORE, restored.size());
      for (WindowedValue<Object> element : restored) {
        take(element);
      }
      restored.clear();
      // At once: a job cancelled before the next report would never show the count.
      reportMetrics();
    }
  }

  // ---------------------------------------------------------------- input

  @Override
  public void processElement(StreamRecord<WindowedValue<Object>> record) throws Exception {
    take(record.getValue());
    while (unanswered + buffer.size() >= capacity) {
      if (hasRoutableInstance()) {
        mailbox.yield();
        continue;
      }
      // Pushed membership (operator events) cannot arrive inside this record: ask for it.
      pollMembership();
      if (!mailbox.tryYield()) {
        dispatchWaiting();
        Thread.sleep(POLL_SLEEP_MILLIS);
      }
    }
  }

  private void take(WindowedValue<Object> element) {
    buffer.add(element);
    if (buffer.size() >= spec.settings().maxBatchSize()) {
      flush();
    } else if (buffer.size() == 1 && !finishing) {
      long epoch = bufferEpoch;
      long now = getProcessingTimeService().getCurrentProcessingTime();
      getProcessingTimeService().registerTimer(now + spec.settings().maxBatchingDelayMillis(), t -> {
        if (bufferEpoch == epoch) {
          flush();
        }
      });
    }
  }

  private void flush() {
    bufferEpoch++;
    if (buffer.isEmpty()) {
      return;
    }
    Request r = new Request(nextRequestId++, buffer);
    buffer = new ArrayList<>();
    open.put(r.id, r);
    unanswered += r.inputs.size();
    dispatch(r);
  }

  @Override
  public void processWatermark(Watermark mark) throws Exception {
    flush();
    if (open.isEmpty() && heldWatermarks.isEmpty()) {
      output.emitWatermark(mark);
      return;
    }
    heldWatermarks.addLast(new HeldWatermark(nextRequestId, mark));
  }

  @Override
  public void finish() throws Exception {
    // Timers are quiesced before finish(): this loop does their work between the mails.
    finishing = true;
    flush();
    while (!open.isEmpty()) {
      if (!hasRoutableInstance()) {
        pollMembership();
      }
      if (!mailbox.tryYield() && !(!hasRoutableInstance() && anyMail.tryYield())) {
        dispatchWaiting();
        Thread.sleep(POLL_SLEEP_MILLIS);
      }
    }
    releaseWatermarks();
    reportMetrics();
    LOG.info("{}: client finished", spec);
    coordinator.sendEventToCoordinator(new ClientEvents.Finished());
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(FINISHED_ACK_TIMEOUT_MILLIS);
    while (!finishedAcked && System.nanoTime() < deadline) {
      if (!anyMail.tryYield()) {
        Thread.sleep(POLL_SLEEP_MILLIS);
      }
    }
    if (!finishedAcked) {
      LOG.warn("{}: the coordinator did not acknowledge the end of this subtask within {} ms", spec, FINISHED_ACK_TIMEOUT_MILLIS);
    }
    super.finish();
  }

  // ---------------------------------------------------------------- requests

  private void dispatch(Request r) {
    Instance target = null;
    for (Instance c : instances.values()) {
      if (c.routable() && (target == null || c.outstanding < target.outstanding)) {
        target = c;
      }
    }
    if (target == null) {
      waiting.addLast(r);
      scheduleTick();
      return;
    }
    send(r, target);
  }

  private void send(Request r, Instance target) {
    r.instance = target;
    int attempt = ++r.sends;
    target.outstanding += r.inputs.size();
    byte[] body = StageCalls.encode(r.inputs, spec.inputWire());
    ClientCalls.asyncUnaryCall(
        target.channel.newCall(StageCalls.PROCESS, CallOptions.DEFAULT.withDeadlineAfter(spec.settings().timeoutMillis(), TimeUnit.MILLISECONDS)),
        body,
        new StreamObserver<byte[]>() {
          @Override
          public void onNext(byte[] response) {
            mail(() -> onAnswer(r, attempt, target, response), "served stage answer");
          }

          @Override
          public void onError(Throwable t) {
            mail(() -> onFailure(r, attempt, target, Status.fromThrowable(t)), "served stage failure");
          }

          @Override
          public void onCompleted() {}
        });
  }

  /** Whether the answer or failure is of the attempt still in force; takes it off its instance. */
  private boolean current(Request r, int attempt, Instance from) {
    if (open.get(r.id) != r || r.sends != attempt || r.instance != from) {
      return false;
    }
    from.outstanding -= r.inputs.size();
    r.instance = null;
    closeIfIdle(from);
    return true;
  }

  private void onAnswer(Request r, int attempt, Instance from, byte[] response) throws IOException {
    if (!current(r, attempt, from)) {
      return;
    }
    List<WindowedValue<Object>> outputs = StageCalls.decode(response, spec.outputWire());
    open.remove(r.id);
    unanswered -= r.inputs.size();
    for (WindowedValue<Object> out : outputs) {
      output.collect(new StreamRecord<>(out));
    }
    count(ANSWERED_REQUESTS, 1);
    count(ANSWERED_ELEMENTS, r.inputs.size());
    count(OUTPUTS, outputs.size());
    releaseWatermarks();
  }

  private void onFailure(Request r, int attempt, Instance from, Status status) {
    if (!current(r, attempt, from)) {
      return;
    }
    Status.Code code = status.getCode();
    if (code == Status.Code.UNAVAILABLE || code == Status.Code.CANCELLED) {
      // Starting, draining, broken or gone: not the request's fault.
      LOG.info("{}: {} did not take a request of {} element(s) ({}); sending it elsewhere", spec, from, r.inputs.size(), status);
      from.refusedUntilNanos = System.nanoTime() + REFUSED_BACKOFF_NANOS;
      count(REROUTED_REQUESTS, 1);
      dispatch(r);
      return;
    }
    r.failures++;
    if (r.failures >= MAX_ATTEMPTS) {
      throw new IllegalStateException(
          spec.stepName() + ": a batch of " + r.inputs.size() + " element(s) failed " + r.failures + " times; last on " + from + ": "
              + status.getCode() + ": " + status.getDescription());
    }
    LOG.warn("{}: attempt {} of a batch failed on {} ({}); trying again", spec, r.failures, from, status);
    count(RETRIED_REQUESTS, 1);
    from.refusedUntilNanos = System.nanoTime() + REFUSED_BACKOFF_NANOS;
    dispatch(r);
  }

  private boolean hasRoutableInstance() {
    for (Instance c : instances.values()) {
      if (c.routable()) {
        return true;
      }
    }
    return false;
  }

  private void dispatchWaiting() {
    int n = waiting.size();
    for (int i = 0; i < n && hasRoutableInstance(); i++) {
      dispatch(waiting.pollFirst());
    }
  }

  private void releaseWatermarks() {
    long oldest = open.isEmpty() ? Long.MAX_VALUE : open.firstKey();
    while (!heldWatermarks.isEmpty() && heldWatermarks.peekFirst().boundary <= oldest) {
      output.emitWatermark(heldWatermarks.pollFirst().mark);
    }
  }

  private void scheduleTick() {
    if (tickScheduled || closing || finishing) {
      return;
    }
    tickScheduled = true;
    long now = getProcessingTimeService().getCurrentProcessingTime();
    getProcessingTimeService().registerTimer(now + TICK_MILLIS, t -> {
      tickScheduled = false;
      dispatchWaiting();
      if (!waiting.isEmpty()) {
        scheduleTick();
      }
    });
  }

  private void count(String name, long n) {
    stepMetrics.getCounter(MetricName.named(METRICS_NAMESPACE, name)).inc(n);
    if (System.nanoTime() - metricsReportedNanos > METRICS_REPORT_NANOS) {
      reportMetrics();
    }
  }

  /** Adds the metrics since the last report to the task's accumulator (what the job's result reads). */
  private void reportMetrics() {
    metricsAccumulator.add(metricsDelta);
    metricsDelta = new MetricsContainerStepMap();
    stepMetrics = metricsDelta.getContainer(spec.stepName());
    metricsReportedNanos = System.nanoTime();
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

  // ---------------------------------------------------------------- membership

  @Override
  public void handleOperatorEvent(OperatorEvent event) {
    if (event instanceof ClientEvents.FinishedAck) {
      finishedAcked = true;
    } else if (event instanceof ClientEvents.Membership) {
      applyMembership((ClientEvents.Membership) event);
    } else {
      throw new IllegalArgumentException(spec + ": unknown event " + event);
    }
  }

  private void pollMembership() {
    long now = System.nanoTime();
    if (membershipPoll != null) {
      if (!membershipPoll.isDone()) {
        return;
      }
      try {
        applyMembership(((ClientEvents.MembershipResponse) membershipPoll.join()).membership);
      } catch (CompletionException | CancellationException e) {
        LOG.debug("{}: asking the coordinator for instances failed: {}", spec, e.toString());
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
      } catch (IOException e) {
        throw new UncheckedIOException("cannot serialize a membership request", e);
      }
    }
  }

  /** Connects to new instances, retires those no longer listed, unless {@code m} is stale. */
  private void applyMembership(ClientEvents.Membership m) {
    if (m.version <= membershipVersion) {
      return;
    }
    membershipVersion = m.version;
    Set<String> listed = new HashSet<>();
    for (InstanceInfo info : m.instances) {
      listed.add(info.id());
      if (!instances.containsKey(info.id()) && !gone.contains(info.id())) {
        ManagedChannel channel =
            NettyChannelBuilder.forAddress(info.host(), info.port()).usePlaintext().maxInboundMessageSize(Integer.MAX_VALUE).build();
        instances.put(info.id(), new Instance(info, channel));
        LOG.info("{}: connected to {}", spec, info);
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

  private void closeIfIdle(Instance c) {
    if (c.retired && c.outstanding == 0) {
      instances.remove(c.info.id());
      gone.add(c.info.id());
      c.channel.shutdown();
    }
  }

  // ---------------------------------------------------------------- checkpoints

  @Override
  public void snapshotState(StateSnapshotContext context) throws Exception {
    super.snapshotState(context);
    List<byte[]> all = new ArrayList<>(unanswered + buffer.size());
    for (Request r : open.values()) {
      for (WindowedValue<Object> e : r.inputs) {
        all.add(CoderUtils.encodeToByteArray(spec.inputWire(), e));
      }
    }
    for (WindowedValue<Object> e : buffer) {
      all.add(CoderUtils.encodeToByteArray(spec.inputWire(), e));
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
    super.close();
  }

  /** One batch: sent whole, answered whole. */
  private static final class Request {
    final long id;
    final List<WindowedValue<Object>> inputs;
    @Nullable Instance instance;
    /** Counts the sends; an answer carries the count of the send it answers. */
    int sends;
    int failures;

    Request(long id, List<WindowedValue<Object>> inputs) {
      this.id = id;
      this.inputs = inputs;
    }
  }

  /** A connection to one instance. */
  private static final class Instance {
    final InstanceInfo info;
    final ManagedChannel channel;
    int outstanding;
    boolean retired;
    long refusedUntilNanos;

    Instance(InstanceInfo info, ManagedChannel channel) {
      this.info = info;
      this.channel = channel;
      this.refusedUntilNanos = System.nanoTime();
    }

    boolean routable() {
      return !retired && System.nanoTime() - refusedUntilNanos >= 0;
    }

    @Override
    public String toString() {
      return info.toString();
    }
  }

  private static final class HeldWatermark {
    /** Released once every request with an id below this one has been answered. */
    final long boundary;
    final Watermark mark;

    HeldWatermark(long boundary, Watermark mark) {
      this.boundary = boundary;
      this.mark = mark;
    }
  }
}
