package io.ainative.runner.service.source;

import io.ainative.runner.service.discovery.CallToken;
import io.ainative.runner.service.discovery.TlsIdentity;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The network endpoint of a service instance: a gRPC server on a free port of the address its
 * TaskManager advertises (loopback on the embedded cluster), never on every interface, that
 * refuses a request above the service's size limit before reading it ({@code RESOURCE_EXHAUSTED},
 * naming the limit), so one oversized message cannot exhaust the instance's memory, and a call
 * without the service's token ({@code UNAUTHENTICATED}, see {@link CallToken}); over TLS when the
 * service has a {@link TlsIdentity}.
 */
final class ServiceEndpoint {
  /** The Flink counter, in each instance task's metric group, of calls refused for their token. */
  static final String REFUSED_CALLS = "refused_calls";

  private ServiceEndpoint() {}

  /**
   * Starts {@code service} on {@code host}, port chosen by the system, for calls that show {@code
   * token}, over TLS with {@code tls} unless it is null; {@code onRefused} runs for each call
   * refused for its token.
   *
   * @throws IOException when the address cannot be bound or the TLS identity is unusable
   */
  static Server start(
      String host, ServerServiceDefinition service, int maxMessageBytes, String token, @Nullable TlsIdentity tls, Runnable onRefused)
      throws IOException {
    NettyServerBuilder builder =
        NettyServerBuilder.forAddress(new InetSocketAddress(host, 0))
            .addService(ServerInterceptors.intercept(service, CallToken.checking(token, onRefused)))
            .maxInboundMessageSize(maxMessageBytes);
    if (tls != null) {
      try (InputStream certificate = tls.certificate();
          InputStream key = tls.privateKey()) {
        builder.sslContext(GrpcSslContexts.forServer(certificate, key).build());
      }
    }
    return builder.build().start();
  }
}
