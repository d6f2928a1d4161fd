package io.ainative.runner.options;

/** Whether inference service calls between JVMs use TLS ({@code --inferenceTls}). */
public enum ServiceTls {
  /** TLS on a remote cluster, plaintext on the embedded cluster (whose services listen on loopback). */
  AUTO,
  /** TLS for every call over TCP; calls within one JVM stay in process. */
  ON,
  /** Plaintext. */
  OFF
}
