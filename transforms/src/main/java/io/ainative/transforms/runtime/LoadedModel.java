package io.ainative.transforms.runtime;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import io.ainative.transforms.DeviceSpec;
import io.ainative.transforms.ModelLoadException;
import io.ainative.transforms.ModelSpec;
import io.ainative.transforms.RetryPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.beam.sdk.annotations.Internal;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A model loaded from a {@link ModelSpec} onto a resolved device. Thread-safe: any number of
 * threads may each use their own {@link InferenceSession} from {@link #newSession}.
 *
 * <p>Owns the DJL {@link Model} (and with it every native array the model and its sessions
 * allocate) and, for a remote model location, the local copy; {@link #close()} frees both. Close
 * it after every session is closed.
 */
@Internal
public final class LoadedModel<InputT, OutputT> implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LoadedModel.class);

  private final ModelSpec<InputT, OutputT> spec;
  private final Model model;
  private final Device device;
  private final long loadMillis;
  private final long parameterBytes;
  private final @Nullable Path stagedCopy;

  private LoadedModel(
      ModelSpec<InputT, OutputT> spec,
      Model model,
      Device device,
      long loadMillis,
      long parameterBytes,
      @Nullable Path stagedCopy) {
    this.spec = spec;
    this.model = model;
    this.device = device;
    this.loadMillis = loadMillis;
    this.parameterBytes = parameterBytes;
    this.stagedCopy = stagedCopy;
  }

  /**
   * Loads the model on the calling thread (blocking; seconds for large models).
   *
   * @throws ModelLoadException naming the location, engine and device when the engine is not on
   *     the classpath, the device does not exist ({@code gpu} on a machine without one), or the
   *     files cannot be read as a model
   */
  public static <InputT, OutputT> LoadedModel<InputT, OutputT> load(
      ModelSpec<InputT, OutputT> spec) throws ModelLoadException {
    long start = System.nanoTime();
    Engine engine = engine(spec);
    Device device = resolveDevice(spec, engine);
    Path staged = null;
    Path path;
    try {
      if (spec.isLocal()) {
        path = spec.localPath();
      } else {
        staged = ModelStaging.stageLocally(spec.modelUri());
        path = staged;
      }
    } catch (IOException e) {
      throw new ModelLoadException(
          "cannot copy model '" + spec.modelUri() + "' to local disk: " + e.getMessage(), e);
    }
    String name = modelName(spec, path);
    Model model = Model.newInstance(name, device, spec.engine());
    try {
      if (spec.block() != null) {
        model.setBlock(spec.block().get());
      }
      Map<String, Object> options = new HashMap<>(spec.loadOptions());
      model.load(path, name, options);
      long parameterBytes = parameterBytes(model);
      long millis = (System.nanoTime() - start) / 1_000_000;
      LOG.info(
          "Loaded model {} ({} bytes of parameters) on {} in {} ms",
          spec.modelUri(), parameterBytes, device, millis);
      return new LoadedModel<>(spec, model, device, millis, parameterBytes, staged);
    } catch (IOException | MalformedModelException | RuntimeException e) {
      model.close();
      ModelStaging.deleteQuietly(staged);
      throw new ModelLoadException(
          "cannot load model '" + spec.modelUri() + "' (name '" + name + "', engine "
              + spec.engine() + ", device " + device + "): " + e,
          e);
    }
  }

  private static Engine engine(ModelSpec<?, ?> spec) throws ModelLoadException {
    try {
      return Engine.getEngine(spec.engine());
    } catch (RuntimeException e) {
      throw new ModelLoadException(
          "DJL engine '" + spec.engine() + "' for model '" + spec.modelUri()
              + "' is not available: put ai.djl.pytorch:pytorch-engine, pytorch-jni and a "
              + "pytorch-native jar on the classpath (" + e.getMessage() + ")",
          e);
    }
  }

  /** Maps the spec's device to a DJL device that exists on this machine. */
  static Device resolveDevice(ModelSpec<?, ?> spec, Engine engine) throws ModelLoadException {
    DeviceSpec d = spec.device();
    int gpus = engine.getGpuCount();
    switch (d.kind()) {
      case CPU:
        return Device.cpu();
      case AUTO:
        return gpus > 0 ? Device.gpu(0) : Device.cpu();
      default:
        if (gpus == 0) {
          throw new ModelLoadException(
              "model '" + spec.modelUri() + "' asks for device " + d + " but engine "
                  + spec.engine() + " sees no GPU on this machine (CPU-only natives, no CUDA "
                  + "driver, or CUDA_VISIBLE_DEVICES empty); use device 'auto' to fall back to "
                  + "the CPU");
        }
        if (d.gpuIndex() >= gpus) {
          throw new ModelLoadException(
              "model '" + spec.modelUri() + "' asks for device " + d + " but this machine has "
                  + gpus + " GPU(s): gpu:0..gpu:" + (gpus - 1));
        }
        return Device.gpu(d.gpuIndex());
    }
  }

  private static String modelName(ModelSpec<?, ?> spec, Path path) {
    if (spec.modelName() != null) {
      return spec.modelName();
    }
    String file = path.getFileName() == null ? "model" : path.getFileName().toString();
    if (Files.isRegularFile(path) && file.endsWith(".pt")) {
      return file.substring(0, file.length() - 3);
    }
    return file;
  }

  private static long parameterBytes(Model model) {
    long bytes = 0;
    if (model.getBlock() == null) {
      return 0;
    }
    for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
      Parameter parameter = p.getValue();
      if (parameter.isInitialized()) {
        NDArray array = parameter.getArray();
        bytes += array.size() * array.getDataType().getNumOfBytes();
      }
    }
    return bytes;
  }

  /** A session for one thread at a time; close it before the model. */
  public InferenceSession<InputT, OutputT> newSession(
      BatchListener listener, RetryPolicy retryPolicy) {
    return new InferenceSession<>(this, listener, retryPolicy);
  }

  public ModelSpec<InputT, OutputT> spec() {
    return spec;
  }

  /** The DJL model; owned by this object. */
  public Model model() {
    return model;
  }

  /** The device the model was loaded on. */
  public Device device() {
    return device;
  }

  /** Milliseconds from the start of {@link #load} to a usable model (copy, read, place). */
  public long loadMillis() {
    return loadMillis;
  }

  /** Bytes of the model's initialized parameters (element count times element size). */
  public long parameterBytes() {
    return parameterBytes;
  }

  @Override
  public void close() {
    model.close();
    ModelStaging.deleteQuietly(stagedCopy);
  }
}
