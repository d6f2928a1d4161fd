package io.ainative.harness;

import ai.djl.Device;
import ai.djl.pytorch.jni.JniUtils;
import io.ainative.transforms.ModelLoadException;
import io.ainative.transforms.ModelSpec;
import io.ainative.transforms.RetryPolicy;
import io.ainative.transforms.runtime.BatchListener;
import io.ainative.transforms.runtime.InferenceSession;
import io.ainative.transforms.runtime.LoadedModel;
import io.ainative.transforms.runtime.Outcome;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One copy of a model, loaded from a {@link ModelSpec}, warmed up, and ready for batches.
 *
 * <p>{@link #load} blocks while it loads the model (resolving {@code auto} to the first GPU or the
 * CPU, failing clearly for {@code gpu} on a machine without one) and runs the warm-up batch (the
 * spec's warm-up input repeated {@link Options#warmupBatchSize()} times); a host that {@link #load}
 * returned is ready. It reports its device, load time, warm-up time and parameter bytes.
 *
 * <p><b>Threading.</b> {@link #infer} may be called from any thread but runs one batch at a time
 * (calls are serialized): one model call at a time per copy. For parallelism, load several copies
 * and put a {@link DynamicBatcher} in front of them. The first call on a thread sets that thread's
 * PyTorch intra-op thread count to {@link Options#intraOpThreads()}, so that several copies in one
 * JVM do not each spread over every core.
 *
 * <p><b>Native memory.</b> The host owns the model and its session; {@link #close()} frees every
 * native array of both. Do not call {@link #infer} after {@link #close()}.
 */
public final class ModelHost<InputT, OutputT> implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ModelHost.class);
  private static final String INTEROP_PROPERTY = "ai.djl.pytorch.num_interop_threads";

  private final LoadedModel<InputT, OutputT> model;
  private final InferenceSession<InputT, OutputT> session;
  private final Options options;
  private volatile long warmupMillis;
  private final ThreadLocal<Boolean> threadSized = ThreadLocal.withInitial(() -> false);
  private boolean closed;

  private ModelHost(
      LoadedModel<InputT, OutputT> model, InferenceSession<InputT, OutputT> session, Options options) {
    this.model = model;
    this.session = session;
    this.options = options;
  }

  /** Loads with {@link Options#defaults()}. */
  public static <InputT, OutputT> ModelHost<InputT, OutputT> load(ModelSpec<InputT, OutputT> spec)
      throws ModelLoadException {
    return load(spec, Options.defaults(), BatchListener.NONE);
  }

  /**
   * Loads the model, then runs the warm-up batch. Blocks; call it off any thread that must stay
   * responsive (a Flink task's mailbox thread, for one).
   *
   * @param listener told about every model call (for metrics); called on the inferring thread
   * @throws ModelLoadException when the model cannot be loaded on the asked device, or the
   *     warm-up batch fails (the message names the step)
   */
  public static <InputT, OutputT> ModelHost<InputT, OutputT> load(
      ModelSpec<InputT, OutputT> spec, Options options, BatchListener listener)
      throws ModelLoadException {
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(options, "options");
    if (System.getProperty(INTEROP_PROPERTY) == null) {
      // read once, when the engine starts; without effect if it already has
      System.setProperty(INTEROP_PROPERTY, Integer.toString(options.interOpThreads()));
    }
    LoadedModel<InputT, OutputT> model = LoadedModel.load(spec);
    InferenceSession<InputT, OutputT> session = model.newSession(listener, options.retryPolicy());
    ModelHost<InputT, OutputT> host = new ModelHost<>(model, session, options);
    try {
      host.warmupMillis = host.warmUp();
      LOG.info(
          "Model {} ready on {}: loaded in {} ms, warmed up in {} ms, {} parameter bytes",
          spec.modelUri(), model.device(), model.loadMillis(), host.warmupMillis,
          model.parameterBytes());
      return host;
    } catch (ModelLoadException | RuntimeException e) {
      session.close();
      model.close();
      throw e;
    }
  }

  private long warmUp() throws ModelLoadException {
    ModelSpec<InputT, OutputT> spec = model.spec();
    if (spec.warmupInput() == null) {
      LOG.info("Model {} has no warm-up input; ready without warm-up", spec.modelUri());
      return 0;
    }
    long start = System.nanoTime();
    InputT input = spec.warmupInput().get();
    List<Outcome<OutputT>> outcomes =
        infer(Collections.nCopies(options.warmupBatchSize(), input));
    for (Outcome<OutputT> outcome : outcomes) {
      if (!outcome.isSuccess()) {
        throw new ModelLoadException(
            "warm-up of model '" + spec.modelUri() + "' failed at step "
                + outcome.failedStep().label() + ": " + outcome.error(),
            outcome.error());
      }
    }
    return (System.nanoTime() - start) / 1_000_000;
  }

  /**
   * Runs one batch and returns one outcome per input, in order. An element that fails does not
   * fail the others (see {@link InferenceSession}). Serialized with other calls on this host.
   *
   * @throws IllegalStateException after {@link #close()}
   */
  public synchronized List<Outcome<OutputT>> infer(List<InputT> batch) {
    if (closed) {
      throw new IllegalStateException("ModelHost for " + model.spec().modelUri() + " is closed");
    }
    if (!threadSized.get()) {
      JniUtils.setNumThreads(options.intraOpThreads());
      threadSized.set(true);
    }
    return session.run(batch);
  }

  public ModelSpec<InputT, OutputT> spec() {
    return model.spec();
  }

  /** The device the model is on (the CPU for {@code auto} on a machine without a GPU). */
  public Device device() {
    return model.device();
  }

  public long loadMillis() {
    return model.loadMillis();
  }

  /** Milliseconds of the warm-up batch; 0 when the spec has no warm-up input. */
  public long warmupMillis() {
    return warmupMillis;
  }

  public long parameterBytes() {
    return model.parameterBytes();
  }

  public Options options() {
    return options;
  }

  /** Frees the session and the model. Idempotent; waits for a running {@link #infer}. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    session.close();
    model.close();
  }

  /**
   * How a host is sized. Immutable; {@code withX} returns a checked copy.
   *
   * <p>By default the machine's cores are split evenly between the model copies expected in this
   * JVM: {@code intraOpThreads = max(1, cores / copiesPerJvm)}.
   */
  public static final class Options implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private final int copiesPerJvm;
    private final @Nullable Integer intraOpThreads;
    private final int interOpThreads;
    private final int warmupBatchSize;
    private final RetryPolicy retryPolicy;

    private Options(
        int copiesPerJvm,
        @Nullable Integer intraOpThreads,
        int interOpThreads,
        int warmupBatchSize,
        RetryPolicy retryPolicy) {
      if (copiesPerJvm < 1) {
        throw new IllegalArgumentException("copiesPerJvm must be >= 1, was " + copiesPerJvm);
      }
      if (intraOpThreads != null && intraOpThreads < 1) {
        throw new IllegalArgumentException("intraOpThreads must be >= 1, was " + intraOpThreads);
      }
      if (interOpThreads < 1) {
        throw new IllegalArgumentException("interOpThreads must be >= 1, was " + interOpThreads);
      }
      if (warmupBatchSize < 1) {
        throw new IllegalArgumentException("warmupBatchSize must be >= 1, was " + warmupBatchSize);
      }
      this.copiesPerJvm = copiesPerJvm;
      this.intraOpThreads = intraOpThreads;
      this.interOpThreads = interOpThreads;
      this.warmupBatchSize = warmupBatchSize;
      this.retryPolicy = Objects.requireNonNull(retryPolicy, "retryPolicy");
    }

    /** One copy per JVM, cores split accordingly, 1 inter-op thread, warm-up batch of 1, no retries. */
    public static Options defaults() {
      return new Options(1, null, 1, 1, RetryPolicy.noRetries());
    }

    public Options withCopiesPerJvm(int copies) {
      return new Options(copies, intraOpThreads, interOpThreads, warmupBatchSize, retryPolicy);
    }

    public Options withIntraOpThreads(int threads) {
      return new Options(copiesPerJvm, threads, interOpThreads, warmupBatchSize, retryPolicy);
    }

    /** Inter-op threads are process-wide: this takes effect only if the engine has not started. */
    public Options withInterOpThreads(int threads) {
      return new Options(copiesPerJvm, intraOpThreads, threads, warmupBatchSize, retryPolicy);
    }

    public Options withWarmupBatchSize(int size) {
      return new Options(copiesPerJvm, intraOpThreads, interOpThreads, size, retryPolicy);
    }

    public Options withRetryPolicy(RetryPolicy policy) {
      return new Options(copiesPerJvm, intraOpThreads, interOpThreads, warmupBatchSize, policy);
    }

    public int copiesPerJvm() {
      return copiesPerJvm;
    }

    public int intraOpThreads() {
      if (intraOpThreads != null) {
        return intraOpThreads;
      }
      return Math.max(1, Runtime.getRuntime().availableProcessors() / copiesPerJvm);
    }

    public int interOpThreads() {
      return interOpThreads;
    }

    public int warmupBatchSize() {
      return warmupBatchSize;
    }

    public RetryPolicy retryPolicy() {
      return retryPolicy;
    }
  }
}
