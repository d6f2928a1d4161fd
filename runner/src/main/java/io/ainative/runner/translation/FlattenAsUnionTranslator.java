package io.ainative.runner.translation;

import java.util.IdentityHashMap;
import java.util.Map;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.runners.flink.FlinkStreamingPortablePipelineTranslator.PTransformTranslator;
import org.apache.beam.runners.flink.FlinkStreamingPortablePipelineTranslator.StreamingTranslationContext;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.util.Collector;

/**
 * Translates {@link NativeUrns#FLATTEN_AS_UNION} (a Flatten with at least one input that the
 * runner took out of fusion) to a Flink union of its inputs' streams.
 */
@Internal
public final class FlattenAsUnionTranslator implements PTransformTranslator<StreamingTranslationContext> {

  @Override
  public void translate(String id, RunnerApi.Pipeline pipeline, StreamingTranslationContext context) {
    RunnerApi.PTransform transform = pipeline.getComponents().getTransformsOrThrow(id);
    if (transform.getInputsCount() == 0) {
      throw new IllegalArgumentException(
          "Flatten '" + transform.getUniqueName() + "' has no inputs; only flattens with inputs are unions");
    }
    Map<DataStream<Object>, Integer> uses = new IdentityHashMap<>();
    for (String input : transform.getInputsMap().values()) {
      uses.merge(context.getDataStreamOrThrow(input), 1, Integer::sum);
    }
    DataStream<Object> result = null;
    for (String input : transform.getInputsMap().values()) {
      DataStream<Object> stream = context.getDataStreamOrThrow(input);
      if (uses.get(stream) > 1) {
        // Flink drops watermarks of a stream unioned with itself: give each use its own node.
        stream = stream.flatMap(new Forward()).returns(stream.getType()).name(transform.getUniqueName() + "/Copy");
      }
      result = result == null ? stream : result.union(stream);
    }
    String output = transform.getOutputsMap().values().iterator().next();
    context.addDataStream(output, result);
  }

  private static final class Forward implements FlatMapFunction<Object, Object> {
    private static final long serialVersionUID = 1L;

    @Override
    public void flatMap(Object value, Collector<Object> out) {
      out.collect(value);
    }
  }
}
