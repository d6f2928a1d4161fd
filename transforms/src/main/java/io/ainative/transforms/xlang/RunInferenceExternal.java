package io.ainative.transforms.xlang;

import io.ainative.transforms.InferenceFailure;
import io.ainative.transforms.InferenceOptions;
import io.ainative.transforms.InferenceResult;
import io.ainative.transforms.ModelSpec;
import io.ainative.transforms.RunInference;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.beam.sdk.coders.ByteArrayCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.expansion.ExternalTransformRegistrar;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.SchemaCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ExternalTransformBuilder;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.joda.time.Duration;

/**
 * RunInference for pipelines in other languages, through Beam's expansion service: the URN
 * {@value #URN} with a schema'd configuration (see {@link Configuration}) expands to the same
 * {@link RunInference} a Java pipeline applies ({@code beam:transform:ainative:run_inference:v1},
 * served by the ainative runner from inference services), followed by a map from its Java-only
 * result types to {@link Row}s that every SDK reads.
 *
 * <p>Input: {@code bytes} (the encoded image, or the raw tensor), or {@code KV<key, bytes>} (any
 * key coder the calling SDK and Java share), whose key is carried to its result. Outputs: {@code
 * output}, one {@link Row} (or {@code KV<key, Row>}) per input, of the processor's schema; with
 * {@code with_failures}, also {@code failures}: {@code Row(step, error, input)} (or {@code KV<key,
 * Row>}) for each element that failed, which then does not fail the pipeline.
 *
 * <p>Registered with the expansion service through {@link ExternalTransformRegistrar} ({@code
 * META-INF/services}). The runner-native URN itself is not offered for expansion: its payload
 * carries a Java-serialized model spec, which no other SDK can write.
 */
public final class RunInferenceExternal implements ExternalTransformRegistrar {

  /** The URN a Python (or any SDK's) pipeline asks the expansion service for. */
  public static final String URN = "beam:external:ainative:run_inference:v1";

  /** The tag of the results in the expansion's outputs. */
  public static final String OUTPUT_TAG = "output";

  /** The tag of the failures in the expansion's outputs (only with {@code with_failures}). */
  public static final String FAILURES_TAG = "failures";

  /** The schema of a failure row: the step that failed, the error and the input bytes. */
  public static final Schema FAILURE_SCHEMA =
      Schema.builder()
          .addStringField("step")
          .addStringField("error")
          .addByteArrayField("input")
          .build();

  @Override
  public Map<String, ExternalTransformBuilder<?, ?, ?>> knownBuilderInstances() {
    return Map.of(URN, new Builder());
  }

  /**
   * The configuration a pipeline sends, field by field as the payload row names them (snake case;
   * the expansion service calls the camel-case setter). Only {@code model_uri} and {@code
   * processor} are required; a field that is absent or null keeps its default.
   *
   * <pre>
   * model_uri                string   DJL model directory or TorchScript file, as the runner sees it
   * model_name               string?  DJL model name (file prefix); default: derived from the path
   * architecture             string?  a registered {@link ModelArchitecture}, for DJL .params models
   * device                   string?  cpu (default) | gpu | gpu:N | auto
   * processor                string   image_classifier | float32_tensor
   * image_height/_width      int64?   image_classifier: resize to this size (both or neither)
   * image_channels           int64?   image_classifier: 1 (grey) or 3 (RGB, default)
   * softmax                  bool?    image_classifier: model outputs logits (default true)
   * tensor_shape             [int64]? float32_tensor: shape of one input (required there)
   * min_batch_size           int64?   default 1
   * max_batch_size           int64?   default as RunInference's
   * max_batching_delay_ms    int64?
   * instances                int64?   inference service instances
   * timeout_ms               int64?   per request
   * ordered                  bool?    results in input order (default false)
   * with_failures            bool?    add the failures output (default false)
   * </pre>
   */
  public static final class Configuration {
    @Nullable String modelUri;
    @Nullable String modelName;
    @Nullable String architecture;
    @Nullable String device;
    @Nullable String processor;
    @Nullable Long imageHeight;
    @Nullable Long imageWidth;
    @Nullable Long imageChannels;
    @Nullable Boolean softmax;
    @Nullable List<Long> tensorShape;
    @Nullable Long minBatchSize;
    @Nullable Long maxBatchSize;
    @Nullable Long maxBatchingDelayMs;
    @Nullable Long instances;
    @Nullable Long timeoutMs;
    @Nullable Boolean ordered;
    @Nullable Boolean withFailures;

    public void setModelUri(@Nullable String v) {
      modelUri = v;
    }

    public void setModelName(@Nullable String v) {
      modelName = v;
    }

    public void setArchitecture(@Nullable String v) {
      architecture = v;
    }

    public void setDevice(@Nullable String v) {
      device = v;
    }

    public void setProcessor(@Nullable String v) {
      processor = v;
    }

    public void setImageHeight(@Nullable Long v) {
      imageHeight = v;
    }

    public void setImageWidth(@Nullable Long v) {
      imageWidth = v;
    }

    public void setImageChannels(@Nullable Long v) {
      imageChannels = v;
    }

    public void setSoftmax(@Nullable Boolean v) {
      softmax = v;
    }

    public void setTensorShape(@Nullable List<Long> v) {
      tensorShape = v;
    }

    public void setMinBatchSize(@Nullable Long v) {
      minBatchSize = v;
    }

    public void setMaxBatchSize(@Nullable Long v) {
      maxBatchSize = v;
    }

    public void setMaxBatchingDelayMs(@Nullable Long v) {
      maxBatchingDelayMs = v;
    }

    public void setInstances(@Nullable Long v) {
      instances = v;
    }

    public void setTimeoutMs(@Nullable Long v) {
      timeoutMs = v;
    }

    public void setOrdered(@Nullable Boolean v) {
      ordered = v;
    }

    public void setWithFailures(@Nullable Boolean v) {
      withFailures = v;
    }

    static int intIn(String field, long value, long min, long max) {
      if (value < min || value > max) {
        throw new IllegalArgumentException(field + ": must be in [" + min + ", " + max + "], was " + value);
      }
      return (int) value;
    }

    /** The options these fields give, each checked with the field's name in the message. */
    InferenceOptions options() {
      InferenceOptions options = InferenceOptions.defaults();
      int min = minBatchSize == null ? options.minBatchSize() : intIn("min_batch_size", minBatchSize, 1, 1 << 20);
      int max = maxBatchSize == null ? Math.max(min, options.maxBatchSize()) : intIn("max_batch_size", maxBatchSize, 1, 1 << 20);
      if (min > max) {
        throw new IllegalArgumentException(
            "min_batch_size: must be <= max_batch_size, was " + min + " > " + max);
      }
      options = options.withBatchSize(min, max);
      if (maxBatchingDelayMs != null) {
        intIn("max_batching_delay_ms", maxBatchingDelayMs, 0, 3_600_000);
        options = options.withMaxBatchingDelay(Duration.millis(maxBatchingDelayMs));
      }
      if (instances != null) {
        options = options.withInstances(intIn("instances", instances, 1, 1024));
      }
      if (timeoutMs != null) {
        intIn("timeout_ms", timeoutMs, 1, 86_400_000);
        options = options.withRequestTimeout(Duration.millis(timeoutMs));
      }
      if (ordered != null) {
        options = options.withOrdering(ordered ? InferenceOptions.Ordering.ORDERED : InferenceOptions.Ordering.UNORDERED);
      }
      return options;
    }

    /** The model spec these fields give; checks that the model is where {@code model_uri} says. */
    ModelSpec<byte[], Row> modelSpec(NamedProcessor processor) {
      if (modelUri == null || modelUri.trim().isEmpty()) {
        throw new IllegalArgumentException("model_uri: required (a DJL model directory or a TorchScript .pt file)");
      }
      ModelSpec.Builder<byte[], Row> spec = ModelSpec.<byte[], Row>builder().setModelUri(modelUri);
      if (modelName != null) {
        spec.optModelName(modelName);
      }
      if (architecture != null) {
        spec.optBlock(ModelArchitecture.named(architecture));
      }
      try {
        if (device != null) {
          spec.optDevice(device);
        }
        return processor.configure(spec).build();
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(fieldOf(e.getMessage()) + e.getMessage(), e);
      }
    }

    /** ModelSpec's messages name its Java builder methods; say which configuration field it is. */
    private static String fieldOf(String message) {
      if (message == null) {
        return "";
      }
      if (message.contains("optBlock")) {
        return "architecture: ";
      }
      if (message.contains("model path") || message.contains("setModelUri") || message.contains("model directory")) {
        return "model_uri: ";
      }
      if (message.contains("device")) {
        return "device: ";
      }
      if (message.contains("optModelName")) {
        return "model_name: ";
      }
      return "";
    }
  }

  /** Builds the transform from a configuration; every field is checked here, at expansion. */
  public static final class Builder
      implements ExternalTransformBuilder<Configuration, PCollection<?>, PCollectionTuple> {
    @Override
    public PTransform<PCollection<?>, PCollectionTuple> buildExternal(Configuration config) {
      try {
        NamedProcessor processor = NamedProcessor.of(config);
        InferenceOptions options = config.options();
        ModelSpec<byte[], Row> spec = config.modelSpec(processor);
        return new CrossLanguageRunInference(spec, options, processor.outputSchema(), Boolean.TRUE.equals(config.withFailures));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("ainative RunInference (" + URN + "): " + e.getMessage(), e);
      }
    }

    /** Nothing to stage: the runner that serves RunInference has these classes. */
    @Override
    public Optional<List<String>> getDependencies(Configuration configuration, PipelineOptions options) {
      return Optional.of(List.of());
    }
  }

  /** RunInference, then its results (and failures) as rows. */
  static final class CrossLanguageRunInference extends PTransform<PCollection<?>, PCollectionTuple> {
    private static final long serialVersionUID = 1L;
    private final ModelSpec<byte[], Row> spec;
    private final InferenceOptions options;
    private final Schema outputSchema;
    private final boolean withFailures;

    CrossLanguageRunInference(ModelSpec<byte[], Row> spec, InferenceOptions options, Schema outputSchema, boolean withFailures) {
      this.spec = spec;
      this.options = options;
      this.outputSchema = outputSchema;
      this.withFailures = withFailures;
    }

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public PCollectionTuple expand(PCollection<?> input) {
      Coder<?> coder = input.getCoder();
      RowCoder rowCoder = RowCoder.of(outputSchema);
      if (coder instanceof ByteArrayCoder) {
        return unkeyed((PCollection<byte[]>) input, rowCoder);
      }
      if (coder instanceof KvCoder && ((KvCoder<?, ?>) coder).getValueCoder() instanceof ByteArrayCoder) {
        return keyed((PCollection) input, ((KvCoder<?, ?>) coder).getKeyCoder(), rowCoder);
      }
      throw new IllegalArgumentException(
          "ainative RunInference (" + URN + "): input elements must be bytes, or (key, bytes) pairs; the input's coder is "
              + coder);
    }

    private PCollectionTuple unkeyed(PCollection<byte[]> input, RowCoder rowCoder) {
      RunInference<byte[], Row> inference = RunInference.of(spec).withOutputCoder(rowCoder).withOptions(options);
      if (!withFailures) {
        PCollection<Row> rows =
            input.apply("RunInference", inference).apply("ToRows", ParDo.of(new OutputOf<byte[]>())).setCoder(rowCoder);
        return PCollectionTuple.of(new TupleTag<>(OUTPUT_TAG), rows);
      }
      WithFailures.Result<PCollection<InferenceResult<byte[], Row>>, InferenceFailure<byte[]>> result =
          input.apply("RunInference", inference.withFailures());
      PCollection<Row> rows = result.output().apply("ToRows", ParDo.of(new OutputOf<byte[]>())).setCoder(rowCoder);
      PCollection<Row> failures =
          result.failures().apply("FailuresToRows", ParDo.of(new FailureOf())).setCoder(RowCoder.of(FAILURE_SCHEMA));
      return PCollectionTuple.of(new TupleTag<>(OUTPUT_TAG), rows).and(new TupleTag<>(FAILURES_TAG), failures);
    }

    private <K> PCollectionTuple keyed(PCollection<KV<K, byte[]>> input, Coder<K> keyCoder, RowCoder rowCoder) {
      RunInference.Keyed<K, byte[], Row> inference =
          RunInference.<K, byte[], Row>keyed(spec).withOutputCoder(rowCoder).withOptions(options);
      KvCoder<K, Row> outCoder = KvCoder.of(keyCoder, rowCoder);
      if (!withFailures) {
        PCollection<KV<K, Row>> rows =
            input.apply("RunInference", inference).apply("ToRows", ParDo.of(new KeyedOutputOf<K>())).setCoder(outCoder);
        return PCollectionTuple.of(new TupleTag<>(OUTPUT_TAG), rows);
      }
      WithFailures.Result<PCollection<KV<K, InferenceResult<byte[], Row>>>, InferenceFailure<KV<K, byte[]>>> result =
          input.apply("RunInference", inference.withFailures());
      PCollection<KV<K, Row>> rows = result.output().apply("ToRows", ParDo.of(new KeyedOutputOf<K>())).setCoder(outCoder);
      PCollection<KV<K, Row>> failures =
          result.failures()
              .apply("FailuresToRows", ParDo.of(new KeyedFailureOf<K>()))
              .setCoder(KvCoder.of(keyCoder, RowCoder.of(FAILURE_SCHEMA)));
      return PCollectionTuple.of(new TupleTag<>(OUTPUT_TAG), rows).and(new TupleTag<>(FAILURES_TAG), failures);
    }
  }

  static Row failureRow(InferenceFailure<?> failure, byte[] input) {
    String error = failure.getErrorClass() + ": " + failure.getErrorMessage();
    return Row.withSchema(FAILURE_SCHEMA).addValues(failure.getStep().label(), error, input).build();
  }

  static final class OutputOf<InputT> extends DoFn<InferenceResult<InputT, Row>, Row> {
    @ProcessElement
    public void process(@Element InferenceResult<InputT, Row> result, OutputReceiver<Row> out) {
      out.output(result.getOutput());
    }
  }

  static final class KeyedOutputOf<K> extends DoFn<KV<K, InferenceResult<byte[], Row>>, KV<K, Row>> {
    @ProcessElement
    public void process(@Element KV<K, InferenceResult<byte[], Row>> result, OutputReceiver<KV<K, Row>> out) {
      out.output(KV.of(result.getKey(), result.getValue().getOutput()));
    }
  }

  static final class FailureOf extends DoFn<InferenceFailure<byte[]>, Row> {
    @ProcessElement
    public void process(@Element InferenceFailure<byte[]> failure, OutputReceiver<Row> out) {
      out.output(failureRow(failure, failure.getElement()));
    }
  }

  static final class KeyedFailureOf<K> extends DoFn<InferenceFailure<KV<K, byte[]>>, KV<K, Row>> {
    @ProcessElement
    public void process(@Element InferenceFailure<KV<K, byte[]>> failure, OutputReceiver<KV<K, Row>> out) {
      KV<K, byte[]> element = failure.getElement();
      out.output(KV.of(element.getKey(), failureRow(failure, element.getValue())));
    }
  }
}
