package io.ainative.runner.translation;

import io.ainative.runner.translation.service.ServedStages;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.runners.flink.FlinkStreamingPortablePipelineTranslator.PTransformTranslator;
import org.apache.beam.runners.flink.FlinkStreamingPortablePipelineTranslator.StreamingTranslationContext;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.flink.streaming.api.datastream.DataStream;

/**
 * Translates a served stage ({@value ServedStages#URN}): a client operator in the data DAG and a
 * disconnected service sub-graph whose instances run the stage in its SDK environment. See {@link
 * ServedStages}.
 */
@Internal
public final class ServedStageTranslator implements PTransformTranslator<StreamingTranslationContext> {

  @Override
  public void translate(String id, RunnerApi.Pipeline pipeline, StreamingTranslationContext context) {
    RunnerApi.Components components = pipeline.getComponents();
    RunnerApi.PTransform transform = components.getTransformsOrThrow(id);
    String input = transform.getInputsMap().values().iterator().next();
    DataStream<WindowedValue<Object>> inputStream = context.getDataStreamOrThrow(input);
    ServedStages.translate(
            transform, components, inputStream, context.getExecutionEnvironment(), context.getPipelineOptions(), context.getJobInfo())
        .forEach(context::addDataStream);
  }
}
