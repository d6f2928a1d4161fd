package io.ainative.transforms;

import java.io.IOException;
import java.util.Objects;
import org.apache.beam.model.pipeline.v1.ExternalTransforms.ExternalConfigurationPayload;
import org.apache.beam.model.pipeline.v1.RunnerApi.FunctionSpec;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.SchemaTranslation;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.util.SerializableUtils;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.vendor.grpc.v1p60p1.com.google.protobuf.ByteString;
import org.apache.beam.vendor.grpc.v1p60p1.com.google.protobuf.InvalidProtocolBufferException;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.joda.time.Duration;

/**
 * The portable description of a RunInference transform: URN {@value #URN}.
 *
 * <p><b>Payload.</b> The {@code FunctionSpec.payload} is an {@code ExternalConfigurationPayload}
 * (beam_expansion_api.proto): {@code schema} is the Beam schema below, {@code payload} one row of
 * it in Beam's standard row encoding ({@code beam:coder:row:v1}). Any SDK can read it; fields are
 * read by name, so a reader tolerates fields it does not know.
 *
 * <pre>
 * field                          type     meaning
 * payload_version                INT32    1 for this layout
 * model_uri                      STRING   DJL model directory or TorchScript file, any Beam path
 * model_name                     STRING?  DJL model name (file prefix); null = derived from path
 * engine                         STRING   DJL engine, e.g. "PyTorch"
 * device                         STRING   cpu | gpu:N | auto
 * keyed                          BOOLEAN  input KV&lt;K, InputT&gt;, output KV&lt;K, InferenceResult&gt;
 * with_failures                  BOOLEAN  a second output carries InferenceFailure
 * min_batch_size                 INT32
 * max_batch_size                 INT32
 * max_batching_delay_millis      INT64
 * instances                      INT32    service instances
 * model_copies                   INT32    model copies per instance
 * request_timeout_millis         INT64
 * retry_max_attempts             INT32
 * retry_initial_backoff_millis   INT64
 * retry_max_backoff_millis       INT64
 * ordered                        BOOLEAN  results in input order
 * metrics_namespace              STRING
 * java_model_spec                BYTES?   the Java-serialized ModelSpec (its processing functions,
 *                                         translator factory and block factory); null when the
 *                                         transform comes from another SDK
 * shared_service                 STRING?  the name of the service this transform shares with the
 *                                         others that name it; null = a service of its own. Added
 *                                         after version 1 shipped: a row without it means null
 * </pre>
 *
 * <p>The composite's outputs are tagged by the expansion: the main output first and, with {@code
 * with_failures}, the failure output second; their coders are in the pipeline's components.
 */
public final class RunInferencePayload {
  /** The URN of RunInference in the portable pipeline. */
  public static final String URN = "beam:transform:ainative:run_inference:v1";

  /** The payload layout this class writes. */
  public static final int VERSION = 1;

  /** The schema of the payload row. */
  public static final Schema SCHEMA =
      Schema.builder()
          .addInt32Field("payload_version")
          .addStringField("model_uri")
          .addNullableStringField("model_name")
          .addStringField("engine")
          .addStringField("device")
          .addBooleanField("keyed")
          .addBooleanField("with_failures")
          .addInt32Field("min_batch_size")
          .addInt32Field("max_batch_size")
          .addInt64Field("max_batching_delay_millis")
          .addInt32Field("instances")
          .addInt32Field("model_copies")
          .addInt64Field("request_timeout_millis")
          .addInt32Field("retry_max_attempts")
          .addInt64Field("retry_initial_backoff_millis")
          .addInt64Field("retry_max_backoff_millis")
          .addBooleanField("ordered")
          .addStringField("metrics_namespace")
          .addNullableByteArrayField("java_model_spec")
          .addNullableStringField("shared_service")
          .build();

  /** Implemented by every RunInference transform so the translator can describe it. */
  interface Describable {
    RunInferencePayload describe();
  }

  private final String modelUri;
  private final @Nullable String modelName;
  private final String engine;
  private final DeviceSpec device;
  private final InferenceOptions options;
  private final String metricsNamespace;
  private final boolean keyed;
  private final boolean withFailures;
  private final byte @Nullable [] javaModelSpec;
  private final @Nullable String sharedService;

  private RunInferencePayload(
      String modelUri,
      @Nullable String modelName,
      String engine,
      DeviceSpec device,
      InferenceOptions options,
      String metricsNamespace,
      boolean keyed,
      boolean withFailures,
      byte @Nullable [] javaModelSpec,
      @Nullable String sharedService) {
    this.modelUri = modelUri;
    this.modelName = modelName;
    this.engine = engine;
    this.device = device;
    this.options = options;
    this.metricsNamespace = metricsNamespace;
    this.keyed = keyed;
    this.withFailures = withFailures;
    this.javaModelSpec = javaModelSpec;
    this.sharedService = sharedService;
  }

  static RunInferencePayload of(
      ModelSpec<?, ?> spec,
      InferenceOptions options,
      String metricsNamespace,
      boolean keyed,
      boolean withFailures,
      @Nullable String sharedService) {
    return new RunInferencePayload(
        spec.modelUri(),
        spec.modelName(),
        spec.engine(),
        spec.device(),
        options,
        metricsNamespace,
        keyed,
        withFailures,
        SerializableUtils.serializeToByteArray(spec),
        sharedService);
  }

  /** The payload as a row of {@link #SCHEMA}. */
  public Row toRow() {
    RetryPolicy retry = options.retryPolicy();
    return Row.withSchema(SCHEMA)
        .withFieldValue("payload_version", VERSION)
        .withFieldValue("model_uri", modelUri)
        .withFieldValue("model_name", modelName)
        .withFieldValue("engine", engine)
        .withFieldValue("device", device.toString())
        .withFieldValue("keyed", keyed)
        .withFieldValue("with_failures", withFailures)
        .withFieldValue("min_batch_size", options.minBatchSize())
        .withFieldValue("max_batch_size", options.maxBatchSize())
        .withFieldValue("max_batching_delay_millis", options.maxBatchingDelay().getMillis())
        .withFieldValue("instances", options.instances())
        .withFieldValue("model_copies", options.modelCopies())
        .withFieldValue("request_timeout_millis", options.requestTimeout().getMillis())
        .withFieldValue("retry_max_attempts", retry.maxAttempts())
        .withFieldValue("retry_initial_backoff_millis", retry.initialBackoff().getMillis())
        .withFieldValue("retry_max_backoff_millis", retry.maxBackoff().getMillis())
        .withFieldValue("ordered", options.ordering() == InferenceOptions.Ordering.ORDERED)
        .withFieldValue("metrics_namespace", metricsNamespace)
        .withFieldValue("java_model_spec", javaModelSpec)
        .withFieldValue("shared_service", sharedService)
        .build();
  }

  /** The {@code FunctionSpec} of the transform in the pipeline proto. */
  public FunctionSpec toFunctionSpec() {
    try {
      ExternalConfigurationPayload payload =
          ExternalConfigurationPayload.newBuilder()
              .setSchema(SchemaTranslation.schemaToProto(SCHEMA, true))
              .setPayload(
                  ByteString.copyFrom(CoderUtils.encodeToByteArray(RowCoder.of(SCHEMA), toRow())))
              .build();
      return FunctionSpec.newBuilder().setUrn(URN).setPayload(payload.toByteString()).build();
    } catch (IOException e) {
      throw new IllegalStateException("cannot encode the " + URN + " payload", e);
    }
  }

  /**
   * Reads a payload written by any SDK.
   *
   * @throws IllegalArgumentException naming the URN and the field when the spec is not a
   *     RunInference of a version this reader knows, or a field is missing or impossible
   */
  public static RunInferencePayload fromFunctionSpec(FunctionSpec spec) {
    if (!URN.equals(spec.getUrn())) {
      throw new IllegalArgumentException("expected URN " + URN + ", got '" + spec.getUrn() + "'");
    }
    Row row;
    try {
      ExternalConfigurationPayload payload = ExternalConfigurationPayload.parseFrom(spec.getPayload());
      Schema schema = SchemaTranslation.schemaFromProto(payload.getSchema());
      row = CoderUtils.decodeFromByteArray(RowCoder.of(schema), payload.getPayload().toByteArray());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException(URN + ": payload is not an ExternalConfigurationPayload", e);
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException(URN + ": cannot decode the payload row: " + e, e);
    }
    return fromRow(row);
  }

  /** Reads a payload row (fields by name). */
  public static RunInferencePayload fromRow(Row row) {
    int version = required(row, "payload_version", Integer.class);
    if (version != VERSION) {
      throw new IllegalArgumentException(
          URN + ": payload_version " + version + " is not supported (this reader knows " + VERSION
              + ")");
    }
    InferenceOptions options;
    try {
      options =
          InferenceOptions.defaults()
              .withBatchSize(
                  required(row, "min_batch_size", Integer.class),
                  required(row, "max_batch_size", Integer.class))
              .withMaxBatchingDelay(
                  Duration.millis(required(row, "max_batching_delay_millis", Long.class)))
              .withInstances(required(row, "instances", Integer.class))
              .withModelCopies(required(row, "model_copies", Integer.class))
              .withRequestTimeout(Duration.millis(required(row, "request_timeout_millis", Long.class)))
              .withRetryPolicy(
                  RetryPolicy.exponential(
                      required(row, "retry_max_attempts", Integer.class),
                      Duration.millis(required(row, "retry_initial_backoff_millis", Long.class)),
                      Duration.millis(required(row, "retry_max_backoff_millis", Long.class))))
              .withOrdering(
                  required(row, "ordered", Boolean.class)
                      ? InferenceOptions.Ordering.ORDERED
                      : InferenceOptions.Ordering.UNORDERED);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(URN + ": " + e.getMessage(), e);
    }
    DeviceSpec device;
    try {
      device = DeviceSpec.parse(required(row, "device", String.class));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(URN + ": field device: " + e.getMessage(), e);
    }
    byte[] javaSpec =
        row.getSchema().hasField("java_model_spec") ? row.getBytes("java_model_spec") : null;
    String name = row.getSchema().hasField("model_name") ? row.getString("model_name") : null;
    String shared = row.getSchema().hasField("shared_service") ? row.getString("shared_service") : null;
    if (shared != null && shared.isBlank()) {
      throw new IllegalArgumentException(URN + ": payload field 'shared_service' is blank (use null for a service of its own)");
    }
    return new RunInferencePayload(
        required(row, "model_uri", String.class),
        name,
        required(row, "engine", String.class),
        device,
        options,
        required(row, "metrics_namespace", String.class),
        required(row, "keyed", Boolean.class),
        required(row, "with_failures", Boolean.class),
        javaSpec,
        shared);
  }

  private static <T> T required(Row row, String field, Class<T> type) {
    if (!row.getSchema().hasField(field)) {
      throw new IllegalArgumentException(URN + ": payload has no field '" + field + "'");
    }
    Object value = row.getValue(field);
    if (value == null) {
      throw new IllegalArgumentException(URN + ": payload field '" + field + "' is null");
    }
    if (!type.isInstance(value)) {
      throw new IllegalArgumentException(
          URN + ": payload field '" + field + "' is a " + value.getClass().getSimpleName()
              + ", expected " + type.getSimpleName());
    }
    return type.cast(value);
  }

  public String getModelUri() {
    return modelUri;
  }

  public @Nullable String getModelName() {
    return modelName;
  }

  public String getEngine() {
    return engine;
  }

  public DeviceSpec getDevice() {
    return device;
  }

  public InferenceOptions getOptions() {
    return options;
  }

  public String getMetricsNamespace() {
    return metricsNamespace;
  }

  public boolean isKeyed() {
    return keyed;
  }

  public boolean hasFailureOutput() {
    return withFailures;
  }

  /**
   * The name of the service this transform shares with every other RunInference that names it, or
   * {@code null} when it gets a service of its own (the default).
   */
  public @Nullable String getSharedService() {
    return sharedService;
  }

  /** Whether the payload carries a Java ModelSpec (it came from the Java SDK). */
  public boolean hasJavaModelSpec() {
    return javaModelSpec != null;
  }

  /**
   * The Java ModelSpec, deserialized with this thread's context class loader.
   *
   * @throws IllegalStateException when the payload came from another SDK
   */
  public ModelSpec<?, ?> getJavaModelSpec() {
    if (javaModelSpec == null) {
      throw new IllegalStateException(URN + ": payload carries no Java ModelSpec");
    }
    return (ModelSpec<?, ?>) SerializableUtils.deserializeFromByteArray(javaModelSpec, "ModelSpec");
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof RunInferencePayload)) {
      return false;
    }
    RunInferencePayload that = (RunInferencePayload) o;
    return modelUri.equals(that.modelUri)
        && Objects.equals(modelName, that.modelName)
        && engine.equals(that.engine)
        && device.equals(that.device)
        && options.equals(that.options)
        && metricsNamespace.equals(that.metricsNamespace)
        && keyed == that.keyed
        && withFailures == that.withFailures
        && java.util.Arrays.equals(javaModelSpec, that.javaModelSpec)
        && Objects.equals(sharedService, that.sharedService);
  }

  @Override
  public int hashCode() {
    return Objects.hash(modelUri, modelName, engine, device, options, keyed, withFailures, sharedService);
  }

  @Override
  public String toString() {
    return "RunInferencePayload{" + toRow().toString(false) + "}";
  }
}
