package io.ainative.harness.fnapi;

import io.ainative.harness.InferenceServer;
import io.ainative.harness.ModelBackend;
import io.ainative.harness.ModelHost;
import io.ainative.transforms.ModelSpec;
import org.apache.beam.sdk.coders.Coder;

/**
 * Starts the model copies of {@link InferenceServer.Execution#FN_API_HARNESS}: {@link
 * FnApiModelHosts} with the batch passed by reference. Registered in {@code
 * META-INF/services/io.ainative.harness.ModelBackend$Factory}.
 */
public final class FnApiModelBackendFactory implements ModelBackend.Factory {
  @Override
  public InferenceServer.Execution execution() {
    return InferenceServer.Execution.FN_API_HARNESS;
  }

  @Override
  public <InputT, OutputT> ModelBackend<InputT, OutputT> start(
      ModelSpec<InputT, OutputT> spec,
      Coder<InputT> inputCoder,
      Coder<OutputT> outputCoder,
      ModelHost.Options options,
      int copies)
      throws Exception {
    return FnApiModelHosts.start(spec, inputCoder, outputCoder, options, copies);
  }
}
