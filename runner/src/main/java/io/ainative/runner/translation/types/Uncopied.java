package io.ainative.runner.translation.types;

import org.apache.beam.runners.core.construction.SerializablePipelineOptions;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.runners.flink.translation.types.CoderTypeInformation;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.options.PipelineOptions;

/**
 * Record types for the outputs of operators that never touch a record again once they emitted
 * it: an executable stage's outputs (each a value freshly decoded from the SDK harness) and the
 * inference clients' results and failures (each built for that one emission). Flink copies a
 * record through its serializer before handing it to a chained operator unless object reuse is
 * on; for these types the copy is Beam's {@code --fasterCopy} (the record itself), whatever the
 * job's options say, because no runner operator changes a record it received either: user code
 * runs in the SDK harness, behind the coders. (The copy is an encode and a decode of every record,
 * a large share of the CPU of the task thread that feeds an inference client.)
 *
 * <p>State serializers keep the job's setting: a heap state backend copies values through them
 * for snapshots.
 */
@Internal
public final class Uncopied {
  private Uncopied() {}

  public static <T> CoderTypeInformation<T> typeInfo(Coder<T> coder, PipelineOptions options) {
    PipelineOptions copy = new SerializablePipelineOptions(options).get();
    copy.as(FlinkPipelineOptions.class).setFasterCopy(true);
    return new CoderTypeInformation<>(coder, copy);
  }
}
