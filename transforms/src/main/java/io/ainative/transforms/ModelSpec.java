package io.ainative.transforms;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.translate.Translator;
import java.io.IOException;
import java.io.Serializable;
import java.net.URI;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.util.SerializableSupplier;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Which model RunInference runs, on which engine and device, and how an input becomes tensors and
 * tensors become an output. Immutable and {@link Serializable}: it travels with the pipeline.
 *
 * <p>Built with {@link #builder()}: {@code set*} are required, {@code opt*} optional, and {@link
 * Builder#build()} checks the whole spec, naming the field that is wrong:
 *
 * <pre>{@code
 * ModelSpec<float[], Integer> spec =
 *     ModelSpec.<float[], Integer>builder()
 *         .setModelUri("/models/shapes")                 // DJL model dir, or a TorchScript .pt file
 *         .setProcessing(
 *             (manager, pixels) -> new NDList(manager.create(pixels, new Shape(1, 32, 32))),
 *             output -> (int) output.singletonOrThrow().argMax().getLong())
 *         .optBlock(ShapesNet::newBlock)                 // only for DJL .params (no TorchScript)
 *         .optDevice("auto")
 *         .build();
 * }</pre>
 *
 * <p>Pre- and post-processing are given as two serializable functions of one element ({@code
 * setProcessing}; RunInference stacks the elements along a new first dimension, so a function must
 * not add the batch dimension), as two functions of a whole batch ({@code setBatchProcessing};
 * cheaper for small models, where per-element tensors cost more than they need to), or as a
 * factory of a DJL {@link Translator} ({@code setTranslator}). When the
 * multimodal types ({@code io.ainative.coders} Tensor, Image, Audio, Embedding) are the input or
 * output, these functions are where they are converted to and from {@link NDList}.
 */
public final class ModelSpec<InputT, OutputT> implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The engine used when none is given. */
  public static final String DEFAULT_ENGINE = "PyTorch";

  /**
   * Engines RunInference can load. Only PyTorch is built and tested here; adding an engine means
   * adding its DJL engine jar and a test.
   */
  public static final java.util.Set<String> SUPPORTED_ENGINES = Collections.singleton("PyTorch");

  /** Turns one input into the tensors the model takes for it (without a batch dimension). */
  @FunctionalInterface
  public interface PreProcessFn<InputT> extends Serializable {
    /**
     * @param manager owns the arrays created here; they are closed after the batch is done
     */
    NDList apply(NDManager manager, InputT input) throws Exception;
  }

  /** Turns the model's output tensors for one input into the result. */
  @FunctionalInterface
  public interface PostProcessFn<OutputT> extends Serializable {
    /** @param output valid only during the call: copy out what the result needs */
    OutputT apply(NDList output) throws Exception;
  }

  /**
   * Turns a whole batch of inputs into the model's batched tensors (batch dimension first), in one
   * go: cheaper than {@link PreProcessFn} when per-element tensors would be stacked anyway.
   */
  @FunctionalInterface
  public interface BatchPreProcessFn<InputT> extends Serializable {
    /** @param manager owns the arrays created here; they are closed after the batch is done */
    NDList apply(NDManager manager, java.util.List<InputT> inputs) throws Exception;
  }

  /** Turns the model's batched output tensors into one result per input, in order. */
  @FunctionalInterface
  public interface BatchPostProcessFn<OutputT> extends Serializable {
    /** @param output valid only during the call */
    java.util.List<OutputT> apply(NDList output) throws Exception;
  }

  private final String id;
  private final String modelUri;
  private final @Nullable String modelName;
  private final String engine;
  private final DeviceSpec device;
  private final @Nullable SerializableSupplier<Block> block;
  private final @Nullable PreProcessFn<InputT> preProcess;
  private final @Nullable PostProcessFn<OutputT> postProcess;
  private final @Nullable SerializableSupplier<Translator<InputT, OutputT>> translator;
  private final @Nullable BatchPreProcessFn<InputT> batchPreProcess;
  private final @Nullable BatchPostProcessFn<OutputT> batchPostProcess;
  private final @Nullable SerializableSupplier<InputT> warmupInput;
  private final TreeMap<String, String> loadOptions;

  private ModelSpec(Builder<InputT, OutputT> b) {
    this.id = UUID.randomUUID().toString();
    this.modelUri = b.modelUri;
    this.modelName = b.modelName;
    this.engine = b.engine;
    this.device = b.device;
    this.block = b.block;
    this.preProcess = b.preProcess;
    this.postProcess = b.postProcess;
    this.translator = b.translator;
    this.batchPreProcess = b.batchPreProcess;
    this.batchPostProcess = b.batchPostProcess;
    this.warmupInput = b.warmupInput;
    this.loadOptions = new TreeMap<>(b.loadOptions);
  }

  public static <InputT, OutputT> Builder<InputT, OutputT> builder() {
    return new Builder<>();
  }

  /**
   * Identifies this spec and every deserialized copy of it, so that copies in one JVM share one
   * loaded model. A new spec built from the same values gets a new id.
   */
  public String id() {
    return id;
  }

  /** The model's location: a local path, a {@code file:} URI, or any Beam FileSystems path. */
  public String modelUri() {
    return modelUri;
  }

  /**
   * The model's name: the file prefix DJL looks for in a model directory. When not given, the
   * directory's name (or the TorchScript file's name without {@code .pt}) is used.
   */
  public @Nullable String modelName() {
    return modelName;
  }

  /** The DJL engine name, e.g. {@code PyTorch}. */
  public String engine() {
    return engine;
  }

  public DeviceSpec device() {
    return device;
  }

  /** The architecture for DJL {@code .params} models; null for TorchScript. */
  public @Nullable SerializableSupplier<Block> block() {
    return block;
  }

  public @Nullable PreProcessFn<InputT> preProcess() {
    return preProcess;
  }

  public @Nullable PostProcessFn<OutputT> postProcess() {
    return postProcess;
  }

  /** The translator factory; null when processing is given as functions. */
  public @Nullable SerializableSupplier<Translator<InputT, OutputT>> translator() {
    return translator;
  }

  /** Batch pre-processing; null unless processing was given with {@code setBatchProcessing}. */
  public @Nullable BatchPreProcessFn<InputT> batchPreProcess() {
    return batchPreProcess;
  }

  /** Batch post-processing; null unless processing was given with {@code setBatchProcessing}. */
  public @Nullable BatchPostProcessFn<OutputT> batchPostProcess() {
    return batchPostProcess;
  }

  /** An input the model host runs once before it takes requests; null for none. */
  public @Nullable SerializableSupplier<InputT> warmupInput() {
    return warmupInput;
  }

  /** Options handed to DJL's {@code Model.load} (e.g. {@code mapLocation=true}). */
  public Map<String, String> loadOptions() {
    return Collections.unmodifiableMap(loadOptions);
  }

  /** Whether {@link #modelUri()} names a file on this machine's file system. */
  public boolean isLocal() {
    return isLocalUri(modelUri);
  }

  /** The local path of {@link #modelUri()}; only for {@link #isLocal()} specs. */
  public Path localPath() {
    return toLocalPath(modelUri);
  }

  @Override
  public String toString() {
    return "ModelSpec{uri=" + modelUri + ", name=" + modelName + ", engine=" + engine
        + ", device=" + device + ", processing="
        + (translator != null ? "translator" : batchPreProcess != null ? "batch functions" : "functions")
        + "}";
  }

  static boolean isLocalUri(String uri) {
    int colon = uri.indexOf(':');
    int slash = uri.indexOf('/');
    boolean hasScheme = colon > 1 && (slash < 0 || colon < slash);
    return !hasScheme || uri.toLowerCase(Locale.ROOT).startsWith("file:");
  }

  static Path toLocalPath(String uri) {
    if (uri.toLowerCase(Locale.ROOT).startsWith("file:")) {
      return Paths.get(URI.create(uri));
    }
    return Paths.get(uri);
  }

  /** Builds a {@link ModelSpec}; see the class javadoc for an example. */
  public static final class Builder<InputT, OutputT> {
    private String modelUri;
    private String modelName;
    private String engine = DEFAULT_ENGINE;
    private DeviceSpec device = DeviceSpec.cpu();
    private SerializableSupplier<Block> block;
    private PreProcessFn<InputT> preProcess;
    private PostProcessFn<OutputT> postProcess;
    private SerializableSupplier<Translator<InputT, OutputT>> translator;
    private BatchPreProcessFn<InputT> batchPreProcess;
    private BatchPostProcessFn<OutputT> batchPostProcess;
    private SerializableSupplier<InputT> warmupInput;
    private boolean validateModelPath = true;
    private final Map<String, String> loadOptions = new TreeMap<>();

    private Builder() {}

    /** Required: where the model is. See {@link ModelSpec#modelUri()}. */
    public Builder<InputT, OutputT> setModelUri(String uri) {
      this.modelUri = uri;
      return this;
    }

    /** Required (or {@link #setTranslator}): pre- and post-processing as functions. */
    public Builder<InputT, OutputT> setProcessing(
        PreProcessFn<InputT> preProcess, PostProcessFn<OutputT> postProcess) {
      this.preProcess = preProcess;
      this.postProcess = postProcess;
      return this;
    }

    /**
     * Required (or {@link #setProcessing}): a factory of the DJL translator. A factory rather
     * than a translator, because translators are not serializable and may hold state: each model
     * session gets its own.
     */
    public Builder<InputT, OutputT> setTranslator(
        SerializableSupplier<Translator<InputT, OutputT>> translatorFactory) {
      this.translator = translatorFactory;
      return this;
    }

    /**
     * Required (or {@link #setProcessing} or {@link #setTranslator}): pre- and post-processing of
     * whole batches. A failing batch is split to find the element that fails, as for the model
     * call, so the functions must treat every input on its own.
     */
    public Builder<InputT, OutputT> setBatchProcessing(
        BatchPreProcessFn<InputT> preProcess, BatchPostProcessFn<OutputT> postProcess) {
      this.batchPreProcess = preProcess;
      this.batchPostProcess = postProcess;
      return this;
    }

    public Builder<InputT, OutputT> optModelName(String name) {
      this.modelName = name;
      return this;
    }

    /** The DJL engine; {@code PyTorch} when not given. */
    public Builder<InputT, OutputT> optEngine(String engineName) {
      this.engine = engineName;
      return this;
    }

    /** {@code cpu} (default), {@code gpu}, {@code gpu:N} or {@code auto}. */
    public Builder<InputT, OutputT> optDevice(String deviceText) {
      this.device = DeviceSpec.parse(deviceText);
      return this;
    }

    public Builder<InputT, OutputT> optDevice(DeviceSpec deviceSpec) {
      this.device = Objects.requireNonNull(deviceSpec, "device");
      return this;
    }

    /** The network architecture, for a model saved by DJL as {@code .params}. */
    public Builder<InputT, OutputT> optBlock(SerializableSupplier<Block> blockFactory) {
      this.block = blockFactory;
      return this;
    }

    /** An input for the warm-up batch that a model host runs before it reports ready. */
    public Builder<InputT, OutputT> optWarmupInput(SerializableSupplier<InputT> input) {
      this.warmupInput = input;
      return this;
    }

    /** An option for DJL's {@code Model.load}. */
    public Builder<InputT, OutputT> optLoadOption(String key, String value) {
      this.loadOptions.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /**
     * Whether {@link #build()} checks that the model exists (default true). Turn it off when the
     * machine that builds the pipeline cannot see the model's location.
     */
    public Builder<InputT, OutputT> optValidateModelPath(boolean validate) {
      this.validateModelPath = validate;
      return this;
    }

    /**
     * Checks the spec and builds it.
     *
     * @throws IllegalArgumentException naming the field: a missing model path or processing, an
     *     unknown engine, both or neither of processing functions and translator, or (unless
     *     validation is off) a model path that does not exist or holds no loadable model
     */
    public ModelSpec<InputT, OutputT> build() {
      if (modelUri == null || modelUri.trim().isEmpty()) {
        throw new IllegalArgumentException(
            "ModelSpec: setModelUri is required (a DJL model directory or a TorchScript .pt "
                + "file, local or any Beam FileSystems path)");
      }
      modelUri = modelUri.trim();
      engine = canonicalEngine(engine);
      boolean functions = preProcess != null || postProcess != null;
      boolean batchFunctions = batchPreProcess != null || batchPostProcess != null;
      int ways = (functions ? 1 : 0) + (batchFunctions ? 1 : 0) + (translator != null ? 1 : 0);
      if (ways > 1) {
        throw new IllegalArgumentException(
            "ModelSpec: give one of setProcessing(pre, post), setBatchProcessing(pre, post) or "
                + "setTranslator(factory), not both");
      }
      if (ways == 0) {
        throw new IllegalArgumentException(
            "ModelSpec: processing is required: setProcessing(pre, post), "
                + "setBatchProcessing(pre, post) or setTranslator(factory)");
      }
      if (functions && (preProcess == null || postProcess == null)) {
        throw new IllegalArgumentException(
            "ModelSpec: setProcessing needs both a pre-processing and a post-processing "
                + "function; " + (preProcess == null ? "pre" : "post") + "-processing is null");
      }
      if (batchFunctions && (batchPreProcess == null || batchPostProcess == null)) {
        throw new IllegalArgumentException(
            "ModelSpec: setBatchProcessing needs both functions; "
                + (batchPreProcess == null ? "pre" : "post") + "-processing is null");
      }
      if (modelName != null && modelName.trim().isEmpty()) {
        throw new IllegalArgumentException("ModelSpec: optModelName must not be blank");
      }
      if (validateModelPath) {
        validatePath();
      }
      return new ModelSpec<>(this);
    }

    private static String canonicalEngine(String name) {
      if (name != null) {
        for (String supported : SUPPORTED_ENGINES) {
          if (supported.equalsIgnoreCase(name.trim())) {
            return supported;
          }
        }
      }
      throw new IllegalArgumentException(
          "ModelSpec: unknown engine '" + name + "'; supported engines: " + SUPPORTED_ENGINES);
    }

    private void validatePath() {
      if (isLocalUri(modelUri)) {
        validateLocal(toLocalPath(modelUri));
      } else {
        validateRemote();
      }
    }

    private void validateLocal(Path path) {
      if (!Files.exists(path)) {
        throw new IllegalArgumentException(
            "ModelSpec: model path '" + modelUri + "' does not exist");
      }
      if (Files.isRegularFile(path)) {
        if (block != null) {
          throw new IllegalArgumentException(
              "ModelSpec: model path '" + modelUri + "' is a file, but optBlock is set: a DJL "
                  + ".params model is loaded from its directory; give the directory");
        }
        return;
      }
      boolean hasTorchScript = false;
      boolean hasParams = false;
      try (DirectoryStream<Path> files = Files.newDirectoryStream(path)) {
        for (Path f : files) {
          String n = f.getFileName().toString();
          hasTorchScript |= n.endsWith(".pt");
          hasParams |= n.endsWith(".params");
        }
      } catch (IOException e) {
        throw new IllegalArgumentException(
            "ModelSpec: cannot list model directory '" + modelUri + "': " + e.getMessage(), e);
      }
      if (block != null && !hasParams) {
        throw new IllegalArgumentException(
            "ModelSpec: optBlock is set but model directory '" + modelUri
                + "' holds no DJL parameters file (*.params)");
      }
      if (block == null && !hasTorchScript) {
        throw new IllegalArgumentException(
            "ModelSpec: model directory '" + modelUri + "' holds no TorchScript file (*.pt)"
                + (hasParams
                    ? "; it holds DJL parameters (*.params): give the architecture with optBlock"
                    : ""));
      }
    }

    private void validateRemote() {
      try {
        MatchResult file = FileSystems.match(modelUri, EmptyMatchTreatment.ALLOW);
        if (file.status() == MatchResult.Status.OK && !file.metadata().isEmpty()) {
          return;
        }
        String dir = modelUri.endsWith("/") ? modelUri : modelUri + "/";
        MatchResult children = FileSystems.match(dir + "*", EmptyMatchTreatment.ALLOW);
        if (children.status() == MatchResult.Status.OK && !children.metadata().isEmpty()) {
          return;
        }
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "ModelSpec: model path '" + modelUri + "' uses a scheme no Beam FileSystem on the "
                + "classpath serves (add its IO extension, or optValidateModelPath(false) if "
                + "only the workers can read it): " + e.getMessage(),
            e);
      } catch (IOException e) {
        throw new IllegalArgumentException(
            "ModelSpec: cannot check model path '" + modelUri + "': " + e.getMessage(), e);
      }
      throw new IllegalArgumentException("ModelSpec: model path '" + modelUri + "' does not exist");
    }
  }
}
