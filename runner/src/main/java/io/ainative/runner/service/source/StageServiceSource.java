package io.ainative.runner.service.source;

import io.ainative.runner.service.discovery.StageSpec;
import java.util.Objects;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * The host of a served stage's instances: a source that never emits, like {@link RpcServiceSource}
 * (whose enumerator, the registry of ready instances, it shares), with readers that run the stage
 * in its SDK environment ({@link StageServiceReader}) instead of a Java model.
 */
@Internal
public final class StageServiceSource implements Source<Void, RpcServiceSource.NoSplit, Integer> {
  private static final long serialVersionUID = 1L;

  private final StageSpec spec;
  private final RpcServiceSource registry;

  public StageServiceSource(StageSpec spec) {
    this.spec = Objects.requireNonNull(spec, "spec");
    this.registry = new RpcServiceSource(spec.service());
  }

  public String coordinatorListeningId() {
    return registry.coordinatorListeningId();
  }

  @Override
  public Boundedness getBoundedness() {
    return Boundedness.CONTINUOUS_UNBOUNDED;
  }

  @Override
  public SplitEnumerator<RpcServiceSource.NoSplit, Integer> createEnumerator(SplitEnumeratorContext<RpcServiceSource.NoSplit> context) {
    return registry.createEnumerator(context);
  }

  @Override
  public SplitEnumerator<RpcServiceSource.NoSplit, Integer> restoreEnumerator(
      SplitEnumeratorContext<RpcServiceSource.NoSplit> context, Integer checkpoint) {
    return registry.restoreEnumerator(context, checkpoint);
  }

  @Override
  public SimpleVersionedSerializer<RpcServiceSource.NoSplit> getSplitSerializer() {
    return registry.getSplitSerializer();
  }

  @Override
  public SimpleVersionedSerializer<Integer> getEnumeratorCheckpointSerializer() {
    return registry.getEnumeratorCheckpointSerializer();
  }

  @Override
  public SourceReader<Void, RpcServiceSource.NoSplit> createReader(SourceReaderContext readerContext) {
    return new StageServiceReader(spec, readerContext);
  }
}
