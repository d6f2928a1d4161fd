package io.ainative.harness;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.ainative.harness.grpc.ElementResult;
import io.ainative.harness.grpc.Encoding;
import io.ainative.harness.grpc.Failure;
import io.ainative.harness.grpc.IndexedFailure;
import io.ainative.harness.grpc.IndexedRef;
import io.ainative.harness.grpc.InferRequest;
import io.ainative.harness.grpc.InferResponse;
import io.ainative.multimodal.arrow.ArrowElements;
import io.ainative.multimodal.arrow.RecyclingRootAllocator;
import io.ainative.multimodal.store.ObjectStoreException;
import io.ainative.transforms.runtime.Outcome;
import io.grpc.Status;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.util.CoderUtils;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The inference service's side of the wire: a request's elements read back (an Arrow record batch
 * or coder-encoded elements, and those that travel by reference read from the job's object store)
 * and an answer written in the request's encoding. No transport, no model: {@link InferenceServer}
 * does those.
 *
 * <p>Thread safe; owns the Arrow memory of the requests and answers it handles, which {@link
 * #close} releases.
 */
final class ServiceWireCodec<InputT, OutputT> implements AutoCloseable {
  /** A request that cannot be read as a whole; the message says why, for {@code INVALID_ARGUMENT}. */
  static final class BadRequest extends Exception {
    private static final long serialVersionUID = 1L;

    BadRequest(String message) {
      super(message);
    }
  }

  /** One position of a request: its input, or why that element alone cannot be read. */
  static final class Input<InputT> {
    final @Nullable InputT value;
    final @Nullable IOException unreadable;

    private Input(@Nullable InputT value, @Nullable IOException unreadable) {
      this.value = value;
      this.unreadable = unreadable;
    }
  }

  private final Coder<InputT> inputCoder;
  private final Coder<OutputT> outputCoder;
  private final ArrowElements<InputT> arrowInputs;
  private final ArrowElements<OutputT> arrowOutputs;
  private final RecyclingRootAllocator allocator = new RecyclingRootAllocator();
  /** Reads the elements that travel by reference; null when the job has no object store. */
  private final RequestObjectStore.@Nullable Reader refReader;

  ServiceWireCodec(Coder<InputT> inputCoder, Coder<OutputT> outputCoder, @Nullable RequestObjectStore objectStore) {
    this.inputCoder = inputCoder;
    this.outputCoder = outputCoder;
    this.arrowInputs = ArrowElements.of(inputCoder);
    this.arrowOutputs = ArrowElements.of(outputCoder);
    this.refReader = objectStore == null ? null : objectStore.reader();
  }

  /**
   * The request's elements in order, those that travel by reference in their places.
   *
   * @throws BadRequest when the batch or an inline element cannot be decoded, the encoding is
   *     unknown, or the references' indices do not fit the request
   */
  List<Input<InputT>> inputs(InferRequest request) throws BadRequest {
    List<InputT> inline;
    if (request.getEncoding() == Encoding.ARROW_IPC) {
      try {
        inline =
            request.getArrowBatch().isEmpty() && request.getRefsCount() > 0
                ? List.of()
                : arrowInputs.decode(request.getArrowBatch().toByteArray(), allocator);
      } catch (IOException e) {
        throw new BadRequest("the arrow_batch cannot be read: " + e.getMessage());
      }
    } else if (request.getEncoding() == Encoding.BEAM_CODER) {
      inline = new ArrayList<>(request.getElementsCount());
      for (int i = 0; i < request.getElementsCount(); i++) {
        try {
          inline.add(decode(request.getElements(i)));
        } catch (Exception e) {
          throw new BadRequest("element " + i + " cannot be decoded with " + inputCoder + ": " + e.getMessage());
        }
      }
    } else {
      throw new BadRequest("encoding " + request.getEncoding() + " is not supported; use BEAM_CODER or ARROW_IPC");
    }
    int total = inline.size() + request.getRefsCount();
    for (int k = 0, previous = -1; k < request.getRefsCount(); k++) {
      int index = request.getRefs(k).getIndex();
      if (index <= previous || index >= total) {
        throw new BadRequest("refs[" + k + "] has index " + index + ": ref indices must ascend within 0.." + (total - 1));
      }
      previous = index;
    }
    List<Input<InputT>> inputs = new ArrayList<>(total);
    int nextInline = 0;
    int nextRef = 0;
    for (int i = 0; i < total; i++) {
      if (nextRef < request.getRefsCount() && request.getRefs(nextRef).getIndex() == i) {
        try {
          inputs.add(new Input<>(byReference(request.getRefs(nextRef++)), null));
        } catch (IOException e) {
          inputs.add(new Input<>(null, e));
        }
      } else {
        inputs.add(new Input<>(inline.get(nextInline++), null));
      }
    }
    return inputs;
  }

  /** An element that travels by reference, read from the job's object store. */
  private InputT byReference(IndexedRef ref) throws IOException {
    if (refReader == null) {
      throw new ObjectStoreException("element " + ref.getIndex() + " travels by reference, and this service was given no object store");
    }
    return refReader.read(ref.getRef().toByteArray(), inputCoder);
  }

  /**
   * One element, decoded from the request's bytes where they lie (no copy into an array first), in
   * the outer context as the client encoded it; bytes left over are an error, as for {@link
   * CoderUtils#decodeFromByteArray}.
   */
  @SuppressWarnings("deprecation") // the outer context is the format: Coder.decode(InputStream) reads nested
  private InputT decode(ByteString bytes) throws IOException {
    InputStream in = bytes.newInput();
    InputT value = inputCoder.decode(in, Coder.Context.OUTER);
    if (in.available() != 0) {
      throw new CoderException(in.available() + " unexpected extra bytes after decoding " + value);
    }
    return value;
  }

  /** The {@code OK} answer to {@code request}: one outcome per element, in the request's encoding. */
  InferResponse answer(InferRequest request, List<Outcome<OutputT>> outcomes) {
    return request.getEncoding() == Encoding.ARROW_IPC ? arrowAnswer(request, outcomes) : coderAnswer(request, outcomes);
  }

  private InferResponse coderAnswer(InferRequest request, List<Outcome<OutputT>> outcomes) {
    InferResponse.Builder ok = ok(request, Encoding.BEAM_CODER);
    for (Outcome<OutputT> outcome : outcomes) {
      ok.addResults(result(outcome));
    }
    return ok.build();
  }

  /**
   * The outputs that succeeded as one Arrow batch, the rest as indexed failures. An output that
   * cannot be written in the output layout (a null where none is allowed, for instance) fails at
   * post-process alone: the batch is then written again without it.
   */
  private InferResponse arrowAnswer(InferRequest request, List<Outcome<OutputT>> outcomes) {
    InferResponse.Builder ok = ok(request, Encoding.ARROW_IPC);
    List<Integer> indexes = new ArrayList<>(outcomes.size());
    List<OutputT> outputs = new ArrayList<>(outcomes.size());
    List<IndexedFailure> failures = new ArrayList<>();
    for (int i = 0; i < outcomes.size(); i++) {
      Outcome<OutputT> outcome = outcomes.get(i);
      if (outcome.isSuccess()) {
        indexes.add(i);
        outputs.add(outcome.output());
      } else {
        failures.add(indexed(i, failure(outcome.failedStep().label(), outcome.error())));
      }
    }
    byte[] batch;
    try {
      batch = outputs.isEmpty() ? null : arrowOutputs.encode(outputs, allocator);
    } catch (IOException | RuntimeException whole) {
      // Find the outputs that cannot be written, one by one (rare), and write the others.
      List<Integer> keptIndexes = new ArrayList<>();
      List<OutputT> kept = new ArrayList<>();
      for (int j = 0; j < outputs.size(); j++) {
        try {
          arrowOutputs.encode(List.of(outputs.get(j)), allocator);
          keptIndexes.add(indexes.get(j));
          kept.add(outputs.get(j));
        } catch (IOException | RuntimeException e) {
          failures.add(indexed(indexes.get(j), failure("post-process", e)));
        }
      }
      try {
        batch = kept.isEmpty() ? null : arrowOutputs.encode(kept, allocator);
      } catch (IOException | RuntimeException e) {
        return error(request, Status.INTERNAL, "the outputs cannot be written as an Arrow batch: " + e);
      }
    }
    if (batch != null) {
      ok.setArrowOutputs(ByteString.copyFrom(batch));
    }
    failures.sort((a, b) -> Integer.compare(a.getIndex(), b.getIndex()));
    return ok.addAllFailures(failures).build();
  }

  private static InferResponse.Builder ok(InferRequest request, Encoding encoding) {
    return InferResponse.newBuilder()
        .setRequestId(request.getRequestId())
        .setStatusCode(Status.Code.OK.value())
        .setEncoding(encoding);
  }

  private static IndexedFailure indexed(int index, ElementResult failure) {
    return IndexedFailure.newBuilder().setIndex(index).setFailure(failure.getFailure()).build();
  }

  private ElementResult result(Outcome<OutputT> outcome) {
    if (outcome.isSuccess()) {
      try {
        return ElementResult.newBuilder()
            .setOutput(UnsafeByteOperations.unsafeWrap(CoderUtils.encodeToByteArray(outputCoder, outcome.output())))
            .build();
      } catch (Exception e) {
        return failure("post-process", e);
      }
    }
    return failure(outcome.failedStep().label(), outcome.error());
  }

  private static ElementResult failure(String step, Throwable error) {
    return ElementResult.newBuilder()
        .setFailure(
            Failure.newBuilder()
                .setStep(step)
                .setErrorClass(HarnessElementException.classOf(error))
                .setMessage(String.valueOf(error.getMessage())))
        .build();
  }

  /** A response that fails {@code request} as a whole with {@code status}. */
  static InferResponse error(InferRequest request, Status status, String description) {
    return InferResponse.newBuilder()
        .setRequestId(request.getRequestId())
        .setStatusCode(status.getCode().value())
        .setStatusMessage(description == null ? "" : description)
        .build();
  }

  /**
   * Frees the Arrow memory.
   *
   * @throws IllegalStateException when a request still being read holds a buffer
   */
  @Override
  public void close() {
    allocator.close();
  }
}
