package io.ainative.harness.fnapi;

import org.apache.beam.vendor.grpc.v1p60p1.io.grpc.CallOptions;
import org.apache.beam.vendor.grpc.v1p60p1.io.grpc.Channel;
import org.apache.beam.vendor.grpc.v1p60p1.io.grpc.ClientCall;
import org.apache.beam.vendor.grpc.v1p60p1.io.grpc.ClientInterceptor;
import org.apache.beam.vendor.grpc.v1p60p1.io.grpc.ForwardingClientCall;
import org.apache.beam.vendor.grpc.v1p60p1.io.grpc.ForwardingClientCallListener;
import org.apache.beam.vendor.grpc.v1p60p1.io.grpc.Metadata;
import org.apache.beam.vendor.grpc.v1p60p1.io.grpc.MethodDescriptor;
import org.apache.beam.vendor.grpc.v1p60p1.io.grpc.Status;

/**
 * On the channels of one in-process harness: once the harness has ended, a call that the runner's
 * server cancels ends for the harness as completed.
 *
 * <p>Beam 2.62's harness never closes its data streams, not even when it ends, and its data client
 * logs an error with a stack trace for every stream that does not complete ({@code Failed to
 * handle for url ... CANCELLED: Multiplexer hanging up}). When the runner's data service closes
 * after the harness ended, it cancels those streams: that is the normal end of them, and nothing of
 * the harness is left to act on it. Before the harness has ended a cancellation is passed on as
 * it is, so a data stream that breaks while the harness runs still fails it and is still logged.
 */
final class EndedHarnessCalls implements ClientInterceptor {
  private volatile boolean harnessEnded;

  /** Called once the harness has returned from {@code FnHarness.main}. */
  void harnessEnded() {
    harnessEnded = true;
  }

  @Override
  public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
      MethodDescriptor<ReqT, RespT> method, CallOptions options, Channel next) {
    return new ForwardingClientCall.SimpleForwardingClientCall<ReqT, RespT>(next.newCall(method, options)) {
      @Override
      public void start(Listener<RespT> listener, Metadata headers) {
        super.start(
            new ForwardingClientCallListener.SimpleForwardingClientCallListener<RespT>(listener) {
              @Override
              public void onClose(Status status, Metadata trailers) {
                super.onClose(harnessEnded && status.getCode() == Status.Code.CANCELLED ? Status.OK : status, trailers);
              }
            },
            headers);
      }
    };
  }
}
