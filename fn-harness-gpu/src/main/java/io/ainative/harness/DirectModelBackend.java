package io.ainative.harness;

import io.ainative.transforms.ModelSpec;
import io.ainative.transforms.runtime.BatchListener;
import io.ainative.transforms.runtime.Outcome;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;

/** Model copies in this JVM ({@link ModelHost}), called directly by the batcher's workers. */
final class DirectModelBackend<InputT, OutputT> implements ModelBackend<InputT, OutputT> {
  private final List<ModelHost<InputT, OutputT>> hosts;

  private DirectModelBackend(List<ModelHost<InputT, OutputT>> hosts) {
    this.hosts = hosts;
  }

  @Override
  public List<DynamicBatcher.BatchHandler<InputT, Outcome<OutputT>>> handlers() {
    List<DynamicBatcher.BatchHandler<InputT, Outcome<OutputT>>> handlers = new ArrayList<>();
    for (ModelHost<InputT, OutputT> host : hosts) {
      handlers.add(host::infer);
    }
    return handlers;
  }

  @Override
  public String device() {
    return hosts.get(0).device().toString();
  }

  @Override
  public long loadMillis() {
    return hosts.get(0).loadMillis();
  }

  @Override
  public long warmupMillis() {
    return hosts.get(0).warmupMillis();
  }

  @Override
  public long parameterBytes() {
    return hosts.get(0).parameterBytes();
  }

  @Override
  public void close() {
    hosts.forEach(ModelHost::close);
  }

  static final class Factory implements ModelBackend.Factory {
    @Override
    public InferenceServer.Execution execution() {
      return InferenceServer.Execution.DIRECT;
    }

    @Override
    public <InputT, OutputT> ModelBackend<InputT, OutputT> start(
        ModelSpec<InputT, OutputT> spec,
        Coder<InputT> inputCoder,
        Coder<OutputT> outputCoder,
        ModelHost.Options options,
        int copies)
        throws Exception {
      DirectModelBackend<InputT, OutputT> backend = new DirectModelBackend<>(new ArrayList<>());
      try {
        for (int i = 0; i < copies; i++) {
          backend.hosts.add(ModelHost.load(spec, options, BatchListener.NONE));
        }
      } catch (Exception e) {
        backend.close();
        throw e;
      }
      return backend;
    }
  }
}
