package io.ainative.runner.internal;

import java.util.Locale;
import java.util.Objects;
import org.apache.beam.sdk.annotations.Internal;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The parsed value of {@code --flinkMaster}: the embedded MiniCluster, the {@code flink run}
 * context, or the REST endpoint of a Flink cluster.
 */
@Internal
public final class FlinkMaster {

  /** Where the job goes. */
  public enum Kind {
    /** An embedded MiniCluster in this JVM. */
    LOCAL,
    /** The environment of the {@code flink run} context, or {@link #LOCAL} outside it. */
    AUTO,
    /** A Flink cluster's REST endpoint. */
    REMOTE
  }

  private static final String OPTION = "--flinkMaster";

  private final Kind kind;
  private final @Nullable String host;
  private final int port;

  private FlinkMaster(Kind kind, @Nullable String host, int port) {
    this.kind = kind;
    this.host = host;
    this.port = port;
  }

  /**
   * Parses a {@code --flinkMaster} value.
   *
   * @throws IllegalArgumentException naming the option and the value when it is none of {@code
   *     [local]}, {@code [auto]}, {@code host:port}, {@code http(s)://host:port}
   */
  public static FlinkMaster parse(@Nullable String value) {
    if (value == null || value.trim().isEmpty()) {
      throw invalid(value, "it is empty");
    }
    String trimmed = value.trim();
    String lower = trimmed.toLowerCase(Locale.ROOT);
    if (lower.equals("[local]")) {
      return new FlinkMaster(Kind.LOCAL, null, -1);
    }
    if (lower.equals("[auto]")) {
      return new FlinkMaster(Kind.AUTO, null, -1);
    }
    if (lower.startsWith("[")) {
      throw invalid(value, "the only bracketed values are [local] and [auto]");
    }
    String address = trimmed.replaceFirst("^(?i)https?://", "");
    if (address.endsWith("/")) {
      address = address.substring(0, address.length() - 1);
    }
    if (address.contains("/") || address.contains("?") || address.contains("@")) {
      throw invalid(value, "a Flink master is host:port, without a path, query or user");
    }
    int colon = address.lastIndexOf(':');
    if (colon <= 0 || colon == address.length() - 1) {
      throw invalid(value, "the port is missing");
    }
    String host = address.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    if (!host.matches("[A-Za-z0-9._:-]+")) {
      throw invalid(value, "'" + host + "' is not a host name or address");
    }
    String portText = address.substring(colon + 1);
    int port;
    try {
      port = Integer.parseInt(portText);
    } catch (NumberFormatException e) {
      throw invalid(value, "the port '" + portText + "' is not a number");
    }
    if (port < 1 || port > 65_535) {
      throw invalid(value, "the port " + port + " is outside 1..65535");
    }
    return new FlinkMaster(Kind.REMOTE, host, port);
  }

  private static IllegalArgumentException invalid(@Nullable String value, String why) {
    return new IllegalArgumentException(
        String.format(
            "Invalid %s '%s': %s. Use [local] for an embedded Flink MiniCluster, or host:port of a"
                + " Flink cluster's REST endpoint (e.g. localhost:8081).",
            OPTION, value, why));
  }

  public Kind kind() {
    return kind;
  }

  /** The REST host; only for {@link Kind#REMOTE}. */
  public String host() {
    if (host == null) {
      throw new IllegalStateException(kind + " has no host");
    }
    return host;
  }

  /** The REST port; only for {@link Kind#REMOTE}. */
  public int port() {
    if (kind != Kind.REMOTE) {
      throw new IllegalStateException(kind + " has no port");
    }
    return port;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (!(o instanceof FlinkMaster)) {
      return false;
    }
    FlinkMaster that = (FlinkMaster) o;
    return kind == that.kind && port == that.port && Objects.equals(host, that.host);
  }

  @Override
  public int hashCode() {
    return Objects.hash(kind, host, port);
  }

  @Override
  public String toString() {
    return kind == Kind.REMOTE ? host + ":" + port : "[" + kind.name().toLowerCase(Locale.ROOT) + "]";
  }
}
