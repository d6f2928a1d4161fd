package io.ainative.runner.translation;

import io.ainative.runner.translation.state.UserStateKinds;
import io.ainative.runner.translation.state.UserStateRequestHandler;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Lock;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.runners.core.DoFnRunner;
import org.apache.beam.runners.core.StateNamespaces;
import org.apache.beam.runners.core.StateNamespaces.WindowNamespace;
import org.apache.beam.runners.core.StepContext;
import org.apache.beam.runners.core.TimerInternals;
import org.apache.beam.runners.flink.translation.wrappers.streaming.ExecutableStageDoFnOperator;
import org.apache.beam.runners.fnexecution.control.TimerReceiverFactory;
import org.apache.beam.runners.fnexecution.state.StateRequestHandler;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.util.construction.PTransformTranslation;
import org.apache.beam.vendor.grpc.v1p60p1.com.google.protobuf.InvalidProtocolBufferException;
import org.apache.flink.api.java.functions.KeySelector;

/**
 * Beam's {@link ExecutableStageDoFnOperator} for a stage with user state the runner serves itself
 * (map, set, multimap, ordered list; see {@link UserStateKinds}) or with a window-expiration
 * callback ({@code @OnWindowExpiration}). The state requests of those kinds go to {@link
 * UserStateRequestHandler}, backed by Flink keyed state beside Beam's bag states, so they are
 * checkpointed and restored with them; window-expiration timers are set by {@link
 * WindowExpirationRunner}.
 *
 * <p>When Beam's state-cleanup timer of a window fires, the runner's states of that key and window
 * are cleared after the harness bundle, under the condition Beam's cleaner applies to bag states.
 *
 * <p>Stages with multimap-protocol states (map, set, multimap) run one key per harness bundle
 * ({@link HarnessBundleRunner}), because Beam 2.62's Java SDK harness leaves the key out of those
 * requests.
 *
 * <p>Beam's operator builds its state handler in {@code open()} into a private field and gives no
 * way to add to it; this class replaces that field, wrapping Beam's handler, before the operator
 * hands it to the harness runner. A Beam upgrade that renames the field fails {@code open()} with a
 * message naming it (and {@code StatefulStageOperatorTest}).
 */
final class StatefulStageOperator<InputT, OutputT> extends AbstractStageOperator<InputT, OutputT> {

  private static final long serialVersionUID = 1L;
  static final String BEAM_HANDLER_FIELD = "stateRequestHandler";
  /** Beam's state-cleanup timer (ExecutableStageDoFnOperator.CleanupTimer.GC_TIMER_ID, private). */
  static final String STATE_CLEANUP_TIMER_ID = "__user-state-cleanup__";

  private final UserStateKinds userStates;
  private final KeySelector<WindowedValue<InputT>, ByteBuffer> stateKeySelector;
  private final List<String> windowExpirationFamilies;
  private final boolean keyScoped;
  private transient HarnessBundleRunner<InputT, OutputT> harnessBundles;
  private transient UserStateRequestHandler userStateHandler;
  /** Keys and windows whose state-cleanup timer fired in the harness bundle in progress. */
  private transient ArrayDeque<KV<ByteBuffer, BoundedWindow>> expiredWindows;
  /** Beam's {@code FlinkTimerInternals#hasPendingEventTimeTimers(long)}, bound to this operator's. */
  private transient PendingTimers pendingTimers;

  /**
   * {@code userStates}: the stage's states the runner serves; {@code windowExpirationFamilies}: its
   * {@code @OnWindowExpiration} timer families ({@link #windowExpirationFamilies}). The stage must
   * run keyed.
   */
  @SuppressWarnings({"rawtypes", "unchecked"})
  StatefulStageOperator(
      StageOperatorArgs<InputT, OutputT> args, UserStateKinds userStates, List<String> windowExpirationFamilies) {
    super(args);
    if (args.keySelector == null) {
      throw new IllegalArgumentException(
          "Stage '" + args.stepName + "' has user state (" + userStates + ") or window-expiration timers but no key");
    }
    this.userStates = userStates;
    this.windowExpirationFamilies = List.copyOf(windowExpirationFamilies);
    this.stateKeySelector = (KeySelector) args.keySelector;
    this.keyScoped = !userStates.multimapStates().isEmpty();
  }

  @Override
  protected DoFnRunner<InputT, OutputT> createWrappingDoFnRunner(DoFnRunner<InputT, OutputT> wrappedRunner, StepContext stepContext) {
    installUserStateHandler();
    installOutputReading();
    expiredWindows = new ArrayDeque<>();
    if (userStates.any()) {
      pendingTimers = PendingTimers.of(stepContext.timerInternals());
    }
    DoFnRunner<InputT, OutputT> runner = super.createWrappingDoFnRunner(wrappedRunner, stepContext);
    if (!windowExpirationFamilies.isEmpty()) {
      runner =
          new WindowExpirationRunner<>(
              runner,
              windowExpirationFamilies,
              stateKeySelector,
              getKeyedStateBackend(),
              getLockToAcquireForStateAccessDuringBundles(),
              stepContext.timerInternals(),
              windowingStrategy);
    }
    // Outermost: a new key's bundle starts before anything else happens for its element.
    harnessBundles = new HarnessBundleRunner<>(runner, stateKeySelector, keyScoped, this::clearExpiredUserState);
    return harnessBundles;
  }

  @Override
  protected void fireTimerInternal(ByteBuffer key, TimerInternals.TimerData timer) {
    // Before Beam's operator takes the state lock: finishing a harness bundle waits for the harness.
    boolean windowExpiration = windowExpirationFamilies.contains(timer.getTimerFamilyId());
    if (windowExpiration) {
      harnessBundles.cut();
    }
    harnessBundles.enter(key);
    super.fireTimerInternal(key, timer);
    if (userStateHandler != null && STATE_CLEANUP_TIMER_ID.equals(timer.getTimerId()) && timer.getNamespace() instanceof WindowNamespace) {
      expiredWindows.add(KV.of(key, ((WindowNamespace<?>) timer.getNamespace()).getWindow()));
    }
    if (windowExpiration) {
      harnessBundles.cut();
    }
  }

  /**
   * Clears the runner-served states of the windows whose cleanup timer fired in the bundle that just
   * finished, as Beam's state cleaner does for bag states at the same point (which knows only those):
   * unless event-time timers at or before the window's end are still pending for the key, in which
   * case Beam sets the cleanup timer again and this runs again when it fires.
   */
  private void clearExpiredUserState() {
    if (expiredWindows.isEmpty()) {
      return;
    }
    Lock lock = getLockToAcquireForStateAccessDuringBundles();
    lock.lock();
    try {
      while (!expiredWindows.isEmpty()) {
        KV<ByteBuffer, BoundedWindow> expired = expiredWindows.remove();
        getKeyedStateBackend().setCurrentKey(expired.getKey());
        if (!pendingTimers.atOrBefore(expired.getValue().maxTimestamp().getMillis())) {
          userStateHandler.clearNamespace(StateNamespaces.window(windowCoder(), expired.getValue()).stringKey());
        }
      }
    } finally {
      lock.unlock();
    }
  }

  @SuppressWarnings("unchecked")
  private Coder<BoundedWindow> windowCoder() {
    return (Coder<BoundedWindow>) windowingStrategy.getWindowFn().windowCoder();
  }

  /** Beam's check for pending event-time timers of the current key, public on a package-private class. */
  private static final class PendingTimers {
    private final Object timerInternals;
    private final Method method;

    private PendingTimers(Object timerInternals, Method method) {
      this.timerInternals = timerInternals;
      this.method = method;
    }

    static PendingTimers of(Object timerInternals) {
      try {
        Method method = timerInternals.getClass().getMethod("hasPendingEventTimeTimers", long.class);
        method.setAccessible(true);
        return new PendingTimers(timerInternals, method);
      } catch (ReflectiveOperationException | RuntimeException e) {
        throw new IllegalStateException(
            "Beam's timer internals (" + timerInternals.getClass().getName() + ") have no hasPendingEventTimeTimers(long)", e);
      }
    }

    boolean atOrBefore(long maxTimestamp) {
      try {
        return (Boolean) method.invoke(timerInternals, maxTimestamp);
      } catch (InvocationTargetException e) {
        throw new IllegalStateException("Checking pending timers failed", e.getCause());
      } catch (IllegalAccessException e) {
        throw new IllegalStateException("Checking pending timers failed", e);
      }
    }
  }

  /**
   * The window-expiration timer families of a stage's ParDos, each encoded with its transform id as
   * Beam's operator expects in a timer's family id.
   */
  static List<String> windowExpirationFamilies(RunnerApi.ExecutableStagePayload stage) {
    List<String> families = new ArrayList<>();
    for (String id : stage.getTransformsList()) {
      RunnerApi.PTransform transform = stage.getComponents().getTransformsOrThrow(id);
      if (!PTransformTranslation.PAR_DO_TRANSFORM_URN.equals(transform.getSpec().getUrn())) {
        continue;
      }
      String family;
      try {
        family = RunnerApi.ParDoPayload.parseFrom(transform.getSpec().getPayload()).getOnWindowExpirationTimerFamilySpec();
      } catch (InvalidProtocolBufferException e) {
        throw new IllegalArgumentException("Malformed ParDo payload of '" + transform.getUniqueName() + "'", e);
      }
      if (!family.isEmpty()) {
        families.add(TimerReceiverFactory.encodeToTimerDataTimerId(id, family));
      }
    }
    return families;
  }

  @SuppressWarnings("unchecked")
  private void installUserStateHandler() {
    if (!userStates.any()) {
      return;
    }
    Field field;
    try {
      field = ExecutableStageDoFnOperator.class.getDeclaredField(BEAM_HANDLER_FIELD);
      field.setAccessible(true);
      StateRequestHandler beams = (StateRequestHandler) field.get(this);
      if (beams == null) {
        throw new IllegalStateException("Beam's operator has not built its state handler yet");
      }
      userStateHandler =
          new UserStateRequestHandler(
              beams,
              userStates,
              getKeyedStateBackend(),
              getLockToAcquireForStateAccessDuringBundles(),
              (Coder<BoundedWindow>) windowingStrategy.getWindowFn().windowCoder(),
              () -> harnessBundles == null ? null : harnessBundles.bundleKey(),
              keyScoped,
              serializedOptions);
      field.set(this, userStateHandler);
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new IllegalStateException(
          "Cannot install the runner's user state handler into Beam's ExecutableStageDoFnOperator (field '"
              + BEAM_HANDLER_FIELD + "') for stage '" + stepName + "'",
          e);
    }
  }
}
