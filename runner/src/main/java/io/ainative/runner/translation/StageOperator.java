package io.ainative.runner.translation;

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
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.state.BagState;
import org.apache.beam.sdk.state.CombiningState;
import org.apache.beam.sdk.state.MapState;
import org.apache.beam.sdk.state.MultimapState;
import org.apache.beam.sdk.state.OrderedListState;
import org.apache.beam.sdk.state.SetState;
import org.apache.beam.sdk.state.State;
import org.apache.beam.sdk.state.StateBinder;
import org.apache.beam.sdk.state.StateContext;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.state.WatermarkHoldState;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.CombineWithContext;
import org.apache.beam.sdk.transforms.windowing.TimestampCombiner;
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
 * without end and fills any heap in time. Here every such name is an entry of one map state,
 * {@value #RESIDUAL_STATE}, under the residual's key (its element) and window: the entry is named
 * after the checkpoint, as the state was, because one element can have several residuals at once
 * (one per restriction it was split into), and it is removed when its timer fires and reads it,
 * so a finished restriction leaves nothing behind. The timers keep their own names.
 */
final class StageOperator<InputT, OutputT> extends AbstractStageOperator<InputT, OutputT> {
  private static final long serialVersionUID = 1L;
  static final String RESIDUAL_STATE = StateAndTimerBundleCheckpointHandler.SDF_PREFIX + ":residual";

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

  /** Beam's state internals, with every SDF checkpoint's residual an entry of {@link #RESIDUAL_STATE}. */
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
      Coder<Object> coder = ValueCoder.of((StateSpec<ValueState<Object>>) (StateSpec<?>) address.getSpec());
      MapState<String, Object> residuals = super.state(namespace, StateTags.map(RESIDUAL_STATE, StringUtf8Coder.of(), coder), c);
      return (T) new Entry<>(residuals, address.getId());
    }
  }

  /** Finds the coder of a value state's spec (the only kind the checkpoint handler asks for). */
  private static final class ValueCoder implements StateBinder {
    private @Nullable Coder<?> coder;

    @SuppressWarnings("unchecked")
    static <T> Coder<T> of(StateSpec<ValueState<T>> spec) {
      ValueCoder binder = new ValueCoder();
      spec.bind("residual", binder);
      return (Coder<T>) java.util.Objects.requireNonNull(binder.coder, "the residual's coder");
    }

    @Override
    public <T> ValueState<T> bindValue(String id, StateSpec<ValueState<T>> spec, Coder<T> valueCoder) {
      coder = valueCoder;
      return null;
    }

    @Override
    public <T> BagState<T> bindBag(String id, StateSpec<BagState<T>> spec, Coder<T> elemCoder) {
      throw new UnsupportedOperationException("an SDF residual is a value state");
    }

    @Override
    public <T> SetState<T> bindSet(String id, StateSpec<SetState<T>> spec, Coder<T> elemCoder) {
      throw new UnsupportedOperationException("an SDF residual is a value state");
    }

    @Override
    public <K, V> MapState<K, V> bindMap(String id, StateSpec<MapState<K, V>> spec, Coder<K> keyCoder, Coder<V> valueCoder) {
      throw new UnsupportedOperationException("an SDF residual is a value state");
    }

    @Override
    public <T> OrderedListState<T> bindOrderedList(String id, StateSpec<OrderedListState<T>> spec, Coder<T> elemCoder) {
      throw new UnsupportedOperationException("an SDF residual is a value state");
    }

    @Override
    public <K, V> MultimapState<K, V> bindMultimap(String id, StateSpec<MultimapState<K, V>> spec, Coder<K> keyCoder, Coder<V> valueCoder) {
      throw new UnsupportedOperationException("an SDF residual is a value state");
    }

    @Override
    public <InputT, AccumT, OutputT> CombiningState<InputT, AccumT, OutputT> bindCombining(
        String id, StateSpec<CombiningState<InputT, AccumT, OutputT>> spec, Coder<AccumT> accumCoder,
        Combine.CombineFn<InputT, AccumT, OutputT> combineFn) {
      throw new UnsupportedOperationException("an SDF residual is a value state");
    }

    @Override
    public <InputT, AccumT, OutputT> CombiningState<InputT, AccumT, OutputT> bindCombiningWithContext(
        String id, StateSpec<CombiningState<InputT, AccumT, OutputT>> spec, Coder<AccumT> accumCoder,
        CombineWithContext.CombineFnWithContext<InputT, AccumT, OutputT> combineFn) {
      throw new UnsupportedOperationException("an SDF residual is a value state");
    }

    @Override
    public WatermarkHoldState bindWatermark(String id, StateSpec<WatermarkHoldState> spec, TimestampCombiner timestampCombiner) {
      throw new UnsupportedOperationException("an SDF residual is a value state");
    }
  }

  /**
   * One checkpoint's residual: the handler writes it when it sets the checkpoint's timer, and the
   * timer reads it once when it fires, which removes it.
   */
  private static final class Entry<T> implements ValueState<T> {
    private final MapState<String, T> residuals;
    private final String checkpoint;

    Entry(MapState<String, T> residuals, String checkpoint) {
      this.residuals = residuals;
      this.checkpoint = checkpoint;
    }

    @Override
    public void write(T input) {
      RESIDUALS_WRITTEN.incrementAndGet();
      residuals.put(checkpoint, input);
    }

    @Override
    public @Nullable T read() {
      T value = residuals.get(checkpoint).read();
      residuals.remove(checkpoint);
      return value;
    }

    @Override
    public ValueState<T> readLater() {
      return this;
    }

    @Override
    public void clear() {
      residuals.remove(checkpoint);
    }
  }
}
