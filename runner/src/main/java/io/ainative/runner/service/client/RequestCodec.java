package io.ainative.runner.service.client;

import io.ainative.runner.translation.types.Transcoder;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.ainative.harness.grpc.ElementResult;
import io.ainative.harness.grpc.Encoding;
import io.ainative.harness.grpc.Failure;
import io.ainative.harness.grpc.IndexedRef;
import io.ainative.harness.grpc.InferRequest;
import io.ainative.harness.grpc.InferResponse;
import io.ainative.multimodal.arrow.ArrowElements;
import io.ainative.multimodal.arrow.RecyclingRootAllocator;
import io.ainative.runner.options.WireEncoding;
import io.ainative.runner.service.client.RpcClientOperator.Element;
import io.ainative.runner.service.client.RpcClientOperator.Request;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.beam.sdk.values.KV;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How an inference client's elements become requests and its answers become results: the model
 * inputs of a batch as one Arrow record batch ({@code ARROW_IPC}) or each encoded with the model's
 * input coder ({@code BEAM_CODER}, straight from the runner's bytes where the coders allow), inputs
 * above the offload threshold by reference, and an {@code OK} answer read back into one {@link
 * Result} per element of the request, in order.
 *
 * <p>Used from the client's task thread only; owns the Arrow memory and the {@link Offloader} it is
 * given, which {@link #close} releases.
 */
@Internal
public final class RequestCodec implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RequestCodec.class);
  /** Counters of the requests sent (re-sends included) in each wire encoding. */
  public static final String ARROW_IPC_REQUESTS = "arrow_ipc_requests";

  public static final String BEAM_CODER_REQUESTS = "beam_coder_requests";
  /** Counters: inputs sent by reference through the job's object store, and their bytes. */
  static final String OFFLOADED_INPUTS = "offloaded_inputs";

  static final String OFFLOADED_BYTES = "offloaded_bytes";

  /** Where the codec's counters go (the operator's metric group). */
  @FunctionalInterface
  interface Counters {
    void count(String name, long n);
  }

  /** An {@code OK} answer that does not fit its request; the message says how. */
  static final class UnusableAnswer extends Exception {
    private static final long serialVersionUID = 1L;

    UnusableAnswer(String message) {
      super(message);
    }
  }

  /** One element's part of an answer: a model output, a result already in wire form, or a failure. */
  static final class Result {
    final @Nullable Object output;
    final @Nullable WindowedValue<Object> wireResult;
    final @Nullable Failure failure;

    private Result(@Nullable Object output, @Nullable WindowedValue<Object> wireResult, @Nullable Failure failure) {
      this.output = output;
      this.wireResult = wireResult;
      this.failure = failure;
    }
  }

  private final ClientConfig config;
  private final Coder<Object> modelInputCoder;
  private final Coder<Object> modelOutputCoder;
  private final Transcoder toSdk;
  /** For ARROW_IPC: the batch layouts of the model's input and output, and their memory. */
  private final @Nullable ArrowElements<Object> arrowInputs;
  private final @Nullable ArrowElements<Object> arrowOutputs;
  private final @Nullable RecyclingRootAllocator allocator;
  /** Requests (and results) straight from the runner's bytes of each input, where the coders allow. */
  private final @Nullable WireBytes wireBytes;
  private final @Nullable Offloader offloader;
  private final Counters counters;

  @SuppressWarnings("unchecked")
  RequestCodec(ClientConfig config, @Nullable Offloader offloader, Counters counters) {
    this.config = config;
    this.modelInputCoder = (Coder<Object>) config.service.inputCoder();
    this.modelOutputCoder = (Coder<Object>) config.service.outputCoder();
    this.toSdk = Transcoder.of(config.inputWire, config.inputSdk);
    ArrowElements<Object> inputLayout = ArrowElements.of(modelInputCoder);
    if (config.wireEncoding == WireEncoding.ARROW_IPC
        || (config.wireEncoding == WireEncoding.AUTO && inputLayout.layout() != ArrowElements.Layout.CODED_BYTES)) {
      this.arrowInputs = inputLayout;
      this.arrowOutputs = ArrowElements.of(modelOutputCoder);
      this.allocator = new RecyclingRootAllocator();
    } else {
      this.arrowInputs = null;
      this.arrowOutputs = null;
      this.allocator = null;
    }
    this.wireBytes = arrowInputs == null ? WireBytes.of(config, modelInputCoder, modelOutputCoder) : null;
    this.offloader = offloader;
    this.counters = counters;
  }

  /** How requests are made, for the log. */
  String describe() {
    if (arrowInputs != null) {
      return "requests carry Arrow record batches of the model inputs";
    }
    return "requests " + (wireBytes == null ? "encode each decoded input" : "send the runner's input bytes")
        + ", results " + (wireBytes != null && wireBytes.results() ? "are built from those bytes" : "encode each decoded input");
  }

  /** The element {@code seq} for the runner's value {@code wire}, decoded only as far as requests need. */
  Element element(long seq, WindowedValue<Object> wire) throws Exception {
    if (wireBytes != null) {
      return new Element(seq, wire, null, null, wireBytes.payload(wire));
    }
    WindowedValue<Object> element = toSdk.apply(wire);
    Object modelInput = config.keyed ? ((KV<?, ?>) element.getValue()).getValue() : element.getValue();
    byte[] payload = arrowInputs == null ? CoderUtils.encodeToByteArray(modelInputCoder, modelInput) : null;
    return new Element(seq, wire, element, modelInput, payload);
  }

  /** The element in the SDK's form, decoded now if the requests took its bytes. */
  WindowedValue<Object> sdkElement(Element e) throws Exception {
    if (e.element == null) {
      e.element = toSdk.apply(e.wire);
    }
    return e.element;
  }

  /** Its model input: the value, or the KV's value. */
  Object modelInput(Element e) {
    if (e.modelInput != null) {
      return e.modelInput;
    }
    try {
      WindowedValue<Object> element = sdkElement(e);
      return config.keyed ? ((KV<?, ?>) element.getValue()).getValue() : element.getValue();
    } catch (Exception ex) {
      throw new IllegalArgumentException(config.stepName + ": an input cannot be decoded: " + ex.getMessage(), ex);
    }
  }

  /**
   * The request for {@code r}: an Arrow batch of its model inputs (written once, kept for re-sends)
   * when the client uses ARROW_IPC and the inputs can be written in their layout, else each input
   * encoded with the model's input coder (an input the Arrow layout refuses then reaches the
   * service, whose pre-processing fails it alone, as with BEAM_CODER). Inputs that travel by
   * reference are left out of both and named in {@code refs}.
   */
  InferRequest request(Request r) {
    InferRequest.Builder request = InferRequest.newBuilder().setRequestId(r.id);
    if (r.refs == null) {
      r.refs = offload(r);
    }
    request.addAllRefs(r.refs);
    if (arrowInputs != null && r.arrowBatch == null && !r.arrowRefused) {
      List<Object> inputs = new ArrayList<>(r.elements.size());
      for (Element e : r.elements) {
        if (e.ref == null) {
          inputs.add(modelInput(e));
        }
      }
      try {
        r.arrowBatch = inputs.isEmpty() ? ByteString.EMPTY : ByteString.copyFrom(arrowInputs.encode(inputs, allocator));
      } catch (IllegalArgumentException | IOException e) {
        LOG.debug("{}: a batch cannot be written as Arrow ({}); sending it coder-encoded", config.stepName, e.getMessage());
        r.arrowRefused = true;
      }
    }
    if (r.arrowBatch != null) {
      counters.count(ARROW_IPC_REQUESTS, 1);
      return request.setEncoding(Encoding.ARROW_IPC).setArrowBatch(r.arrowBatch).build();
    }
    counters.count(BEAM_CODER_REQUESTS, 1);
    request.setEncoding(Encoding.BEAM_CODER);
    for (Element e : r.elements) {
      if (e.ref != null) {
        continue;
      }
      byte[] payload;
      try {
        payload = e.payload != null ? e.payload : CoderUtils.encodeToByteArray(modelInputCoder, modelInput(e));
      } catch (CoderException ce) {
        throw new IllegalArgumentException(config.stepName + ": a model input cannot be encoded with " + modelInputCoder + ": " + ce.getMessage(), ce);
      }
      // never written to again: the request can share it (a re-send builds a new request from it)
      request.addElements(UnsafeByteOperations.unsafeWrap(payload));
    }
    return request.build();
  }

  /**
   * Writes the request's inputs above the offload threshold to the object store (once per element,
   * kept for re-sends) and returns where each stands in the request.
   */
  private List<IndexedRef> offload(Request r) {
    if (offloader == null) {
      return List.of();
    }
    List<IndexedRef> refs = new ArrayList<>(0);
    for (int i = 0; i < r.elements.size(); i++) {
      Element e = r.elements.get(i);
      if (e.ref == null) {
        long size = e.payload != null ? e.payload.length : Offloader.sizeHint(modelInput(e));
        if (!offloader.wants(size)) {
          continue;
        }
        byte[] bytes;
        try {
          bytes = e.payload != null ? e.payload : CoderUtils.encodeToByteArray(modelInputCoder, modelInput(e));
        } catch (CoderException ce) {
          continue; // goes inline, where the service's pre-processing fails it alone
        }
        e.ref = offloader.put(bytes, modelInputCoder.getClass().getName());
        if (e.ref == null) {
          continue;
        }
        counters.count(OFFLOADED_INPUTS, 1);
        counters.count(OFFLOADED_BYTES, bytes.length);
      }
      refs.add(IndexedRef.newBuilder().setIndex(i).setRef(UnsafeByteOperations.unsafeWrap(Offloader.encode(e.ref))).build());
    }
    return refs;
  }

  /** The element is answered: its object, if it travelled by reference, is no longer needed. */
  void answered(Element e) {
    if (e.ref != null && offloader != null) {
      offloader.release(e.ref);
      e.ref = null;
    }
  }

  /**
   * The results of an {@code OK} answer to {@code r}, one per element in request order.
   *
   * @throws UnusableAnswer when the answer does not fit the request (an encoding the client did not
   *     ask for, unreadable outputs, or as many results as elements missing)
   */
  List<Result> results(InferResponse response, Request r) throws Exception {
    int n = r.elements.size();
    List<Result> results = new ArrayList<>(n);
    if (response.getEncoding() == Encoding.ARROW_IPC) {
      if (arrowOutputs == null) {
        throw new UnusableAnswer("answered in ARROW_IPC, which this client did not ask for");
      }
      List<Object> outputs;
      try {
        outputs = response.getArrowOutputs().isEmpty() ? List.of() : arrowOutputs.decode(response.getArrowOutputs().toByteArray(), allocator);
      } catch (IOException e) {
        throw new UnusableAnswer("answered an unreadable arrow_outputs: " + e.getMessage());
      }
      if (outputs.size() + response.getFailuresCount() != n) {
        throw new UnusableAnswer("answered " + outputs.size() + " outputs and " + response.getFailuresCount() + " failures for " + n + " elements");
      }
      int nextOutput = 0;
      int nextFailure = 0;
      for (int i = 0; i < n; i++) {
        if (nextFailure < response.getFailuresCount() && response.getFailures(nextFailure).getIndex() == i) {
          results.add(new Result(null, null, response.getFailures(nextFailure++).getFailure()));
        } else if (nextOutput < outputs.size()) {
          results.add(new Result(outputs.get(nextOutput++), null, null));
        } else {
          throw new UnusableAnswer("answered failures whose indices are not ascending within 0.." + (n - 1));
        }
      }
      return results;
    }
    if (response.getResultsCount() != n) {
      throw new UnusableAnswer("answered " + response.getResultsCount() + " results for " + n + " elements");
    }
    for (int i = 0; i < n; i++) {
      ElementResult result = response.getResults(i);
      if (!result.hasOutput()) {
        results.add(new Result(null, null, result.getFailure()));
      } else if (wireBytes != null && wireBytes.results()) {
        results.add(new Result(null, wireBytes.result(r.elements.get(i).wire, result.getOutput()), null));
      } else {
        results.add(new Result(CoderUtils.decodeFromByteArray(modelOutputCoder, result.getOutput().toByteArray()), null, null));
      }
    }
    return results;
  }

  @Override
  public void close() throws IOException {
    try {
      if (allocator != null) {
        allocator.close();
      }
    } finally {
      if (offloader != null) {
        offloader.close();
      }
    }
  }
}
