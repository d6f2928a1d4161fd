package io.ainative.runner.service.client;

import io.ainative.runner.service.discovery.InstanceInfo;
import io.ainative.runner.service.discovery.ServiceSpec;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.beam.runners.core.metrics.MetricsContainerImpl;
import org.apache.beam.runners.core.metrics.MetricsContainerStepMap;
import org.apache.beam.runners.flink.metrics.FlinkMetricContainer;
import org.apache.beam.runners.flink.metrics.MetricsAccumulator;
import org.apache.beam.sdk.coders.Coder;
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
import org.apache.flink.util.function.ThrowingRunnable;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the clients of a service in the data DAG — {@link RpcClientOperator} (RunInference) and
 * {@link StageClientOperator} (served stages) — do the same way. A subclass says how elements
 * become requests ({@link #take}, {@link #flush}), how a request is sent to an instance ({@link
 * #send}) and how its answer becomes outputs, what a failure means, and which metrics it counts.
 * This class keeps the rest:
 *
 * <ul>
 *   <li><b>Membership.</b> Its {@link InstancePool} follows the ready instances its {@link
 *       RpcClientCoordinator} lists ({@link ClientEvents.Membership}, pushed as operator events, or
 *       asked for while a record waits for an instance).
 *   <li><b>Routing.</b> {@link #dispatch} sends a request to the instance the pool picks (the
 *       routable one with the fewest outstanding elements), or keeps it waiting until there is one;
 *       {@link #reroute} sends a refused request elsewhere.
 *   <li><b>Back-pressure.</b> While the subclass is {@link #full}, {@link #processElement} does not
 *       return: it yields to the mails that bring answers, and when no instance is routable it asks
 *       the coordinator for the membership and keeps the housekeeping going.
 *   <li><b>Watermarks</b> are held back until everything taken in before them is finished.
 *   <li><b>Housekeeping</b> on a timer while requests are open: the subclass's time-outs and retries
 *       ({@link #expire}), waiting requests, metric reports.
 *   <li><b>Checkpoints.</b> The unfinished elements (wire form, {@link #unfinishedElements}) are the
 *       operator's list state, one coder-encoded element per entry; after a restore they are taken
 *       in again ({@value #RESENT_AFTER_RESTORE} counts them).
 *   <li><b>Metrics</b> are Beam metrics of the step, added to the task's accumulator (what the job's
 *       result reads) about every second and at the end.
 *   <li><b>The end.</b> {@link #finish} works until everything is finished, then tells the
 *       coordinator ({@link ClientEvents.Finished}) and waits for its {@link
 *       ClientEvents.FinishedAck}.
 * </ul>
 *
 * <p><b>Threading.</b> Everything runs on the task's mailbox thread, so the state needs no locks
 * and a checkpoint sees a consistent picture. A gRPC callback only hands its work to {@link #mail}.
 *
 * @param <R> a request: one batch of elements, sent whole
 * @param <I> a connection to one instance
 */
abstract class AbstractClientOperator<R, I extends InstancePool.Instance>
    extends AbstractStreamOperator<WindowedValue<Object>>
    implements OneInputStreamOperator<WindowedValue<Object>, WindowedValue<Object>>, OperatorEventHandler {
  private static final long serialVersionUID = 1L;
  /** Requests sent again elsewhere, uncharged, because their instance refused them or was lost. */
  public static final String REROUTED_REQUESTS = "rerouted_requests";
  /** Elements taken in before a checkpoint, not finished by then, and sent again after a restore. */
  public static final String RESENT_AFTER_RESTORE = "resent_after_restore";
  private static final long TICK_MILLIS = 50;
  private static final long POLL_SLEEP_MILLIS = 5;
  /** How often a subtask waiting for an instance inside a record asks the coordinator. */
  private static final long MEMBERSHIP_POLL_MILLIS = 100;
  /** How long finish() waits for the coordinator's {@link ClientEvents.FinishedAck}. */
  private static final long FINISHED_ACK_TIMEOUT_MILLIS = 30_000;
  private static final long METRICS_REPORT_NANOS = TimeUnit.SECONDS.toNanos(1);

  /** Under the subclass's name, as before the two clients shared this class. */
  private final transient Logger log = LoggerFactory.getLogger(getClass());
  private final String stepName;
  private final String metricsNamespace;
  private final String description;
  private final String stateName;
  private final Coder<WindowedValue<Object>> inputWire;
  private final transient MailboxExecutor mailbox;
  private final transient OperatorEventGateway coordinator;

  private transient ListState<byte[]> pendingState;
  private transient List<WindowedValue<Object>> restored;
  private transient MailboxExecutor anyMail;
  /** Requests that found no routable instance, oldest first. */
  transient ArrayDeque<R> waiting;
  private transient HeldWatermarks heldWatermarks;
  private transient InstancePool<I> instances;
  private transient boolean tickScheduled;
  private transient boolean closing;
  private transient boolean finishing;
  private transient boolean finishedAcked;
  private transient @Nullable CompletableFuture<CoordinationResponse> membershipPoll;
  private transient long lastMembershipPollNanos;
  /** The metrics since they were last added to the task's accumulator (which adds them up). */
  private transient MetricsContainerStepMap metricsDelta;
  private transient MetricsContainerImpl stepMetrics;
  private transient Accumulator<MetricsContainerStepMap, MetricsContainerStepMap> metricsAccumulator;
  private transient long metricsReportedNanos;

  /**
   * @param stepName the step whose metrics these are
   * @param metricsNamespace the namespace of the client's metrics
   * @param description how log messages name the client
   * @param stateName the name of the list state of unfinished elements (kept for restores)
   * @param inputWire the runner's wire coder of the input, which encodes that state
   */
  AbstractClientOperator(
      String stepName,
      String metricsNamespace,
      String description,
      String stateName,
      Coder<WindowedValue<Object>> inputWire,
      MailboxExecutor mailbox,
      OperatorEventGateway coordinator) {
    this.stepName = stepName;
    this.metricsNamespace = metricsNamespace;
    this.description = description;
    this.stateName = stateName;
    this.inputWire = inputWire;
    this.mailbox = mailbox;
    this.coordinator = coordinator;
  }

  // ---------------------------------------------------------------- what a client says

  /** Sets up the client's own state; called by {@link #open} before restored elements are taken. */
  abstract void openClient() throws Exception;

  /** Takes in one input element (wire form); sends its batch when the batch is due. */
  abstract void take(WindowedValue<Object> element) throws Exception;

  /** Sends the elements buffered so far as a request, if there are any. */
  abstract void flush() throws Exception;

  /** Whether the client holds as many unfinished elements as it may: input then waits. */
  abstract boolean full();

  /**
   * The position the next element (or request) taken in will have. A watermark that arrives now
   * is released once {@link #oldestUnfinished} is at least this.
   */
  abstract long watermarkBoundary();

  /** The position of the oldest element (or request) not finished yet; {@code Long.MAX_VALUE} if none. */
  abstract long oldestUnfinished();

  /** Every element taken in and not finished, in wire form, in arrival order: the checkpointed state. */
  abstract List<WindowedValue<Object>> unfinishedElements();

  /** Connects the client to a newly listed instance over {@code channel}. */
  abstract I connect(InstanceInfo info, ManagedChannel channel);

  /** The service this client calls: its token and TLS identity are used on every call. */
  abstract ServiceSpec service();

  /** Whether an instance in this JVM is reached in process (see {@code LocalEndpoints}). */
  boolean inProcessTransport() {
    return false;
  }

  /** Sends {@code r} to {@code target}, a routable instance. */
  abstract void send(R r, I target);

  /** {@code r} found no routable instance and waits for one. */
  void onWaiting(R r) {}

  /** Time-outs and due retries, on every housekeeping round, before waiting requests are sent. */
  void expire(long nowNanos) throws Exception {}

  /** Whether {@link #expire} has something to watch, so the housekeeping timer must keep running. */
  boolean hasTimedWork() {
    return false;
  }

  // ---------------------------------------------------------------- lifecycle

  @Override
  public void initializeState(StateInitializationContext context) throws Exception {
    super.initializeState(context);
    pendingState =
        context.getOperatorStateStore().getListState(new ListStateDescriptor<>(stateName, BytePrimitiveArraySerializer.INSTANCE));
    restored = new ArrayList<>();
    if (context.isRestored()) {
      for (byte[] bytes : pendingState.get()) {
        restored.add(CoderUtils.decodeFromByteArray(inputWire, bytes));
      }
    }
  }

  @Override
  public final void open() throws Exception {
    super.open();
    anyMail = getContainingTask().getMailboxExecutorFactory().createExecutor(TaskMailbox.MIN_PRIORITY);
    waiting = new ArrayDeque<>();
    heldWatermarks = new HeldWatermarks();
    instances = new InstancePool<>(this::connect, inProcessTransport(), service().token(), service().tls(), log, description);
    metricsAccumulator = getRuntimeContext().getAccumulator(FlinkMetricContainer.ACCUMULATOR_NAME);
    if (metricsAccumulator == null) {
      metricsAccumulator = new MetricsAccumulator();
      getRuntimeContext().addAccumulator(FlinkMetricContainer.ACCUMULATOR_NAME, metricsAccumulator);
    }
    metricsDelta = new MetricsContainerStepMap();
    stepMetrics = metricsDelta.getContainer(stepName);
    metricsReportedNanos = System.nanoTime();
    openClient();
    if (!restored.isEmpty()) {
      log.info("{}: re-sending {} element(s) restored from a checkpoint", description, restored.size());
      count(RESENT_AFTER_RESTORE, restored.size());
      for (WindowedValue<Object> element : restored) {
        take(element);
      }
      restored.clear();
      // At once: a job that is cancelled before the next report would never show the count.
      reportMetrics();
    }
  }

  @Override
  public final void processElement(StreamRecord<WindowedValue<Object>> record) throws Exception {
    take(record.getValue());
    while (full()) {
      if (instances.hasRoutable()) {
        mailbox.yield();
        continue;
      }
      // No instance to send to, and pushed news of instances (operator events) cannot arrive
      // inside this record: ask the coordinator, and keep the time-outs and retries going.
      pollMembership();
      if (!mailbox.tryYield()) {
        housekeeping();
        Thread.sleep(POLL_SLEEP_MILLIS);
      }
    }
  }

  @Override
  public final void processWatermark(Watermark mark) throws Exception {
    flush();
    if (oldestUnfinished() == Long.MAX_VALUE && heldWatermarks.isEmpty()) {
      output.emitWatermark(mark);
      return;
    }
    heldWatermarks.hold(watermarkBoundary(), mark);
  }

  /** Emits the held watermarks that everything before them has caught up with. */
  final void releaseWatermarks() {
    heldWatermarks.release(oldestUnfinished(), output::emitWatermark);
  }

  @Override
  public final void finish() throws Exception {
    // Flink quiesces the operator's timers before finish(): from here on this loop does what the
    // timers did (flush, time-outs, retries), between the mails that bring answers and membership.
    finishing = true;
    flush();
    while (oldestUnfinished() != Long.MAX_VALUE) {
      // Operator events (news of instances) come through the task's own mailbox, at the lowest
      // priority; the operators before this one have finished, so taking any mail is safe here.
      if (!instances.hasRoutable()) {
        pollMembership();
      }
      if (!mailbox.tryYield() && !(!instances.hasRoutable() && anyMail.tryYield())) {
        housekeeping();
        Thread.sleep(POLL_SLEEP_MILLIS);
      }
    }
    releaseWatermarks();
    reportMetrics();
    log.info("{}: client finished", description);
    coordinator.sendEventToCoordinator(new ClientEvents.Finished());
    // Until the coordinator's answer: an event that reached this task after it ended would fail
    // the task over (and the job, without restarts), though nothing was wrong.
    long ackDeadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(FINISHED_ACK_TIMEOUT_MILLIS);
    while (!finishedAcked && System.nanoTime() < ackDeadline) {
      if (!anyMail.tryYield()) {
        Thread.sleep(POLL_SLEEP_MILLIS);
      }
    }
    if (!finishedAcked) {
      log.warn("{}: no answer from the coordinator to Finished within {} ms; ending anyway", description, FINISHED_ACK_TIMEOUT_MILLIS);
    }
    super.finish();
  }

  @Override
  public void snapshotState(StateSnapshotContext context) throws Exception {
    super.snapshotState(context);
    List<WindowedValue<Object>> unfinished = unfinishedElements();
    List<byte[]> all = new ArrayList<>(unfinished.size());
    for (WindowedValue<Object> e : unfinished) {
      all.add(CoderUtils.encodeToByteArray(inputWire, e));
    }
    pendingState.update(all);
  }

  @Override
  public void close() throws Exception {
    closing = true;
    if (instances != null) {
      instances.closeAll();
    }
    super.close();
  }

  /**
   * Runs {@code action} on the task thread, unless the operator is closing or the task shuts down.
   * Callable from any thread: this is how gRPC callbacks reach the operator's state.
   */
  final void mail(ThrowingRunnable<? extends Exception> action, String what) {
    if (closing) {
      return;
    }
    try {
      mailbox.execute(action, what);
    } catch (RejectedExecutionException e) {
      // the task is shutting down
    }
  }

  // ---------------------------------------------------------------- routing

  /** Sends {@code r} to the least loaded routable instance, or lets it wait for one. */
  void dispatch(R r) {
    I target = instances.pick();
    if (target == null) {
      waiting.addLast(r);
      onWaiting(r);
      scheduleTick();
      return;
    }
    send(r, target);
  }

  /**
   * {@code from} refused {@code r} or was gone before it answered: not the request's fault. Routing
   * skips {@code from} for a while, and {@code r} goes elsewhere, uncharged.
   */
  final void reroute(R r, I from) {
    from.backOff();
    count(REROUTED_REQUESTS, 1);
    dispatch(r);
  }

  /** Sends the waiting requests, oldest first, while there is an instance to send them to. */
  final void dispatchWaiting() {
    int n = waiting.size();
    for (int i = 0; i < n && instances.hasRoutable(); i++) {
      dispatch(waiting.pollFirst());
    }
  }

  // ---------------------------------------------------------------- time

  /** Keeps the housekeeping going while there are requests to watch. */
  final void scheduleTick() {
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
    if (!waiting.isEmpty() || hasTimedWork()) {
      scheduleTick();
    }
  }

  /** Time-outs, due retries, waiting requests, metrics. */
  private void housekeeping() throws Exception {
    long now = System.nanoTime();
    expire(now);
    dispatchWaiting();
    if (now - metricsReportedNanos > METRICS_REPORT_NANOS) {
      reportMetrics();
    }
  }

  // ---------------------------------------------------------------- membership

  @Override
  public final void handleOperatorEvent(OperatorEvent event) {
    if (event instanceof ClientEvents.FinishedAck) {
      finishedAcked = true;
    } else if (event instanceof ClientEvents.Membership) {
      applyMembership((ClientEvents.Membership) event);
    } else {
      throw new IllegalArgumentException(description + ": unknown event " + event);
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
        log.debug("{}: asking the coordinator for instances failed: {}", description, e.toString());
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

  /** Brings the instances up to {@code m}, unless it is stale, and sends what waited for one. */
  private void applyMembership(ClientEvents.Membership m) {
    if (instances.apply(m)) {
      dispatchWaiting();
    }
  }

  /** The connections to the service's instances. */
  final InstancePool<I> instances() {
    return instances;
  }

  // ---------------------------------------------------------------- metrics

  /** The step's metrics since the last report; read it again after any call that may report. */
  final MetricsContainerImpl metrics() {
    return stepMetrics;
  }

  final MetricName metricName(String name) {
    return MetricName.named(metricsNamespace, name);
  }

  /** Adds {@code n} to the step's counter {@code name}. */
  final void count(String name, long n) {
    stepMetrics.getCounter(metricName(name)).inc(n);
    if (System.nanoTime() - metricsReportedNanos > METRICS_REPORT_NANOS) {
      reportMetrics();
    }
  }

  /** Adds the metrics since the last report to the task's accumulator (what the job's result reads). */
  private void reportMetrics() {
    metricsAccumulator.add(metricsDelta);
    metricsDelta = new MetricsContainerStepMap();
    stepMetrics = metricsDelta.getContainer(stepName);
    metricsReportedNanos = System.nanoTime();
  }
}
