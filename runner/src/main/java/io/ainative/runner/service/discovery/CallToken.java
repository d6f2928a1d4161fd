package io.ainative.runner.service.discovery;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import org.apache.beam.sdk.annotations.Internal;

/**
 * The secret a service's clients show on every call to its instances. Each job gets its own,
 * drawn when the pipeline is translated at submission and shared by the job's services; it travels
 * inside the services' specs with the job graph to the clients and the instances (never in a log,
 * a metric or the job's configuration). An instance refuses a call without it, or with another, as {@code
 * UNAUTHENTICATED}.
 */
@Internal
public final class CallToken {
  /** The request header that carries the token. */
  static final Metadata.Key<String> HEADER = Metadata.Key.of("ainative-service-token", Metadata.ASCII_STRING_MARSHALLER);

  private static final SecureRandom RANDOM = new SecureRandom();

  private CallToken() {}

  /** A fresh token: 32 random bytes, URL-safe Base64. */
  public static String generate() {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /** Adds {@code token} to every call made through the intercepted channel. */
  public static ClientInterceptor attaching(String token) {
    return new ClientInterceptor() {
      @Override
      public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
          MethodDescriptor<ReqT, RespT> method, CallOptions callOptions, Channel next) {
        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, callOptions)) {
          @Override
          public void start(Listener<RespT> responseListener, Metadata headers) {
            headers.put(HEADER, token);
            super.start(responseListener, headers);
          }
        };
      }
    };
  }

  /**
   * Lets a call through only when it shows {@code token}; closes any other {@code
   * UNAUTHENTICATED} and runs {@code onRefused}.
   */
  public static ServerInterceptor checking(String token, Runnable onRefused) {
    byte[] expected = token.getBytes(StandardCharsets.US_ASCII);
    return new ServerInterceptor() {
      @Override
      public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
          ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
        String shown = headers.get(HEADER);
        if (shown == null || !MessageDigest.isEqual(expected, shown.getBytes(StandardCharsets.US_ASCII))) {
          onRefused.run();
          call.close(Status.UNAUTHENTICATED.withDescription(shown == null ? "the call has no service token" : "wrong service token"), new Metadata());
          return new ServerCall.Listener<>() {};
        }
        return next.startCall(call, headers);
      }
    };
  }
}
