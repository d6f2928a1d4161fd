package io.ainative.runner.service.discovery;

import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.beam.sdk.annotations.Internal;

/**
 * The in-process endpoints of the service instances this JVM serves (gRPC's in-process transport,
 * by name). An instance advertises its name next to its host and port; a client that finds the
 * name here runs in the same JVM, and with the same gRPC classes, as the instance, and reaches it
 * in process: requests and answers are handed over as objects, with no serialization, no copy and
 * no TCP. A client anywhere else finds nothing here and uses the port.
 */
@Internal
public final class LocalEndpoints {
  private static final Set<String> SERVING = ConcurrentHashMap.newKeySet();

  private LocalEndpoints() {}

  /** A name no other instance, in this JVM or another, has. */
  public static String newName(int subtask) {
    return "ainative-instance-" + subtask + "-" + UUID.randomUUID();
  }

  public static void serving(String name) {
    SERVING.add(name);
  }

  public static void stopped(String name) {
    SERVING.remove(name);
  }

  public static boolean isServing(String name) {
    return SERVING.contains(name);
  }
}
