package io.ainative.runner.service.client;

import io.ainative.harness.stage.StageCalls;
import io.ainative.runner.service.client.InstancePool.Instance;
import io.ainative.runner.service.discovery.InstanceInfo;
import io.ainative.runner.service.discovery.ServiceSpec;
import io.ainative.runner.service.discovery.StageSpec;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.runtime.operators.coordination.OperatorEventGateway;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client of a served stage, in the data DAG: batches the input's windowed elements (runner wire
 * form), sends each batch to the ready instance with the fewest outstanding elements ({@link
 * StageCalls#PROCESS}), and emits every output of a batch once its request succeeded. Membership,
 * routing, back-pressure, held watermarks, checkpointed elements, metric reports and the end of
 * input are {@link AbstractClientOperator}'s, shared with the RunInference client; this class sends
 * the calls, takes their answers and decides what a failure means.
 *
 * <p><b>Exactly once.</b> A batch's outputs are emitted together, only from the answer to the
 * request's current attempt; the answer of an attempt that was given up (its instance was lost, or
 * it timed out and was sent again) is ignored. So a batch re-sent after an instance loss yields each
 * output once. Every element taken in and not yet answered is in the operator's checkpointed state
 * ({@value #PENDING_STATE}) and sent again after a restore.
 *
 * <p><b>Failures.</b> An instance that refuses a request ({@code UNAVAILABLE}: starting, draining,
 * broken) or is lost (the call fails without an answer) costs the request nothing: it goes to
 * another ready instance, or waits for one. Any other error, or no answer within the timeout, is a
 * failed attempt; after {@value #MAX_ATTEMPTS} the task fails, naming the stage.
 *
 * <p><b>Metrics</b> (Beam counters in {@value #METRICS_NAMESPACE}, step = the composite's name):
 * {@value AbstractClientOperator#REROUTED_REQUESTS}, {@value #RETRIED_REQUESTS}, {@value
 * #ANSWERED_REQUESTS}, {@value #ANSWERED_ELEMENTS}, {@value #OUTPUTS}, {@value
 * AbstractClientOperator#RESENT_AFTER_RESTORE}.
 *
 * <p><b>Threading.</b> Everything runs on the task's mailbox thread; gRPC callbacks only enqueue
 * mails. Watermarks are held back until every element that arrived before them has been answered.
 */
@Internal
public final class StageClientOperator extends AbstractClientOperator<StageClientOperator.Request, Instance> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(StageClientOperator.class);
  static final int MAX_ATTEMPTS = 3;
  /** The name of the list state of elements not yet answered. */
  static final String PENDING_STATE = "ainative-served-stage-pending";
  /** The namespace of the client's metrics (Beam counters, step = the served composite). */
  public static final String METRICS_NAMESPACE = "ainative.served_stage";
  /** Failed attempts (errors, time-outs) that were tried again. */
  public static final String RETRIED_REQUESTS = "retried_requests";
  /** Requests answered; their elements and outputs. */
  static final String ANSWERED_REQUESTS = "answered_requests";
  public static final String ANSWERED_ELEMENTS = "answered_elements";
  static final String OUTPUTS = "outputs";
  /** Elements taken in and not answered, per instance and full batch, before input waits. */
  private static final int BATCHES_PER_INSTANCE = 4;

  private final StageSpec spec;

  private transient Batcher<WindowedValue<Object>> batcher;
  /** Every request not yet answered, by id (ids grow with arrival). */
  private transient TreeMap<Long, Request> open;
  private transient long nextRequestId;
  private transient int unanswered;
  private transient int capacity;

  StageClientOperator(StageSpec spec, MailboxExecutor mailbox, OperatorEventGateway coordinator) {
    super(spec.stepName(), METRICS_NAMESPACE, spec.toString(), PENDING_STATE, spec.inputWire(), mailbox, coordinator);
    this.spec = spec;
  }

  @Override
  void openClient() {
    batcher = new Batcher<>(spec.settings().maxBatchSize(), spec.settings().maxBatchingDelayMillis(), getProcessingTimeService(), this::submit);
    open = new TreeMap<>();
    capacity = Math.max(2, BATCHES_PER_INSTANCE * spec.settings().instances()) * spec.settings().maxBatchSize();
  }

  // ---------------------------------------------------------------- input

  @Override
  void take(WindowedValue<Object> element) {
    batcher.add(element);
  }

  @Override
  void flush() {
    batcher.flush();
  }

  private void submit(List<WindowedValue<Object>> batch) {
    Request r = new Request(nextRequestId++, batch);
    open.put(r.id, r);
    unanswered += r.inputs.size();
    dispatch(r);
  }

  @Override
  boolean full() {
    return unanswered + batcher.size() >= capacity;
  }

  @Override
  long watermarkBoundary() {
    return nextRequestId;
  }

  @Override
  long oldestUnfinished() {
    return open.isEmpty() ? Long.MAX_VALUE : open.firstKey();
  }

  @Override
  List<WindowedValue<Object>> unfinishedElements() {
    List<WindowedValue<Object>> all = new ArrayList<>(unanswered + batcher.size());
    for (Request r : open.values()) {
      all.addAll(r.inputs);
    }
    all.addAll(batcher.elements());
    return all;
  }

  // ---------------------------------------------------------------- requests

  @Override
  ServiceSpec service() {
    return spec.service();
  }

  @Override
  Instance connect(InstanceInfo info, ManagedChannel channel) {
    return new Instance(info, channel);
  }

  @Override
  void send(Request r, Instance target) {
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
    instances().closeIfIdle(from);
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
      reroute(r, from);
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
    from.backOff();
    dispatch(r);
  }

  /** One batch: sent whole, answered whole. */
  static final class Request {
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
}
