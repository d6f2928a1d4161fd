package io.ainative.runner.service.client;

import io.ainative.runner.service.discovery.CallToken;
import io.ainative.runner.service.discovery.InstanceInfo;
import io.ainative.runner.service.discovery.LocalEndpoints;
import io.ainative.runner.service.discovery.TlsIdentity;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.slf4j.Logger;

/**
 * A client operator's connections to the ready instances of its service, kept to the membership
 * its coordinator lists, and the choice of the instance a request goes to: the routable one with
 * the fewest outstanding elements, ties to the one picked longest ago. An instance that left the
 * membership is let go after its last answer ({@link #closeIfIdle}); one let go or lost ({@link
 * #drop}) is not connected again, even if a membership still lists it. Task thread only.
 *
 * <p>The pool owns the channels: {@link #closeAll} shuts down those still open.
 *
 * @param <I> the client's connection to one instance
 */
final class InstancePool<I extends InstancePool.Instance> {
  /** How long routing skips an instance that refused, broke or failed a request. */
  private static final long REFUSED_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

  private final BiFunction<InstanceInfo, ManagedChannel, I> connector;
  /** Whether an instance serving in this JVM is reached in process rather than by its port. */
  private final boolean inProcess;
  /** The certificate instances present over TCP, or null for plaintext. */
  private final @Nullable TlsIdentity tls;
  /** Shows the service's token on every call. */
  private final ClientInterceptor token;
  private final Logger log;
  private final String description;
  private final Map<String, I> instances = new HashMap<>();
  /** Instances let go or lost. */
  private final Set<String> gone = new HashSet<>();
  private long version;
  private long picks;

  /**
   * @param connector makes the client's connection to a newly listed instance over its channel
   * @param inProcess reach an instance that serves in this JVM in process ({@link LocalEndpoints})
   * @param token the service's call token ({@link CallToken})
   * @param tls what instances present over TCP ({@link TlsIdentity}), or null for plaintext
   * @param log where connections are logged, as {@code description}
   */
  InstancePool(
      BiFunction<InstanceInfo, ManagedChannel, I> connector,
      boolean inProcess,
      String token,
      @Nullable TlsIdentity tls,
      Logger log,
      String description) {
    this.connector = connector;
    this.tls = tls;
    this.token = CallToken.attaching(token);
    this.inProcess = inProcess;
    this.log = log;
    this.description = description;
  }

  /**
   * Connects to the instances {@code m} lists anew and retires those it no longer lists, unless it
   * is older than one applied already; returns whether it was applied.
   */
  boolean apply(ClientEvents.Membership m) {
    if (m.version <= version) {
      return false;
    }
    version = m.version;
    Set<String> listed = new HashSet<>();
    for (InstanceInfo info : m.instances) {
      listed.add(info.id());
      if (!instances.containsKey(info.id()) && !gone.contains(info.id())) {
        boolean local = inProcess && info.localName() != null && LocalEndpoints.isServing(info.localName());
        ManagedChannel channel =
            local
                ? InProcessChannelBuilder.forName(info.localName()).maxInboundMessageSize(Integer.MAX_VALUE).intercept(token).build()
                : tcpChannel(info);
        instances.put(info.id(), connector.apply(info, channel));
        log.info("{}: connected to {}{}", description, info, local ? " in process" : tls != null ? " over TLS" : "");
      }
    }
    for (I c : new ArrayList<>(instances.values())) {
      if (!listed.contains(c.info.id())) {
        c.retired = true;
        closeIfIdle(c);
      }
    }
    return true;
  }

  private ManagedChannel tcpChannel(InstanceInfo info) {
    NettyChannelBuilder builder = NettyChannelBuilder.forAddress(info.host(), info.port()).maxInboundMessageSize(Integer.MAX_VALUE).intercept(token);
    if (tls == null) {
      return builder.usePlaintext().build();
    }
    try (InputStream certificate = tls.certificate()) {
      builder.sslContext(GrpcSslContexts.forClient().trustManager(certificate).build());
    } catch (IOException e) {
      throw new IllegalStateException(description + ": unusable TLS certificate for " + info, e);
    }
    if (tls.authority() != null) {
      builder.overrideAuthority(tls.authority());
    }
    return builder.build();
  }

  /** The routable instance with the fewest outstanding elements; ties go to the one picked longest ago. */
  @Nullable I pick() {
    I best = null;
    for (I c : instances.values()) {
      if (c.routable()
          && (best == null
              || c.outstanding < best.outstanding
              || (c.outstanding == best.outstanding && c.lastPicked < best.lastPicked))) {
        best = c;
      }
    }
    if (best != null) {
      best.lastPicked = ++picks;
    }
    return best;
  }

  /** How many instances are routable now. */
  int routable() {
    int n = 0;
    for (I c : instances.values()) {
      if (c.routable()) {
        n++;
      }
    }
    return n;
  }

  boolean hasRoutable() {
    return routable() > 0;
  }

  /** Lets {@code c} go if it left the membership (e.g. parked) and has answered everything it was sent. */
  void closeIfIdle(I c) {
    if (c.outstanding == 0 && c.retired && !c.dead) {
      forget(c);
      c.close();
    }
  }

  /** {@code c} is lost (its connection broke): forgets it and closes its channel at once. */
  void drop(I c) {
    forget(c);
    c.channel.shutdownNow();
  }

  /** Shuts every channel still open down at once (the operator closes). */
  void closeAll() {
    for (I c : instances.values()) {
      c.channel.shutdownNow();
    }
    instances.clear();
  }

  private void forget(I c) {
    c.dead = true;
    instances.remove(c.info.id());
    gone.add(c.info.id());
  }

  /** A connection to one instance; task thread only. */
  static class Instance {
    final InstanceInfo info;
    final ManagedChannel channel;
    /** Elements sent to it and not answered. */
    int outstanding;
    /** Left the membership: gets nothing new, is let go after its last answer. */
    boolean retired;
    /** Let go or lost. */
    boolean dead;
    long refusedUntilNanos;
    long lastPicked;

    Instance(InstanceInfo info, ManagedChannel channel) {
      this.info = info;
      this.channel = channel;
      this.refusedUntilNanos = System.nanoTime();
    }

    boolean routable() {
      return !retired && !dead && System.nanoTime() - refusedUntilNanos >= 0;
    }

    /** It refused, broke or failed a request: routing skips it for a while. */
    final void backOff() {
      refusedUntilNanos = System.nanoTime() + REFUSED_BACKOFF_NANOS;
    }

    /** Lets the instance go once it has answered everything; an override ends its calls first. */
    void close() {
      channel.shutdown();
    }

    @Override
    public String toString() {
      return info.toString();
    }
  }
}
