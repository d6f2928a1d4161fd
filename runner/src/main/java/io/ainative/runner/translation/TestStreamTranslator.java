package io.ainative.runner.translation;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.runners.flink.FlinkStreamingPortablePipelineTranslator.PTransformTranslator;
import org.apache.beam.runners.flink.FlinkStreamingPortablePipelineTranslator.StreamingTranslationContext;
import org.apache.beam.runners.flink.translation.types.CoderTypeInformation;
import org.apache.beam.runners.flink.translation.wrappers.streaming.io.TestStreamSource;
import org.apache.beam.runners.fnexecution.translation.PipelineTranslatorUtils;
import org.apache.beam.runners.fnexecution.wire.LengthPrefixUnknownCoders;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.beam.sdk.util.construction.RehydratedComponents;
import org.apache.beam.sdk.util.construction.TestStreamTranslation;
import org.apache.beam.sdk.values.TimestampedValue;
import org.apache.beam.vendor.grpc.v1p60p1.com.google.protobuf.InvalidProtocolBufferException;
import org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.collect.Iterables;
import org.apache.flink.streaming.api.datastream.DataStream;

/**
 * Translates a TestStream ({@link NativeUrns#TEST_STREAM}) to Flink's {@link TestStreamSource},
 * emitting its elements in the runner's representation of the output's coder.
 *
 * <p>Beam 2.62's translation emits the elements as the SDK decoded them but types the stream with
 * the runner's wire coder, in which a coder the runner does not know (Java's {@code VarIntCoder},
 * any custom coder) is length-prefixed bytes: serializing a {@code KV<String, Integer>} then fails
 * with {@code ClassCastException: Integer cannot be cast to [B}. Here each element is encoded with
 * the SDK's coder, unknown parts length-prefixed, and decoded with the runner's, as the SDK harness
 * does on the data plane.
 */
@Internal
public final class TestStreamTranslator implements PTransformTranslator<StreamingTranslationContext> {

  @Override
  public void translate(String id, RunnerApi.Pipeline pipeline, StreamingTranslationContext context) {
    RunnerApi.Components components = pipeline.getComponents();
    RunnerApi.PTransform transform = components.getTransformsOrThrow(id);
    String outputId = Iterables.getOnlyElement(transform.getOutputsMap().values());
    Coder<WindowedValue<Object>> coder = PipelineTranslatorUtils.instantiateCoder(outputId, components);
    DataStream<WindowedValue<Object>> source =
        context
            .getExecutionEnvironment()
            .addSource(
                new TestStreamSource<>(new RunnerEncodedEvents(components.toByteArray()), transform.getSpec().getPayload().toByteArray()),
                new CoderTypeInformation<>(coder, context.getPipelineOptions()))
            .name(transform.getUniqueName());
    context.addDataStream(outputId, source);
  }

  /** Decodes a TestStream payload into events whose elements are in the runner's representation. */
  static final class RunnerEncodedEvents implements SerializableFunction<byte[], TestStream<Object>> {
    private static final long serialVersionUID = 1L;
    private final byte[] components;

    RunnerEncodedEvents(byte[] components) {
      this.components = components;
    }

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public TestStream<Object> apply(byte[] payloadBytes) {
      try {
        RunnerApi.TestStreamPayload payload = RunnerApi.TestStreamPayload.parseFrom(payloadBytes);
        RunnerApi.Components.Builder withWireCoders = RunnerApi.Components.parseFrom(components).toBuilder();
        String sdkSide = LengthPrefixUnknownCoders.addLengthPrefixedCoder(payload.getCoderId(), withWireCoders, false);
        String runnerSide = LengthPrefixUnknownCoders.addLengthPrefixedCoder(payload.getCoderId(), withWireCoders, true);
        RehydratedComponents rehydrated = RehydratedComponents.forComponents(withWireCoders.build());
        Coder<Object> sdkCoder = (Coder<Object>) rehydrated.getCoder(sdkSide);
        Coder<Object> runnerCoder = (Coder<Object>) rehydrated.getCoder(runnerSide);
        TestStream<Object> decoded = TestStreamTranslation.testStreamFromProtoPayload(payload, rehydrated);
        List<TestStream.Event<Object>> events = new ArrayList<>();
        for (TestStream.Event<Object> event : decoded.getEvents()) {
          if (event instanceof TestStream.ElementEvent) {
            List<TimestampedValue<Object>> elements = new ArrayList<>();
            for (TimestampedValue<Object> element : ((TestStream.ElementEvent<Object>) event).getElements()) {
              Object runnerValue = CoderUtils.decodeFromByteArray(runnerCoder, CoderUtils.encodeToByteArray(sdkCoder, element.getValue()));
              elements.add(TimestampedValue.of(runnerValue, element.getTimestamp()));
            }
            events.add(TestStream.ElementEvent.add(elements));
          } else {
            events.add((TestStream.Event) event);
          }
        }
        return TestStream.fromRawEvents(runnerCoder, events);
      } catch (InvalidProtocolBufferException e) {
        throw new IllegalArgumentException("Malformed TestStream payload or pipeline components", e);
      } catch (IOException e) {
        throw new IllegalStateException("Cannot re-encode the TestStream's elements for the runner", e);
      }
    }
  }
}
