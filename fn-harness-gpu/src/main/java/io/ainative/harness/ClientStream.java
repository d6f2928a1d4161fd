package io.ainative.harness;

import io.ainative.harness.grpc.InferResponse;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
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
  /** The stream's elements queued in the batcher and not finished. */
  private final Set<CompletableFuture<?>> queued = ConcurrentHashMap.newKeySet();
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

  /** Tracks {@code element} until it finishes; cancels it at once if the stream is cancelled already. */
  void queued(CompletableFuture<?> element) {
    queued.add(element);
    element.whenComplete((r, e) -> queued.remove(element));
    if (cancelled) {
      element.cancel(false);
    }
  }

  /** The client is gone: cancels the elements it still has queued (a running batch finishes). */
  void cancel() {
    cancelled = true;
    for (CompletableFuture<?> element : queued) {
      element.cancel(false);
    }
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
