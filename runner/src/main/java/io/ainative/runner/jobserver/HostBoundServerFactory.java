package io.ainative.runner.jobserver;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.beam.model.pipeline.v1.Endpoints;
import org.apache.beam.sdk.fn.server.GrpcContextHeaderAccessorProvider;
import org.apache.beam.sdk.fn.server.ServerFactory;
import org.apache.beam.vendor.grpc.v1p60p1.io.grpc.BindableService;
import org.apache.beam.vendor.grpc.v1p60p1.io.grpc.Server;
import org.apache.beam.vendor.grpc.v1p60p1.io.grpc.ServerInterceptors;
import org.apache.beam.vendor.grpc.v1p60p1.io.grpc.netty.NettyServerBuilder;
import org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.net.HostAndPort;

/**
 * Starts the job server's gRPC servers on the configured host only ({@code --job-host}, default
 * {@code localhost}). Beam's own {@code ServerFactory} names that host in the endpoint it reports
 * but listens on every interface.
 */
final class HostBoundServerFactory extends ServerFactory {
  private static final int KEEP_ALIVE_SECONDS = 20;

  private final String host;
  private final Supplier<Integer> port;

  HostBoundServerFactory(String host, Supplier<Integer> port) {
    this.host = host;
    this.port = port;
  }

  @Override
  public Server allocateAddressAndCreate(List<BindableService> services, Endpoints.ApiServiceDescriptor.Builder descriptor)
      throws IOException {
    Server server = start(services, new InetSocketAddress(host, port.get()));
    descriptor.setUrl(HostAndPort.fromParts(host, server.getPort()).toString());
    return server;
  }

  @Override
  public Server create(List<BindableService> services, Endpoints.ApiServiceDescriptor descriptor) throws IOException {
    HostAndPort address = HostAndPort.fromString(descriptor.getUrl());
    return start(services, new InetSocketAddress(address.getHost(), address.getPort()));
  }

  private static Server start(List<BindableService> services, InetSocketAddress address) throws IOException {
    NettyServerBuilder builder =
        NettyServerBuilder.forAddress(address)
            .maxInboundMessageSize(Integer.MAX_VALUE)
            .permitKeepAliveTime(KEEP_ALIVE_SECONDS, TimeUnit.SECONDS);
    for (BindableService service : services) {
      builder.addService(ServerInterceptors.intercept(service, GrpcContextHeaderAccessorProvider.interceptor()));
    }
    return builder.build().start();
  }
}
