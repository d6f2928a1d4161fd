package io.ainative.runner.translation;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.beam.runners.core.DoFnRunner;
import org.apache.beam.runners.core.StateNamespace;
import org.apache.beam.runners.core.StateTag;
import org.apache.beam.runners.core.StateTags;
import org.apache.beam.runners.core.StepContext;
import org.apache.beam.runners.core.construction.SerializablePipelineOptions;
import org.apache.beam.runners.flink.translation.wrappers.streaming.ExecutableStageDoFnOperator;
import org.apache.beam.runners.flink.translation.wrappers.streaming.state.FlinkStateInternals;
import org.apache.beam.runners.fnexecution.control.BundleCheckpointHandlers.StateAndTimerBundleCheckpointHandler;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.state.State;
import org.apache.beam.sdk.state.StateContext;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.ValueState;
import org.apache.flink.runtime.state.KeyedStateBackend;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.heap.HeapKeyedStateBackend;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The operator of an executable stage without runner-served user state: Beam's {@link
 * ExecutableStageDoFnOperator}, and for a splittable stage (an SDF's process step) with the
 * residuals of its self-checkpoints kept in one keyed state.
 *
 * <p>Beam 2.62's {@link StateAndTimerBundleCheckpointHandler} keeps each residual that the SDK
 * returns (an unbounded read does so every bundle) in a value state named after that checkpoint
 * ({@code sdf_checkpoint:<n>:<index>}), and reads it back when its timer fires without clearing it.
 * On Flink every new name registers a new keyed state for good (a state table with a map per key
 * group, and a descriptor kept for the final clean-up), so an unbounded read registers states
 * without end and fills any heap in time. Here every such name maps
 * to one state, {@value #RESIDUAL_STATE}: it is keyed by the residual's element and restriction
 * and scoped to its window, which is what made the names unique. The cell counts the timers set
 * for it and is cleared when the last one fired, so a finished restriction leaves nothing behind.
 * The timers keep their own names.
 */
final class StageOperator<InputT, OutputT> extends AbstractStageOperator<InputT, OutputT> {
  private static final long serialVersionUID = 1L;
  static final String RESIDUAL_STATE = StateAndTimerBundleCheckpointHandler.SDF_PREFIX + ":residual";
  /** How many timers of the same residual key and window are still to fire. */
  private static final StateTag<ValueState<Integer>> PENDING =
      StateTags.value(StateAndTimerBundleCheckpointHandler.SDF_PREFIX + ":pending", VarIntCoder.of());

  /** Residuals written in this JVM (a diagnostic, read by tests). */
  static final AtomicLong RESIDUALS_WRITTEN = new AtomicLong();
  /** Keyed state entries of the last splittable stage to close in this JVM, on the heap backend; -1 if none. */
  static volatile int entriesAtLastClose = -1;

  private final boolean splittable;
  private final SerializablePipelineOptions options;
  private final Coder<?> elementKeyCoder;

  /** {@code splittable}: the stage is an SDF's process step, whose residuals are kept in one state. */
  StageOperator(StageOperatorArgs<InputT, OutputT> args, boolean splittable) {
    super(args);
    this.splittable = splittable;
    this.options = new SerializablePipelineOptions(args.options);
    this.elementKeyCoder = args.keyCoder;
  }

  /** Swaps the keyed state internals before {@code open} hands them to the stage's handlers. */
  @Override
  @SuppressWarnings({"unchecked", "rawtypes"})
  public void initializeState(StateInitializationContext context) throws Exception {
    super.initializeState(context);
    if (splittable && keyedStateInternals != null) {
      keyedStateInternals = new ResidualStateInternals((KeyedStateBackend) getKeyedStateBackend(), elementKeyCoder, options);
    }
  }

  @Override
  protected DoFnRunner<InputT, OutputT> createWrappingDoFnRunner(DoFnRunner<InputT, OutputT> wrappedRunner, StepContext stepContext) {
    installOutputReading();
    return super.createWrappingDoFnRunner(wrappedRunner, stepContext);
  }

  @Override
  public void close() throws Exception {
    KeyedStateBackend<?> backend = getKeyedStateBackend();
    if (splittable && backend instanceof HeapKeyedStateBackend) {
      entriesAtLastClose = ((HeapKeyedStateBackend<?>) backend).numKeyValueStateEntries();
    }
    super.close();
  }

  /** Beam's state internals, with every SDF checkpoint's residual in {@link #RESIDUAL_STATE}. */
  static final class ResidualStateInternals<K> extends FlinkStateInternals<K> {
    ResidualStateInternals(KeyedStateBackend<ByteBuffer> backend, Coder<K> keyCoder, SerializablePipelineOptions options)
        throws Exception {
      super(backend, keyCoder, options);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T extends State> T state(StateNamespace namespace, StateTag<T> address, StateContext<?> c) {
      if (!StateAndTimerBundleCheckpointHandler.isSdfTimer(address.getId())) {
        return super.state(namespace, address, c);
      }
      ValueState<Object> cell = (ValueState<Object>) super.state(namespace, new Renamed<>(address, RESIDUAL_STATE), c);
      ValueState<Integer> pending = super.state(namespace, PENDING, c);
      return (T) new Counted<>(cell, pending);
    }
  }

  /** A tag under another name, with the same spec. */
  private static final class Renamed<S extends State> implements StateTag<S> {
    private static final long serialVersionUID = 1L;
    private final StateTag<S> tag;
    private final String id;

    Renamed(StateTag<S> tag, String id) {
      this.tag = tag;
      this.id = id;
    }

    @Override
    public void appendTo(Appendable sb) throws IOException {
      sb.append(id);
    }

    @Override
    public String getId() {
      return id;
    }

    @Override
    public StateSpec<S> getSpec() {
      return tag.getSpec();
    }

    @Override
    @SuppressWarnings("deprecation")
    public S bind(StateBinder binder) {
      return tag.bind(binder);
    }
  }

  /**
   * A residual's cell. The handler writes it with each timer it sets, and each timer that fires
   * reads it once; an unchanged restriction (a read that found nothing new) can be checkpointed
   * again before its last timer fired, under the same key, so the cell counts the timers still to
   * fire and is cleared when none is.
   */
  private static final class Counted<T> implements ValueState<T> {
    private final ValueState<T> cell;
    private final ValueState<Integer> pending;

    Counted(ValueState<T> cell, ValueState<Integer> pending) {
      this.cell = cell;
      this.pending = pending;
    }

    @Override
    public void write(T input) {
      RESIDUALS_WRITTEN.incrementAndGet();
      cell.write(input);
      Integer n = pending.read();
      pending.write(n == null ? 1 : n + 1);
    }

    @Override
    public @Nullable T read() {
      T value = cell.read();
      Integer n = pending.read();
      if (n == null || n <= 1) {
        cell.clear();
        pending.clear();
      } else {
        pending.write(n - 1);
      }
      return value;
    }

    @Override
    public ValueState<T> readLater() {
      return this;
    }

    @Override
    public void clear() {
      cell.clear();
      pending.clear();
    }
  }
}
