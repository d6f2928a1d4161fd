package io.ainative.harness;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.Assert.assertThrows;

import com.google.protobuf.ByteString;
import io.ainative.harness.grpc.Encoding;
import io.ainative.harness.grpc.IndexedRef;
import io.ainative.harness.grpc.InferRequest;
import io.ainative.harness.grpc.InferResponse;
import io.ainative.multimodal.arrow.ArrowElements;
import io.ainative.multimodal.coders.ObjectRefCoder;
import io.ainative.multimodal.store.ObjectStore;
import io.ainative.transforms.InferenceStep;
import io.ainative.transforms.runtime.Outcome;
import java.util.List;
import org.apache.arrow.memory.RootAllocator;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.util.CoderUtils;
import org.junit.After;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The service's reading of requests and writing of answers, without a server or a model. */
public class ServiceWireCodecTest {
  @Rule public final TemporaryFolder temp = new TemporaryFolder();

  private ServiceWireCodec<String, Integer> codec;

  @After
  public void close() {
    if (codec != null) {
      codec.close();
    }
  }

  private static IndexedRef ref(int index, ObjectStore store, String value) throws Exception {
    byte[] bytes = CoderUtils.encodeToByteArray(ObjectRefCoder.of(), store.put(value, StringUtf8Coder.of(), "text").cast());
    return IndexedRef.newBuilder().setIndex(index).setRef(ByteString.copyFrom(bytes)).build();
  }

  @Test
  public void inputs_putReferencedElementsInTheirPlaces_andAnUnreadableOneFailsAlone() throws Exception {
    RequestObjectStore objects = new RequestObjectStore(temp.getRoot().toString(), "job");
    codec = new ServiceWireCodec<>(StringUtf8Coder.of(), VarIntCoder.of(), objects);
    ObjectStore client = objects.writer("c0");
    IndexedRef gone = ref(3, client, "deleted");
    client.deleteJob();
    client = objects.writer("c0");
    InferRequest request;
    try (RootAllocator allocator = new RootAllocator()) {
      request =
          InferRequest.newBuilder()
              .setEncoding(Encoding.ARROW_IPC)
              .setArrowBatch(ByteString.copyFrom(ArrowElements.of(StringUtf8Coder.of()).encode(List.of("a", "c"), allocator)))
              .addRefs(ref(1, client, "b"))
              .addRefs(gone)
              .build();
    }
    List<ServiceWireCodec.Input<String>> inputs = codec.inputs(request);
    assertThat(inputs.size(), equalTo(4));
    assertThat(List.of(inputs.get(0).value, inputs.get(1).value, inputs.get(2).value), equalTo(List.of("a", "b", "c")));
    assertThat(inputs.get(3).value, nullValue());
    assertThat(inputs.get(3).unreadable.getMessage(), containsString("not found"));
  }

  @Test
  public void refIndicesThatDoNotFit_makeTheRequestBad() throws Exception {
    RequestObjectStore objects = new RequestObjectStore(temp.getRoot().toString(), "job");
    codec = new ServiceWireCodec<>(StringUtf8Coder.of(), VarIntCoder.of(), objects);
    ObjectStore client = objects.writer("c0");
    InferRequest beyond =
        InferRequest.newBuilder()
            .setEncoding(Encoding.BEAM_CODER)
            .addElements(ByteString.copyFrom(CoderUtils.encodeToByteArray(StringUtf8Coder.of(), "a")))
            .addRefs(ref(2, client, "b"))
            .build();
    assertThat(assertThrows(ServiceWireCodec.BadRequest.class, () -> codec.inputs(beyond)).getMessage(),
        containsString("refs[0] has index 2: ref indices must ascend within 0..1"));
    InferRequest unknown = InferRequest.newBuilder().setEncoding(Encoding.ENCODING_UNSPECIFIED).build();
    assertThat(assertThrows(ServiceWireCodec.BadRequest.class, () -> codec.inputs(unknown)).getMessage(),
        containsString("not supported"));
  }

  @Test
  public void arrowAnswer_writesTheOutputsThatSucceeded_andIndexesTheFailures() throws Exception {
    ServiceWireCodec<String, Integer> nullable = new ServiceWireCodec<>(StringUtf8Coder.of(), NullableCoder.of(VarIntCoder.of()), null);
    codec = null;
    try {
      InferRequest request = InferRequest.newBuilder().setRequestId(4).setEncoding(Encoding.ARROW_IPC).build();
      InferResponse answer =
          nullable.answer(
              request,
              List.of(Outcome.success(1), Outcome.failure(InferenceStep.INFERENCE, new IllegalStateException("boom")), Outcome.success(3)));
      assertThat(answer.getRequestId(), equalTo(4L));
      assertThat(answer.getFailuresCount(), equalTo(1));
      assertThat(answer.getFailures(0).getIndex(), equalTo(1));
      assertThat(answer.getFailures(0).getFailure().getStep(), equalTo("inference"));
      assertThat(answer.getFailures(0).getFailure().getMessage(), equalTo("boom"));
      try (RootAllocator allocator = new RootAllocator()) {
        assertThat(ArrowElements.of(NullableCoder.of(VarIntCoder.of())).decode(answer.getArrowOutputs().toByteArray(), allocator), equalTo(List.of(1, 3)));
      }
    } finally {
      nullable.close();
    }
  }
}
