package io.ainative.harness;

import io.ainative.harness.grpc.InferResponse;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The requests of one client stream of an {@link InferenceServer}: answers serialized, completion
 * after the last one. {@link #answer} and {@link #halfClosed} may be called from any thread.
 */
final class ClientStream {
  final ServerCallStreamObserver<InferResponse> call;
  final AtomicInteger pending = new AtomicInteger();
  /** Counts every answer, sent or not; shared by the service's streams. */
  private final AtomicLong completedRequests;
  volatile boolean cancelled;
  private boolean halfClosed;
  private boolean completed;

  ClientStream(ServerCallStreamObserver<InferResponse> call, AtomicLong completedRequests) {
    this.call = call;
    this.completedRequests = completedRequests;
  }

  synchronized void answer(InferResponse response) {
    completedRequests.incrementAndGet();
    if (!cancelled && !completed) {
      call.onNext(response);
    }
    pending.decrementAndGet();
    maybeComplete();
  }

  synchronized void halfClosed() {
    halfClosed = true;
    maybeComplete();
  }

  private void maybeComplete() {
    if (halfClosed && pending.get() == 0 && !completed && !cancelled) {
      completed = true;
      call.onCompleted();
    }
  }
}
