package io.ainative.runner.service.client;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.sameInstance;
import static org.junit.Assert.assertThrows;

import com.google.protobuf.ByteString;
import io.ainative.harness.InferenceServer;
import io.ainative.harness.RequestObjectStore;
import io.ainative.harness.grpc.ElementResult;
import io.ainative.harness.grpc.Encoding;
import io.ainative.harness.grpc.Failure;
import io.ainative.harness.grpc.IndexedFailure;
import io.ainative.harness.grpc.InferRequest;
import io.ainative.harness.grpc.InferResponse;
import io.ainative.multimodal.arrow.ArrowElements;
import io.ainative.multimodal.store.ObjectNotFoundException;
import io.ainative.runner.options.WireEncoding;
import io.ainative.runner.service.client.RpcClientOperator.Element;
import io.ainative.runner.service.client.RpcClientOperator.Request;
import io.ainative.runner.service.discovery.ServiceSpec;
import io.ainative.runner.testing.PlaceholderModel;
import io.ainative.transforms.InferenceOptions;
import io.ainative.transforms.ModelSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.RootAllocator;
import org.apache.beam.sdk.coders.ByteArrayCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.util.WindowedValue;
import org.junit.After;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** Requests from elements and results from answers, without a cluster or a service. */
@SuppressWarnings({"unchecked", "rawtypes"})
public class RequestCodecTest {
  @Rule public final TemporaryFolder temp = new TemporaryFolder();

  private static final Coder<WindowedValue<Object>> BYTES = (Coder) WindowedValue.getFullCoder(ByteArrayCoder.of(), GlobalWindow.Coder.INSTANCE);
  private final Map<String, Long> counters = new HashMap<>();
  private final List<RequestCodec> codecs = new ArrayList<>();
  private RequestObjectStore store;

  @After
  public void close() throws Exception {
    for (RequestCodec c : codecs) {
      c.close();
    }
  }

  private RequestCodec codec(WireEncoding encoding, long offloadThreshold) throws Exception {
    ModelSpec<byte[], Integer> model =
        ModelSpec.<byte[], Integer>builder().setModelUri(PlaceholderModel.directory()).setProcessing((manager, x) -> null, output -> 0).build();
    ServiceSpec service =
        new ServiceSpec("svc", model, ByteArrayCoder.of(), VarIntCoder.of(), InferenceOptions.defaults(), InferenceServer.Execution.DIRECT, List.of("Classify"));
    store = new RequestObjectStore(temp.getRoot().toString(), "job-1");
    ClientConfig config =
        new ClientConfig(service, "Classify", "ns", false, BYTES, BYTES, BYTES, BYTES, null, null, null, 64, 0, encoding, true, store, offloadThreshold);
    RequestCodec codec = new RequestCodec(config, Offloader.open(config, 0), (name, n) -> counters.merge(name, n, Long::sum));
    codecs.add(codec);
    return codec;
  }

  private static Request request(RequestCodec codec, byte[]... inputs) throws Exception {
    List<Element> elements = new ArrayList<>();
    for (int i = 0; i < inputs.length; i++) {
      elements.add(codec.element(i, WindowedValue.valueInGlobalWindow((Object) inputs[i])));
    }
    return new Request(7, elements);
  }

  @Test
  public void arrowRequest_holdsTheInlineInputs_andLargeOnesTravelByReference_writtenOnce() throws Exception {
    RequestCodec codec = codec(WireEncoding.AUTO, 4);
    byte[] large = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9};
    Request r = request(codec, new byte[] {1, 2}, large, new byte[] {3});

    InferRequest first = codec.request(r);
    assertThat(first.getEncoding(), equalTo(Encoding.ARROW_IPC));
    assertThat(first.getRefsCount(), equalTo(1));
    assertThat(first.getRefs(0).getIndex(), equalTo(1));
    assertThat(store.reader().read(first.getRefs(0).getRef().toByteArray(), ByteArrayCoder.of()), equalTo(large));
    try (RootAllocator allocator = new RootAllocator()) {
      List<byte[]> rows = ArrowElements.of(ByteArrayCoder.of()).decode(first.getArrowBatch().toByteArray(), allocator);
      assertThat(rows.size(), equalTo(2));
      assertThat(rows.get(0), equalTo(new byte[] {1, 2}));
      assertThat(rows.get(1), equalTo(new byte[] {3}));
    }

    InferRequest again = codec.request(r);
    assertThat(again.getArrowBatch(), sameInstance(first.getArrowBatch()));
    assertThat(again.getRefsList(), equalTo(first.getRefsList()));
    assertThat(counters.get(RequestCodec.OFFLOADED_INPUTS), equalTo(1L));
    assertThat(counters.get(RequestCodec.OFFLOADED_BYTES), equalTo(10L));
    assertThat(counters.get(RequestCodec.ARROW_IPC_REQUESTS), equalTo(2L));
  }

  @Test
  public void coderRequest_encodesEachInlineInput_inOrder() throws Exception {
    RequestCodec codec = codec(WireEncoding.BEAM_CODER, 4);
    Request r = request(codec, new byte[] {1}, new byte[20], new byte[] {2, 2});
    InferRequest request = codec.request(r);
    assertThat(request.getEncoding(), equalTo(Encoding.BEAM_CODER));
    assertThat(request.getElementsCount(), equalTo(2));
    assertThat(CoderUtils.decodeFromByteArray(ByteArrayCoder.of(), request.getElements(0).toByteArray()), equalTo(new byte[] {1}));
    assertThat(CoderUtils.decodeFromByteArray(ByteArrayCoder.of(), request.getElements(1).toByteArray()), equalTo(new byte[] {2, 2}));
    assertThat(request.getRefs(0).getIndex(), equalTo(1));
    assertThat(counters.get(RequestCodec.BEAM_CODER_REQUESTS), equalTo(1L));
  }

  @Test
  public void answered_deletesTheObjectOfAnInputThatTravelledByReference() throws Exception {
    RequestCodec codec = codec(WireEncoding.AUTO, 0);
    Request r = request(codec, new byte[] {5, 5});
    ByteString ref = codec.request(r).getRefs(0).getRef();
    codec.answered(r.elements.get(0));
    assertThat(r.elements.get(0).ref, nullValue());
    assertThrows(ObjectNotFoundException.class, () -> store.reader().read(ref.toByteArray(), ByteArrayCoder.of()));
  }

  @Test
  public void anInputTheStoreCannotTake_travelsInline() throws Exception {
    RequestCodec codec = codec(WireEncoding.BEAM_CODER, 0);
    // The client's namespace becomes a plain file: no object can be written under it.
    java.nio.file.Path namespace = temp.getRoot().toPath().resolve("job-1-Classify-0");
    org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.io.MoreFiles.deleteRecursively(namespace);
    java.nio.file.Files.writeString(namespace, "not a directory");
    Request r = request(codec, new byte[] {4, 4, 4});
    InferRequest request = codec.request(r);
    assertThat(request.getRefsCount(), equalTo(0));
    assertThat(request.getElementsCount(), equalTo(1));
    assertThat(CoderUtils.decodeFromByteArray(ByteArrayCoder.of(), request.getElements(0).toByteArray()), equalTo(new byte[] {4, 4, 4}));
    assertThat(counters.get(RequestCodec.OFFLOADED_INPUTS), nullValue());
  }

  @Test
  public void arrowAnswer_givesEachElementItsOutputOrItsFailure_inOrder() throws Exception {
    RequestCodec codec = codec(WireEncoding.AUTO, 1 << 20);
    Request r = request(codec, new byte[] {1}, new byte[] {2}, new byte[] {3});
    InferResponse answer;
    try (RootAllocator allocator = new RootAllocator()) {
      answer =
          InferResponse.newBuilder()
              .setEncoding(Encoding.ARROW_IPC)
              .setArrowOutputs(ByteString.copyFrom(ArrowElements.of(VarIntCoder.of()).encode(List.of(10, 30), allocator)))
              .addFailures(IndexedFailure.newBuilder().setIndex(1).setFailure(failure("bad input")))
              .build();
    }
    List<RequestCodec.Result> results = codec.results(answer, r);
    assertThat(results.get(0).output, equalTo(10));
    assertThat(results.get(1).failure.getMessage(), equalTo("bad input"));
    assertThat(results.get(2).output, equalTo(30));
  }

  @Test
  public void answersThatDoNotFitTheRequest_areUnusable_sayingHow() throws Exception {
    RequestCodec arrow = codec(WireEncoding.AUTO, 1 << 20);
    Request r = request(arrow, new byte[] {1}, new byte[] {2});
    InferResponse tooFew;
    try (RootAllocator allocator = new RootAllocator()) {
      tooFew =
          InferResponse.newBuilder()
              .setEncoding(Encoding.ARROW_IPC)
              .setArrowOutputs(ByteString.copyFrom(ArrowElements.of(VarIntCoder.of()).encode(List.of(10), allocator)))
              .build();
    }
    assertThat(assertThrows(RequestCodec.UnusableAnswer.class, () -> arrow.results(tooFew, r)).getMessage(),
        containsString("1 outputs and 0 failures for 2 elements"));
    InferResponse garbage = InferResponse.newBuilder().setEncoding(Encoding.ARROW_IPC).setArrowOutputs(ByteString.copyFromUtf8("nope")).build();
    assertThat(assertThrows(RequestCodec.UnusableAnswer.class, () -> arrow.results(garbage, r)).getMessage(),
        containsString("unreadable arrow_outputs"));

    RequestCodec coder = codec(WireEncoding.BEAM_CODER, 1 << 20);
    Request c = request(coder, new byte[] {1}, new byte[] {2});
    assertThat(assertThrows(RequestCodec.UnusableAnswer.class, () -> coder.results(tooFew, c)).getMessage(),
        containsString("did not ask for"));
    InferResponse oneResult = InferResponse.newBuilder().setEncoding(Encoding.BEAM_CODER).addResults(ElementResult.newBuilder().setFailure(failure("x"))).build();
    assertThat(assertThrows(RequestCodec.UnusableAnswer.class, () -> coder.results(oneResult, c)).getMessage(),
        containsString("1 results for 2 elements"));
  }

  private static Failure failure(String message) {
    return Failure.newBuilder().setStep("pre-process").setErrorClass("java.lang.IllegalArgumentException").setMessage(message).build();
  }
}
