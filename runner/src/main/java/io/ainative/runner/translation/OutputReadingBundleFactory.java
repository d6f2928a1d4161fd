package io.ainative.runner.translation;

import java.lang.reflect.Field;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;
import org.apache.beam.model.fnexecution.v1.BeamFnApi.Elements;
import org.apache.beam.model.fnexecution.v1.BeamFnApi.ProcessBundleResponse;
import org.apache.beam.runners.core.DoFnRunners;
import org.apache.beam.runners.flink.translation.wrappers.streaming.ExecutableStageDoFnOperator;
import org.apache.beam.runners.fnexecution.control.BundleCheckpointHandler;
import org.apache.beam.runners.fnexecution.control.BundleFinalizationHandler;
import org.apache.beam.runners.fnexecution.control.BundleProgressHandler;
import org.apache.beam.runners.fnexecution.control.InstructionRequestHandler;
import org.apache.beam.runners.fnexecution.control.OutputReceiverFactory;
import org.apache.beam.runners.fnexecution.control.ProcessBundleDescriptors;
import org.apache.beam.runners.fnexecution.control.RemoteBundle;
import org.apache.beam.runners.fnexecution.control.SdkHarnessClient;
import org.apache.beam.runners.fnexecution.control.StageBundleFactory;
import org.apache.beam.runners.fnexecution.control.TimerReceiverFactory;
import org.apache.beam.runners.fnexecution.state.StateRequestHandler;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.fn.CancellableQueue;
import org.apache.beam.sdk.fn.data.BeamFnDataInboundObserver;
import org.apache.beam.sdk.fn.data.FnDataReceiver;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.util.construction.Timer;

/**
 * A stage's bundle factory whose bundles read their outputs as the SDK harness sends them and emit
 * them while the bundle runs, so that no volume of output stalls a bundle or waits in memory for
 * its end.
 *
 * <p>Beam 2.62's runner side ({@code SdkHarnessClient.ActiveBundle}) queues the data messages a
 * bundle receives, at most 100, and takes them off that queue only after the harness has answered the
 * bundle; the harness answers only once its outputs are sent. A bundle whose outputs need more than
 * 100 messages (about 100 MB at the harness's 1 MB messages: one split of a large bounded read, or one
 * element that fans out) therefore waited for ever. Here:
 *
 * <ul>
 *   <li>each message's data is decoded by the thread that receives it (a gRPC thread of the data
 *       service) into an {@link OutputHandoff}; only what must reach the task thread in order goes
 *       through Beam's queue: the end-of-stream marker of each output and the timers the bundle sets,
 *       which Beam applies to Flink's timer service on the task thread as before;
 *   <li>the task thread emits the handed-off outputs after each input element it sends, while it
 *       waits for the harness to answer the bundle (the wait inside Beam's {@code close}), and after
 *       the bundle ends, so a long bundle's outputs flow downstream while it runs. The gRPC thread
 *       never waits for the task thread (see {@link OutputHandoff} for why it must not).
 * </ul>
 *
 * <p>Beam keeps what this needs in private fields; {@link #install} and {@link #readOnArrival} name
 * each field in their error, so a Beam upgrade that moves one fails the first bundle clearly.
 */
final class OutputReadingBundleFactory implements StageBundleFactory {
  static final String OPERATOR_FIELD = "stageBundleFactory";
  static final String INBOUND_FIELD = "beamFnDataInboundObserver";
  static final String QUEUE_FIELD = "queue";
  static final String RESPONSE_FIELD = "response";
  /** Beam's queue holds end-of-stream markers and timers only; its capacity bounds those, not data. */
  private static final int MARKER_CAPACITY = 1024;

  /** Emits one output of the stage; called on the task thread only. */
  @FunctionalInterface
  interface Emitter {
    void emit(String pCollectionId, WindowedValue<?> output);
  }

  /** Outputs a stage holds in memory before it spills the next ones to disk. */
  static final int MEMORY_LIMIT = 10_000;

  private final StageBundleFactory delegate;
  /** Replaces Beam's finalizer, which finalizes every bundle whenever any checkpoint completes. */
  private final CheckpointFinalizations finalizations;
  private final Emitter emitter;
  /** One bundle at a time: Beam's operator finishes a bundle before it starts the next. */
  private final OutputHandoff handoff;

  private OutputReadingBundleFactory(
      StageBundleFactory delegate, Emitter emitter, Supplier<Path> spillDirectory, CheckpointFinalizations finalizations) {
    this.finalizations = finalizations;
    this.delegate = delegate;
    this.emitter = emitter;
    Map<String, Coder<WindowedValue<?>>> coders = outputCoders(delegate.getProcessBundleDescriptor());
    this.handoff =
        new OutputHandoff(
            MEMORY_LIMIT,
            spillDirectory,
            pCollectionId -> {
              Coder<WindowedValue<?>> coder = coders.get(pCollectionId);
              if (coder == null) {
                throw new IllegalStateException("Received output for unknown PCollection " + pCollectionId);
              }
              return coder;
            });
  }

  /**
   * The coder of each output PCollection of the stage, as its outputs reach the receivers: Beam
   * keys them by the transform that sends the PCollection to the runner.
   */
  @SuppressWarnings({"unchecked", "rawtypes"})
  static Map<String, Coder<WindowedValue<?>>> outputCoders(ProcessBundleDescriptors.ExecutableProcessBundleDescriptor descriptor) {
    Map<String, Coder<WindowedValue<?>>> coders = new HashMap<>();
    for (Map.Entry<String, Coder> output : descriptor.getRemoteOutputCoders().entrySet()) {
      Collection<String> inputs = descriptor.getProcessBundleDescriptor().getTransformsOrThrow(output.getKey()).getInputsMap().values();
      for (String pCollectionId : inputs) {
        coders.put(pCollectionId, (Coder<WindowedValue<?>>) output.getValue());
      }
    }
    return coders;
  }

  /**
   * Replaces the bundle factory of Beam's operator by one whose bundles read their outputs on
   * arrival and emit them through {@code emitter} while they run, spilling to {@code
   * spillDirectory} what waits beyond {@link #MEMORY_LIMIT}. Call from {@code
   * createWrappingDoFnRunner}, before Beam's runner takes the factory.
   */
  static void install(
      ExecutableStageDoFnOperator<?, ?> operator,
      String stepName,
      Emitter emitter,
      Supplier<Path> spillDirectory,
      CheckpointFinalizations finalizations) {
    try {
      Field field = ExecutableStageDoFnOperator.class.getDeclaredField(OPERATOR_FIELD);
      field.setAccessible(true);
      StageBundleFactory current = (StageBundleFactory) field.get(operator);
      if (current == null) {
        throw new IllegalStateException("Beam's operator has not built its bundle factory yet");
      }
      if (!(current instanceof OutputReadingBundleFactory)) {
        field.set(operator, new OutputReadingBundleFactory(current, emitter, spillDirectory, finalizations));
        finalizations.sendTo(current.getInstructionRequestHandler());
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new IllegalStateException(
          "Cannot install the runner's bundle factory into Beam's ExecutableStageDoFnOperator (field '"
              + OPERATOR_FIELD + "') for stage '" + stepName + "'",
          e);
    }
  }

  /** An emitter that hands each output to {@code outputManager} under its PCollection's tag. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  static Emitter emitter(Map<String, TupleTag<?>> outputTags, Supplier<DoFnRunners.OutputManager> outputManager) {
    return (pCollectionId, output) -> {
      TupleTag tag = outputTags.get(pCollectionId);
      if (tag == null) {
        throw new IllegalStateException("Received output for unknown PCollection " + pCollectionId);
      }
      outputManager.get().output(tag, (WindowedValue) output);
    };
  }

  @Override
  public RemoteBundle getBundle(
      OutputReceiverFactory outputReceiverFactory,
      TimerReceiverFactory timerReceiverFactory,
      StateRequestHandler stateRequestHandler,
      BundleProgressHandler progressHandler,
      BundleFinalizationHandler finalizationHandler,
      BundleCheckpointHandler checkpointHandler)
      throws Exception {
    handoff.clear();
    OutputReceiverFactory toHandoff =
        new OutputReceiverFactory() {
          @Override
          public <T> FnDataReceiver<T> create(String pCollectionId) {
            return output -> handoff.put(pCollectionId, (WindowedValue<?>) output);
          }
        };
    RemoteBundle bundle =
        delegate.getBundle(toHandoff, timerReceiverFactory, stateRequestHandler, progressHandler, finalizations, checkpointHandler);
    try {
      SdkHarnessClient.BundleProcessor.ActiveBundle active = activeBundle(bundle);
      readOnArrival(active);
      emitWhileAwaitingResponse(active);
    } catch (RuntimeException e) {
      try {
        bundle.close();
      } catch (Exception closing) {
        e.addSuppressed(closing);
      }
      throw e;
    }
    return new Bundle(bundle);
  }

  /**
   * Makes the task thread emit handed-off outputs while Beam's {@code close} waits for the harness's
   * answer: the bundle's response becomes a future whose {@code get} drains the handoff until the
   * answer is there.
   */
  @SuppressWarnings("unchecked")
  private void emitWhileAwaitingResponse(SdkHarnessClient.BundleProcessor.ActiveBundle active) {
    CompletionStage<ProcessBundleResponse> response =
        (CompletionStage<ProcessBundleResponse>) read(active, SdkHarnessClient.BundleProcessor.ActiveBundle.class, RESPONSE_FIELD);
    try {
      Field field = SdkHarnessClient.BundleProcessor.ActiveBundle.class.getDeclaredField(RESPONSE_FIELD);
      field.setAccessible(true);
      field.set(active, new DrainingResponse(response));
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new IllegalStateException(
          "Cannot replace the response of Beam's SdkHarnessClient.ActiveBundle (field '" + RESPONSE_FIELD + "')", e);
    }
  }

  /** The harness's answer to a bundle; waiting for it emits the bundle's outputs meanwhile. */
  private final class DrainingResponse extends CompletableFuture<ProcessBundleResponse> {
    DrainingResponse(CompletionStage<ProcessBundleResponse> response) {
      response.whenComplete(
          (answer, failure) -> {
            if (failure != null) {
              completeExceptionally(failure);
            } else {
              complete(answer);
            }
            handoff.wake();
          });
    }

    @Override
    public ProcessBundleResponse get() throws InterruptedException, ExecutionException {
      handoff.emitUntil(this::isDone, emitter);
      return super.get();
    }
  }

  /** The bundle Beam's operator gets: emits handed-off outputs after each input and at its end. */
  private final class Bundle implements RemoteBundle {
    private final RemoteBundle bundle;
    private final Map<String, FnDataReceiver> inputs;

    @SuppressWarnings("rawtypes")
    Bundle(RemoteBundle bundle) {
      this.bundle = bundle;
      Map<String, FnDataReceiver> wrapped = new HashMap<>();
      for (Map.Entry<String, FnDataReceiver> input : bundle.getInputReceivers().entrySet()) {
        FnDataReceiver receiver = input.getValue();
        wrapped.put(input.getKey(), element -> {
          receiver.accept(element);
          handoff.emitAvailable(emitter);
        });
      }
      this.inputs = Collections.unmodifiableMap(wrapped);
    }

    @Override
    public String getId() {
      return bundle.getId();
    }

    @Override
    @SuppressWarnings("rawtypes")
    public Map<String, FnDataReceiver> getInputReceivers() {
      return inputs;
    }

    @Override
    public Map<KV<String, String>, FnDataReceiver<Timer>> getTimerReceivers() {
      return bundle.getTimerReceivers();
    }

    @Override
    public void requestProgress() {
      bundle.requestProgress();
    }

    @Override
    public void split(double fractionOfRemainder) {
      bundle.split(fractionOfRemainder);
    }

    @Override
    public void close() throws Exception {
      try {
        bundle.close();
      } catch (Exception e) {
        handoff.clear();
        throw e;
      }
      handoff.emitAvailable(emitter);
    }
  }

  /**
   * Makes {@code active} decode its data messages on arrival. Must run before the bundle's first
   * input is sent: until then the harness has nothing to answer with.
   */
  static void readOnArrival(SdkHarnessClient.BundleProcessor.ActiveBundle active) {
    Optional<?> inbound = (Optional<?>) read(active, SdkHarnessClient.BundleProcessor.ActiveBundle.class, INBOUND_FIELD);
    if (inbound.isEmpty()) {
      return; // a bundle without outputs or timers
    }
    readOnArrival((BeamFnDataInboundObserver) inbound.get());
  }

  /** Makes {@code observer} decode data messages as they are put, keeping only markers and timers. */
  static void readOnArrival(BeamFnDataInboundObserver observer) {
    try {
      Field queue = BeamFnDataInboundObserver.class.getDeclaredField(QUEUE_FIELD);
      queue.setAccessible(true);
      queue.set(observer, new ReadingQueue(observer));
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new IllegalStateException(
          "Cannot replace the queue of Beam's BeamFnDataInboundObserver (field '" + QUEUE_FIELD + "')", e);
    }
  }

  /** The ActiveBundle itself, or the one a bundle factory's wrapper holds. */
  private static SdkHarnessClient.BundleProcessor.ActiveBundle activeBundle(RemoteBundle bundle) {
    if (bundle instanceof SdkHarnessClient.BundleProcessor.ActiveBundle) {
      return (SdkHarnessClient.BundleProcessor.ActiveBundle) bundle;
    }
    for (Class<?> c = bundle.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
      for (Field field : c.getDeclaredFields()) {
        if (SdkHarnessClient.BundleProcessor.ActiveBundle.class.isAssignableFrom(field.getType())
            || RemoteBundle.class.isAssignableFrom(field.getType())) {
          Object value = read(bundle, c, field.getName());
          if (value instanceof RemoteBundle && value != bundle) {
            return activeBundle((RemoteBundle) value);
          }
        }
      }
    }
    throw new IllegalStateException(
        "Cannot find Beam's SdkHarnessClient.BundleProcessor.ActiveBundle in the bundle " + bundle.getClass().getName());
  }

  private static Object read(Object target, Class<?> declaring, String name) {
    try {
      Field field = declaring.getDeclaredField(name);
      field.setAccessible(true);
      return field.get(target);
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new IllegalStateException("Cannot read field '" + name + "' of Beam's " + declaring.getName(), e);
    }
  }

  @Override
  public ProcessBundleDescriptors.ExecutableProcessBundleDescriptor getProcessBundleDescriptor() {
    return delegate.getProcessBundleDescriptor();
  }

  @Override
  public InstructionRequestHandler getInstructionRequestHandler() {
    return delegate.getInstructionRequestHandler();
  }

  @Override
  public void close() throws Exception {
    delegate.close();
  }

  /**
   * The inbound observer's queue, which decodes each message's data into the observer's receivers
   * instead of holding it, and holds only what the observer must see on the thread that waits for the
   * bundle: end-of-stream markers (with their data removed) and timers.
   *
   * <p>Threading: {@link #put} is called by the data service's gRPC thread for the bundle's stream
   * and, for outputs embedded in the bundle's response, by the thread closing the bundle; calls are
   * serialized so that the outputs keep their order. As with Beam's queue, once the queue is
   * cancelled (the bundle failed or was closed) a put throws the cancellation and decodes nothing; a
   * decoding failure cancels the queue with that failure, which the bundle's close then throws.
   */
  static final class ReadingQueue extends CancellableQueue<Elements> {
    private final BeamFnDataInboundObserver observer;
    private final Object decoding = new Object();
    private volatile Exception cancelled;

    ReadingQueue(BeamFnDataInboundObserver observer) {
      super(MARKER_CAPACITY);
      this.observer = observer;
    }

    @Override
    public void put(Elements elements) throws Exception {
      Elements markers;
      synchronized (decoding) {
        Exception reason = cancelled;
        if (reason != null) {
          throw reason;
        }
        try {
          markers = decodeData(elements);
        } catch (Exception e) {
          cancel(e);
          return;
        }
      }
      if (markers != null) {
        super.put(markers);
      }
    }

    @Override
    public void cancel(Exception exception) {
      cancelled = exception;
      super.cancel(exception);
    }

    @Override
    public void reset() {
      synchronized (decoding) {
        cancelled = null;
        super.reset();
      }
    }

    /** Decodes the data of {@code elements}; returns what the observer must still see, or null. */
    private Elements decodeData(Elements elements) throws Exception {
      boolean markers = elements.getTimersCount() > 0;
      for (Elements.Data data : elements.getDataList()) {
        markers |= data.getIsLast();
      }
      if (!markers) {
        observer.multiplexElements(elements);
        return null;
      }
      Elements.Builder data = Elements.newBuilder();
      Elements.Builder rest = Elements.newBuilder();
      for (Elements.Data d : elements.getDataList()) {
        if (!d.getIsLast()) {
          data.addData(d);
          continue;
        }
        if (!d.getData().isEmpty()) {
          data.addData(d.toBuilder().setIsLast(false));
        }
        rest.addData(Elements.Data.newBuilder().setInstructionId(d.getInstructionId()).setTransformId(d.getTransformId()).setIsLast(true));
      }
      if (data.getDataCount() > 0) {
        observer.multiplexElements(data.build());
      }
      return rest.addAllTimers(elements.getTimersList()).build();
    }
  }
}
