package io.ainative.runner.service.source;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import com.google.protobuf.ByteString;
import io.ainative.harness.grpc.InferRequest;
import io.ainative.harness.grpc.InferResponse;
import io.ainative.harness.grpc.InferenceServiceGrpc;
import io.ainative.runner.service.discovery.CallToken;
import io.ainative.runner.service.discovery.TlsIdentity;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.InputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.util.Collections;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.After;
import org.junit.Assume;
import org.junit.Test;

/** Where an instance's gRPC server listens, and which calls it refuses, with a real server and channel. */
public class ServiceEndpointTest {
  private static final int LIMIT = 4096;
  private static final String TOKEN = CallToken.generate();

  /** Answers each request with its id: the service side of the instance, at the edge. */
  private static final class Echo extends InferenceServiceGrpc.InferenceServiceImplBase {
    @Override
    public StreamObserver<InferRequest> infer(StreamObserver<InferResponse> responses) {
      return new StreamObserver<>() {
        @Override
        public void onNext(InferRequest request) {
          responses.onNext(InferResponse.newBuilder().setRequestId(request.getRequestId()).build());
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          responses.onCompleted();
        }
      };
    }
  }

  private final AtomicLong refused = new AtomicLong();
  private Server server;
  private ManagedChannel channel;

  @After
  public void stop() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  @Test
  public void listensOnTheGivenAddressOnly() throws Exception {
    server = ServiceEndpoint.start("127.0.0.1", new Echo().bindService(), LIMIT, TOKEN, null, refused::incrementAndGet);

    InetSocketAddress bound = (InetSocketAddress) server.getListenSockets().get(0);
    assertThat(bound.getAddress().getHostAddress(), equalTo("127.0.0.1"));
    Optional<InetAddress> other = nonLoopbackAddress();
    Assume.assumeTrue("this machine has a non-loopback IPv4 address to try", other.isPresent());
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(other.get(), server.getPort()), 2000);
      throw new AssertionError("the instance accepted a connection on " + other.get() + ", not the address it was given");
    } catch (IOException refused) {
      // nothing listens there
    }
  }

  @Test
  public void aRequestAboveTheLimit_isRefusedResourceExhausted_andTheNextStreamIsServed() throws Exception {
    server = ServiceEndpoint.start("127.0.0.1", new Echo().bindService(), LIMIT, TOKEN, null, refused::incrementAndGet);
    channel = channelShowing(TOKEN);

    Throwable tooLarge = call(request(1, LIMIT + 1)).handle((ok, error) -> error).get(30, TimeUnit.SECONDS);

    assertThat(String.valueOf(tooLarge), Status.fromThrowable(tooLarge).getCode(), equalTo(Status.Code.RESOURCE_EXHAUSTED));
    assertThat(Status.fromThrowable(tooLarge).getDescription(), containsString(Integer.toString(LIMIT)));
    assertThat(call(request(2, LIMIT / 2)).get(30, TimeUnit.SECONDS).getRequestId(), equalTo(2L));
  }

  @Test
  public void aCallWithoutTheToken_isRefusedUnauthenticated_andCounted() throws Exception {
    server = ServiceEndpoint.start("127.0.0.1", new Echo().bindService(), LIMIT, TOKEN, null, refused::incrementAndGet);
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();

    Throwable error = call(request(1, 10)).handle((ok, e) -> e).get(30, TimeUnit.SECONDS);

    assertThat(String.valueOf(error), Status.fromThrowable(error).getCode(), equalTo(Status.Code.UNAUTHENTICATED));
    assertThat(refused.get(), equalTo(1L));
  }

  @Test
  public void aCallWithAnotherToken_isRefusedUnauthenticated_andTheRightOneIsServed() throws Exception {
    server = ServiceEndpoint.start("127.0.0.1", new Echo().bindService(), LIMIT, TOKEN, null, refused::incrementAndGet);
    channel = channelShowing(CallToken.generate());

    Throwable error = call(request(1, 10)).handle((ok, e) -> e).get(30, TimeUnit.SECONDS);

    assertThat(String.valueOf(error), Status.fromThrowable(error).getCode(), equalTo(Status.Code.UNAUTHENTICATED));
    assertThat(refused.get(), equalTo(1L));
    channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    channel = channelShowing(TOKEN);
    assertThat(call(request(2, 10)).get(30, TimeUnit.SECONDS).getRequestId(), equalTo(2L));
    assertThat(refused.get(), equalTo(1L));
  }

  @Test
  public void overTls_theJobsClientsAreServed_plaintextAndOtherCertificatesAreRefused() throws Exception {
    TlsIdentity identity = TlsIdentity.selfSigned();
    server = ServiceEndpoint.start("127.0.0.1", new Echo().bindService(), LIMIT, TOKEN, identity, refused::incrementAndGet);

    channel = channelShowing(TOKEN);
    Throwable plaintext = call(request(1, 10)).handle((ok, e) -> e).get(30, TimeUnit.SECONDS);
    assertThat(String.valueOf(plaintext), Status.fromThrowable(plaintext).getCode(), equalTo(Status.Code.UNAVAILABLE));
    channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);

    channel = tlsChannel(TlsIdentity.selfSigned());
    Throwable untrusted = call(request(2, 10)).handle((ok, e) -> e).get(30, TimeUnit.SECONDS);
    assertThat(String.valueOf(untrusted), Status.fromThrowable(untrusted).getCode(), equalTo(Status.Code.UNAVAILABLE));
    channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);

    channel = tlsChannel(identity);
    assertThat(call(request(3, 10)).get(30, TimeUnit.SECONDS).getRequestId(), equalTo(3L));
    assertThat("no call reached the token check without TLS", refused.get(), equalTo(0L));
  }

  /** A TLS channel trusting {@code trusted}'s certificate, showing the token. */
  private ManagedChannel tlsChannel(TlsIdentity trusted) throws IOException {
    try (InputStream certificate = trusted.certificate()) {
      return NettyChannelBuilder.forAddress("127.0.0.1", server.getPort())
          .sslContext(GrpcSslContexts.forClient().trustManager(certificate).build())
          .overrideAuthority(trusted.authority())
          .intercept(CallToken.attaching(TOKEN))
          .build();
    }
  }

  private ManagedChannel channelShowing(String token) {
    return NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().intercept(CallToken.attaching(token)).build();
  }

  private static InferRequest request(long id, int elementBytes) {
    return InferRequest.newBuilder().setRequestId(id).addElements(ByteString.copyFrom(new byte[elementBytes])).build();
  }

  /** Sends {@code request} on a stream of its own; completes with the answer or the stream's error. */
  private CompletableFuture<InferResponse> call(InferRequest request) {
    CompletableFuture<InferResponse> answer = new CompletableFuture<>();
    StreamObserver<InferRequest> requests =
        InferenceServiceGrpc.newStub(channel)
            .infer(
                new StreamObserver<>() {
                  @Override
                  public void onNext(InferResponse response) {
                    answer.complete(response);
                  }

                  @Override
                  public void onError(Throwable t) {
                    answer.completeExceptionally(t);
                  }

                  @Override
                  public void onCompleted() {
                    answer.completeExceptionally(new IllegalStateException("the stream ended without an answer"));
                  }
                });
    requests.onNext(request);
    answer.whenComplete((r, e) -> requests.onCompleted());
    return answer;
  }

  private static Optional<InetAddress> nonLoopbackAddress() throws IOException {
    for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (!nic.isUp() || nic.isLoopback()) {
        continue;
      }
      for (InetAddress address : Collections.list(nic.getInetAddresses())) {
        if (address instanceof Inet4Address && !address.isLoopbackAddress()) {
          return Optional.of(address);
        }
      }
    }
    return Optional.empty();
  }
}
