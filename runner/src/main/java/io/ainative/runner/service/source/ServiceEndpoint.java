package io.ainative.runner.service.source;

import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * The network endpoint of a service instance: a gRPC server on a free port of the address its
 * TaskManager advertises (loopback on the embedded cluster), never on every interface, that
 * refuses a request above the service's size limit before reading it ({@code RESOURCE_EXHAUSTED},
 * naming the limit), so one oversized message cannot exhaust the instance's memory.
 */
final class ServiceEndpoint {
  private ServiceEndpoint() {}

  /**
   * Starts {@code service} on {@code host}, port chosen by the system.
   *
   * @throws IOException when the address cannot be bound
   */
  static Server start(String host, ServerServiceDefinition service, int maxMessageBytes) throws IOException {
    return NettyServerBuilder.forAddress(new InetSocketAddress(host, 0))
        .addService(service)
        .maxInboundMessageSize(maxMessageBytes)
        .build()
        .start();
  }
}
