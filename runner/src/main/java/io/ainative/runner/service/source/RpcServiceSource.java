package io.ainative.runner.service.source;

import io.ainative.runner.service.discovery.ServiceSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Objects;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * The host of an inference service: a FLIP-27 source whose readers never emit a record. Each
 * reader (one per instance) runs an {@code InferenceServer}; the enumerator, in the JobManager,
 * keeps the list of ready instances and activates or parks readers when the service is scaled. It
 * reserves {@code maxInstances} readers. It is unbounded so that it runs as long as the pipeline;
 * its readers end when every client has finished ({@code ServiceEvents.Finish}).
 */
@Internal
public final class RpcServiceSource implements Source<Void, RpcServiceSource.NoSplit, Integer> {
  private static final long serialVersionUID = 1L;

  private final ServiceSpec spec;

  public RpcServiceSource(ServiceSpec spec) {
    this.spec = Objects.requireNonNull(spec, "spec");
  }

  /** The id the enumerator's coordinator listens on, for {@code SourceTransformation#setCoordinatorListeningID}. */
  public String coordinatorListeningId() {
    return spec.listeningId();
  }

  @Override
  public Boundedness getBoundedness() {
    return Boundedness.CONTINUOUS_UNBOUNDED;
  }

  @Override
  public SplitEnumerator<NoSplit, Integer> createEnumerator(SplitEnumeratorContext<NoSplit> context) {
    return new RpcServiceEnumerator(spec, context, spec.instances());
  }

  /** The checkpoint holds the active instance count; 0 (older checkpoints) means the spec's. */
  @Override
  public SplitEnumerator<NoSplit, Integer> restoreEnumerator(SplitEnumeratorContext<NoSplit> context, Integer checkpoint) {
    int active = checkpoint == null || checkpoint < 1 || checkpoint > spec.maxInstances() ? spec.instances() : checkpoint;
    return new RpcServiceEnumerator(spec, context, active);
  }

  @Override
  public SimpleVersionedSerializer<NoSplit> getSplitSerializer() {
    return new NoSplitSerializer();
  }

  @Override
  public SimpleVersionedSerializer<Integer> getEnumeratorCheckpointSerializer() {
    return new IntSerializer();
  }

  @Override
  public SourceReader<Void, NoSplit> createReader(SourceReaderContext readerContext) {
    return new RpcServiceReader(spec, readerContext);
  }

  /** The source has no splits; the type exists because the API asks for one. */
  public static final class NoSplit implements SourceSplit {
    @Override
    public String splitId() {
      return "none";
    }
  }

  private static final class NoSplitSerializer implements SimpleVersionedSerializer<NoSplit> {
    @Override
    public int getVersion() {
      return 1;
    }

    @Override
    public byte[] serialize(NoSplit split) {
      return new byte[0];
    }

    @Override
    public NoSplit deserialize(int version, byte[] serialized) {
      return new NoSplit();
    }
  }

  private static final class IntSerializer implements SimpleVersionedSerializer<Integer> {
    @Override
    public int getVersion() {
      return 1;
    }

    @Override
    public byte[] serialize(Integer value) {
      return ByteBuffer.allocate(4).putInt(value).array();
    }

    @Override
    public Integer deserialize(int version, byte[] serialized) throws IOException {
      if (serialized.length != 4) {
        throw new IOException("service enumerator state: expected 4 bytes, got " + serialized.length);
      }
      return ByteBuffer.wrap(serialized).getInt();
    }
  }
}
