package io.ainative.harness;

import io.ainative.transforms.InferenceOptions;
import io.ainative.transforms.ModelSpec;
import io.ainative.transforms.runtime.Outcome;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import org.apache.beam.sdk.coders.Coder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** An {@link InferenceServer}'s model copies once loaded, and the one batcher in front of them. */
final class LoadedModels<InputT, OutputT> {
  private static final Logger LOG = LoggerFactory.getLogger(LoadedModels.class);

  final ModelBackend<InputT, OutputT> backend;
  final DynamicBatcher<InputT, Outcome<OutputT>> batcher;

  private LoadedModels(ModelBackend<InputT, OutputT> backend, DynamicBatcher<InputT, Outcome<OutputT>> batcher) {
    this.backend = backend;
    this.batcher = batcher;
  }

  /**
   * Starts the copies where {@code config} runs them and builds the batcher; blocks. A failure is
   * thrown as a {@link CompletionException} around its cause.
   */
  static <InputT, OutputT> LoadedModels<InputT, OutputT> load(
      ModelSpec<InputT, OutputT> spec,
      Coder<InputT> inputCoder,
      Coder<OutputT> outputCoder,
      InferenceServer.Config config) {
    InferenceOptions options = config.options;
    ModelHost.Options hostOptions = config.hostOptions.withCopiesPerJvm(options.modelCopies());
    ModelBackend<InputT, OutputT> backend;
    try {
      backend =
          ModelBackends.factory(config.execution)
              .start(spec, inputCoder, outputCoder, hostOptions, options.modelCopies());
    } catch (Exception e) {
      throw new CompletionException(e);
    }
    DynamicBatcher<InputT, Outcome<OutputT>> batcher =
        DynamicBatcher.<InputT, Outcome<OutputT>>builder()
            .setHandlers(backend.handlers())
            .optName(spec.modelName() == null ? "model" : spec.modelName())
            .optMaxBatchSize(options.maxBatchSize())
            .optPreferredBatchSizes(config.preferredBatchSizes)
            .optMaxDelay(Duration.ofMillis(options.maxBatchingDelay().getMillis()))
            .optQueueCapacity(config.queueCapacity)
            .build();
    return new LoadedModels<>(backend, batcher);
  }

  /** Frees every model copy (and the SDK harness, on the Fn API path); logs a failure. */
  void closeModels(ModelSpec<?, ?> spec) {
    try {
      backend.close();
    } catch (Exception e) {
      LOG.warn("Freeing the model copies of {} failed", spec.modelUri(), e);
    }
  }
}
