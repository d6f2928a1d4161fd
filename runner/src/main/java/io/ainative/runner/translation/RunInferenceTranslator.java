package io.ainative.runner.translation;

import io.ainative.runner.translation.service.RpcServices;
import io.ainative.transforms.RunInferencePayload;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.runners.flink.FlinkStreamingPortablePipelineTranslator.PTransformTranslator;
import org.apache.beam.runners.flink.FlinkStreamingPortablePipelineTranslator.StreamingTranslationContext;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.flink.streaming.api.datastream.DataStream;

/**
 * Translates RunInference ({@value RunInferencePayload#URN}) into a service: an async client
 * operator in the pipeline's data DAG and a disconnected sub-graph of RpcOperator instances in
 * their own slot-sharing group (their own pipelined region). See {@link RpcServices}.
 */
@Internal
public final class RunInferenceTranslator implements PTransformTranslator<StreamingTranslationContext> {

  @Override
  public void translate(String id, RunnerApi.Pipeline pipeline, StreamingTranslationContext context) {
    RunnerApi.Components components = pipeline.getComponents();
    RunnerApi.PTransform transform = components.getTransformsOrThrow(id);
    if (transform.getInputsCount() != 1) {
      throw new IllegalArgumentException(
          "RunInference '" + transform.getUniqueName() + "' must have exactly one input, has " + transform.getInputsMap());
    }
    String input = transform.getInputsMap().values().iterator().next();
    DataStream<WindowedValue<Object>> inputStream = context.getDataStreamOrThrow(input);
    RpcServices.translate(
            transform,
            components,
            inputStream,
            context.getExecutionEnvironment(),
            context.getPipelineOptions())
        .forEach(context::addDataStream);
  }
}
