package io.ainative.transforms;

import io.ainative.transforms.runtime.ElementAdapter;
import io.ainative.transforms.runtime.InferenceDoFn;
import java.util.Objects;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.joda.time.Duration;

/**
 * Runs a model on every element: {@code PCollection<InputT>} to {@code
 * PCollection<InferenceResult<InputT, OutputT>>}, each result holding its input and the
 * prediction.
 *
 * <pre>{@code
 * PCollection<InferenceResult<float[], Integer>> labels =
 *     images.apply(RunInference.of(spec)
 *         .withOutputCoder(VarIntCoder.of())
 *         .withBatchSize(8, 64)
 *         .withMaxBatchingDelay(Duration.millis(5)));
 *
 * WithFailures.Result<PCollection<InferenceResult<float[], Integer>>, InferenceFailure<float[]>>
 *     result = images.apply(RunInference.of(spec).withOutputCoder(VarIntCoder.of()).withFailures());
 * }</pre>
 *
 * <p>{@link #keyed} carries a key through: {@code KV<K, InputT>} to {@code KV<K,
 * InferenceResult<InputT, OutputT>>}. {@link #withFailures()} adds a failure output: an element
 * that fails (in pre-processing, inference or post-processing) goes there with its step and error,
 * and the rest of its batch succeeds. Without it, a failing element fails the bundle with an
 * {@link InferenceFailedException}.
 *
 * <p><b>Portable form.</b> The transform is translated to the URN {@value RunInferencePayload#URN}
 * with a payload that describes it fully (see {@link RunInferencePayload}); its expansion, kept as
 * its sub-transforms, is an inline batched {@code ParDo} (see {@code InferenceDoFn}) that loads the
 * model once per JVM and shares it across threads. A runner that knows the URN (ainative's) may
 * serve the model from inference services instead; any other runner runs the expansion.
 */
public final class RunInference<InputT, OutputT>
    extends PTransform<PCollection<InputT>, PCollection<InferenceResult<InputT, OutputT>>>
    implements RunInferencePayload.Describable {
  private static final long serialVersionUID = 1L;

  private final Config<InputT, OutputT> config;

  private RunInference(Config<InputT, OutputT> config) {
    this.config = config;
  }

  /** RunInference with {@link InferenceOptions#defaults()}. */
  public static <InputT, OutputT> RunInference<InputT, OutputT> of(ModelSpec<InputT, OutputT> spec) {
    return new RunInference<>(Config.of(spec));
  }

  /** The keyed variant: the key of each {@code KV} is carried to its result. */
  public static <K, InputT, OutputT> Keyed<K, InputT, OutputT> keyed(
      ModelSpec<InputT, OutputT> spec) {
    return new Keyed<>(Config.of(spec));
  }

  /** The coder of the model outputs (results of post-processing). Required. */
  public RunInference<InputT, OutputT> withOutputCoder(Coder<OutputT> coder) {
    return new RunInference<>(config.withOutputCoder(coder));
  }

  /** Sets both batch bounds at once; fails if {@code min > max}. */
  public RunInference<InputT, OutputT> withBatchSize(int min, int max) {
    return with(config.options.withBatchSize(min, max));
  }

  public RunInference<InputT, OutputT> withMinBatchSize(int min) {
    return with(config.options.withMinBatchSize(min));
  }

  public RunInference<InputT, OutputT> withMaxBatchSize(int max) {
    return with(config.options.withMaxBatchSize(max));
  }

  public RunInference<InputT, OutputT> withMaxBatchingDelay(Duration delay) {
    return with(config.options.withMaxBatchingDelay(delay));
  }

  public RunInference<InputT, OutputT> withInstances(int instances) {
    return with(config.options.withInstances(instances));
  }

  public RunInference<InputT, OutputT> withModelCopies(int copies) {
    return with(config.options.withModelCopies(copies));
  }

  public RunInference<InputT, OutputT> withRequestTimeout(Duration timeout) {
    return with(config.options.withRequestTimeout(timeout));
  }

  public RunInference<InputT, OutputT> withRetryPolicy(RetryPolicy policy) {
    return with(config.options.withRetryPolicy(policy));
  }

  public RunInference<InputT, OutputT> withOrdering(InferenceOptions.Ordering ordering) {
    return with(config.options.withOrdering(ordering));
  }

  /** Replaces every option at once. */
  public RunInference<InputT, OutputT> withOptions(InferenceOptions options) {
    return with(options);
  }

  /** The namespace of the metrics ({@value InferenceMetrics#DEFAULT_NAMESPACE} by default). */
  public RunInference<InputT, OutputT> withMetricsNamespace(String namespace) {
    return new RunInference<>(config.withMetricsNamespace(namespace));
  }

  /**
   * Serves this transform from the service {@code name}, shared with every other RunInference of
   * the pipeline that names it, instead of a service of its own. On a runner with inference
   * services (ainative) they must agree on what the service runs: the same {@link ModelSpec}
   * object (a spec built twice is two models, see {@link ModelSpec#id()}) and the same batching,
   * instances and model copies; the runner refuses the pipeline otherwise, naming both steps and
   * the field. Client-side options (request timeout, retries, ordering, metrics
   * namespace, failure output) may differ. Elsewhere (the inline expansion) it changes nothing.
   */
  public RunInference<InputT, OutputT> withSharedService(String name) {
    return new RunInference<>(config.withSharedService(name));
  }

  /** Adds a failure output; see the class javadoc. */
  public WithFailureOutput<InputT, InferenceResult<InputT, OutputT>> withFailures() {
    return new WithFailureOutput<>(config, false);
  }

  private RunInference<InputT, OutputT> with(InferenceOptions options) {
    return new RunInference<>(config.withOptions(options));
  }

  public ModelSpec<InputT, OutputT> getModelSpec() {
    return config.spec;
  }

  public InferenceOptions getOptions() {
    return config.options;
  }

  @Override
  public PCollection<InferenceResult<InputT, OutputT>> expand(PCollection<InputT> input) {
    TupleTag<InferenceResult<InputT, OutputT>> main =
        new TupleTag<InferenceResult<InputT, OutputT>>() {};
    return Expansion.apply(input, config, false, main, null).get(main);
  }

  @Override
  public RunInferencePayload describe() {
    return RunInferencePayload.of(config.spec, config.options, config.metricsNamespace, false, false, config.sharedService);
  }

  /** {@link RunInference} over {@code KV<K, InputT>}, keeping each key with its result. */
  public static final class Keyed<K, InputT, OutputT>
      extends PTransform<
          PCollection<KV<K, InputT>>, PCollection<KV<K, InferenceResult<InputT, OutputT>>>>
      implements RunInferencePayload.Describable {
    private static final long serialVersionUID = 1L;
    private final Config<InputT, OutputT> config;

    private Keyed(Config<InputT, OutputT> config) {
      this.config = config;
    }

    public Keyed<K, InputT, OutputT> withOutputCoder(Coder<OutputT> coder) {
      return new Keyed<>(config.withOutputCoder(coder));
    }

    public Keyed<K, InputT, OutputT> withOptions(InferenceOptions options) {
      return new Keyed<>(config.withOptions(options));
    }

    public Keyed<K, InputT, OutputT> withBatchSize(int min, int max) {
      return withOptions(config.options.withBatchSize(min, max));
    }

    public Keyed<K, InputT, OutputT> withMaxBatchingDelay(Duration delay) {
      return withOptions(config.options.withMaxBatchingDelay(delay));
    }

    public Keyed<K, InputT, OutputT> withRetryPolicy(RetryPolicy policy) {
      return withOptions(config.options.withRetryPolicy(policy));
    }

    public Keyed<K, InputT, OutputT> withInstances(int instances) {
      return withOptions(config.options.withInstances(instances));
    }

    public Keyed<K, InputT, OutputT> withModelCopies(int copies) {
      return withOptions(config.options.withModelCopies(copies));
    }

    public Keyed<K, InputT, OutputT> withRequestTimeout(Duration timeout) {
      return withOptions(config.options.withRequestTimeout(timeout));
    }

    public Keyed<K, InputT, OutputT> withOrdering(InferenceOptions.Ordering ordering) {
      return withOptions(config.options.withOrdering(ordering));
    }

    public ModelSpec<InputT, OutputT> getModelSpec() {
      return config.spec;
    }

    public Keyed<K, InputT, OutputT> withMetricsNamespace(String namespace) {
      return new Keyed<>(config.withMetricsNamespace(namespace));
    }

    /** See {@link RunInference#withSharedService}. */
    public Keyed<K, InputT, OutputT> withSharedService(String name) {
      return new Keyed<>(config.withSharedService(name));
    }

    public InferenceOptions getOptions() {
      return config.options;
    }

    /** Adds a failure output; a failure carries the whole {@code KV}. */
    public WithFailureOutput<KV<K, InputT>, KV<K, InferenceResult<InputT, OutputT>>>
        withFailures() {
      return new WithFailureOutput<>(config, true);
    }

    @Override
    public PCollection<KV<K, InferenceResult<InputT, OutputT>>> expand(
        PCollection<KV<K, InputT>> input) {
      TupleTag<KV<K, InferenceResult<InputT, OutputT>>> main =
          new TupleTag<KV<K, InferenceResult<InputT, OutputT>>>() {};
      return Expansion.apply(input, config, true, main, null).get(main);
    }

    @Override
    public RunInferencePayload describe() {
      return RunInferencePayload.of(config.spec, config.options, config.metricsNamespace, true, false, config.sharedService);
    }
  }

  /**
   * RunInference with a failure output, in Beam's {@link WithFailures.Result} form: {@code
   * output()} has the results, {@code failures()} the {@link InferenceFailure}s.
   */
  public static final class WithFailureOutput<ElementT, ResultT>
      extends PTransform<
          PCollection<ElementT>, WithFailures.Result<PCollection<ResultT>, InferenceFailure<ElementT>>>
      implements RunInferencePayload.Describable {
    private static final long serialVersionUID = 1L;
    private final Config<?, ?> config;
    private final boolean keyed;

    private WithFailureOutput(Config<?, ?> config, boolean keyed) {
      this.config = config;
      this.keyed = keyed;
    }

    @Override
    public WithFailures.Result<PCollection<ResultT>, InferenceFailure<ElementT>> expand(
        PCollection<ElementT> input) {
      TupleTag<ResultT> main = new TupleTag<ResultT>() {};
      TupleTag<InferenceFailure<ElementT>> failures = new TupleTag<InferenceFailure<ElementT>>() {};
      PCollectionTuple tuple = Expansion.apply(input, config, keyed, main, failures);
      return WithFailures.Result.of(tuple.get(main), tuple.get(failures));
    }

    @Override
    public RunInferencePayload describe() {
      return RunInferencePayload.of(config.spec, config.options, config.metricsNamespace, keyed, true, config.sharedService);
    }
  }

  /** What every variant holds; immutable. */
  static final class Config<InputT, OutputT> implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    final ModelSpec<InputT, OutputT> spec;
    final InferenceOptions options;
    final @Nullable Coder<OutputT> outputCoder;
    final String metricsNamespace;
    final @Nullable String sharedService;

    private Config(
        ModelSpec<InputT, OutputT> spec,
        InferenceOptions options,
        @Nullable Coder<OutputT> outputCoder,
        String metricsNamespace,
        @Nullable String sharedService) {
      this.spec = spec;
      this.options = options;
      this.outputCoder = outputCoder;
      this.metricsNamespace = metricsNamespace;
      this.sharedService = sharedService;
    }

    static <InputT, OutputT> Config<InputT, OutputT> of(ModelSpec<InputT, OutputT> spec) {
      if (spec == null) {
        throw new IllegalArgumentException("RunInference: the ModelSpec must not be null");
      }
      return new Config<>(spec, InferenceOptions.defaults(), null, InferenceMetrics.DEFAULT_NAMESPACE, null);
    }

    Config<InputT, OutputT> withOptions(InferenceOptions o) {
      return new Config<>(spec, Objects.requireNonNull(o, "options"), outputCoder, metricsNamespace, sharedService);
    }

    Config<InputT, OutputT> withOutputCoder(Coder<OutputT> coder) {
      return new Config<>(spec, options, Objects.requireNonNull(coder, "outputCoder"), metricsNamespace, sharedService);
    }

    Config<InputT, OutputT> withMetricsNamespace(String namespace) {
      if (namespace == null || namespace.trim().isEmpty()) {
        throw new IllegalArgumentException("RunInference: metrics namespace must not be blank");
      }
      return new Config<>(spec, options, outputCoder, namespace, sharedService);
    }

    Config<InputT, OutputT> withSharedService(String name) {
      if (name == null || name.trim().isEmpty()) {
        throw new IllegalArgumentException("RunInference: the name of a shared service must not be blank");
      }
      return new Config<>(spec, options, outputCoder, metricsNamespace, name);
    }
  }

  /** Applies the inline batched ParDo and sets the output coders. */
  private static final class Expansion {
    @SuppressWarnings({"unchecked", "rawtypes"})
    static <ElementT, ResultT> PCollectionTuple apply(
        PCollection<ElementT> input,
        Config<?, ?> config,
        boolean keyed,
        TupleTag<ResultT> main,
        @Nullable TupleTag<InferenceFailure<ElementT>> failures) {
      if (config.outputCoder == null) {
        throw new IllegalStateException(
            "RunInference for model " + config.spec.modelUri() + ": no coder for the model "
                + "output; call withOutputCoder(coder)");
      }
      Coder<ElementT> elementCoder = input.getCoder();
      ElementAdapter adapter;
      Coder resultCoder;
      if (keyed) {
        if (!(elementCoder instanceof KvCoder)) {
          throw new IllegalStateException(
              "RunInference.keyed needs a PCollection of KV with a KvCoder; got coder "
                  + elementCoder);
        }
        KvCoder kv = (KvCoder) elementCoder;
        adapter = ElementAdapter.keyed();
        resultCoder =
            KvCoder.of(
                kv.getKeyCoder(), InferenceResultCoder.of(kv.getValueCoder(), config.outputCoder));
      } else {
        adapter = ElementAdapter.unkeyed();
        resultCoder = InferenceResultCoder.of(elementCoder, config.outputCoder);
      }
      org.apache.beam.sdk.transforms.DoFn<ElementT, ResultT> fn =
          new InferenceDoFn(
              config.spec, config.options, adapter, main, failures, config.metricsNamespace);
      TupleTagList additional = failures == null ? TupleTagList.empty() : TupleTagList.of(failures);
      PCollectionTuple tuple =
          input.apply("BatchedInference", ParDo.of(fn).withOutputTags(main, additional));
      tuple.get(main).setCoder(resultCoder);
      if (failures != null) {
        tuple.get(failures).setCoder(InferenceFailureCoder.of(elementCoder));
      }
      return tuple;
    }
  }
}
