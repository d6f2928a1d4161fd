package io.ainative.runner.jobserver;

import java.util.ArrayList;
import java.util.List;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.runners.fnexecution.environment.ExternalEnvironmentFactory;
import org.apache.beam.sdk.util.construction.BeamUrns;
import org.apache.beam.vendor.grpc.v1p60p1.com.google.protobuf.InvalidProtocolBufferException;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Says in words what went wrong when a job failed because an SDK environment could not be
 * started. The job service shows the SDK only the root cause's {@code toString()}; Beam's root
 * cause for an unreachable worker pool is a bare {@code ConnectException} that names no address.
 */
final class EnvironmentFailures {

  private static final String EXTERNAL_URN =
      BeamUrns.getUrn(RunnerApi.StandardEnvironments.Environments.EXTERNAL);

  private EnvironmentFailures() {}

  /**
   * A failure, without a cause (so that it is the root cause the job service reports), that names
   * the worker pools of the pipeline's {@code EXTERNAL} environments when {@code failure} came from
   * starting a worker through one of them; the original is attached as suppressed. Null when
   * {@code failure} is something else.
   */
  static @Nullable RuntimeException explain(Throwable failure, RunnerApi.Pipeline pipeline) {
    if (!fromExternalEnvironment(failure)) {
      return null;
    }
    List<String> pools = new ArrayList<>();
    pipeline.getComponents().getEnvironmentsMap().forEach((id, environment) -> {
      if (EXTERNAL_URN.equals(environment.getUrn())) {
        pools.add(id + " at " + address(environment));
      }
    });
    IllegalStateException explained =
        new IllegalStateException(
            "Could not start an SDK worker through the worker pool of an EXTERNAL environment ("
                + String.join(", ", pools) + "): " + rootMessage(failure)
                + ". Is the worker pool running (e.g. python -m apache_beam.runners.worker.worker_pool_main"
                + " --service_port=PORT) and reachable from the Flink TaskManagers at the address given with"
                + " --environment_config?");
    explained.addSuppressed(failure);
    return explained;
  }

  private static boolean fromExternalEnvironment(Throwable failure) {
    String factory = ExternalEnvironmentFactory.class.getName();
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      for (StackTraceElement frame : t.getStackTrace()) {
        if (frame.getClassName().equals(factory)) {
          return true;
        }
      }
    }
    return false;
  }

  private static String address(RunnerApi.Environment environment) {
    try {
      return RunnerApi.ExternalPayload.parseFrom(environment.getPayload()).getEndpoint().getUrl();
    } catch (InvalidProtocolBufferException e) {
      return "(unreadable payload)";
    }
  }

  private static String rootMessage(Throwable failure) {
    Throwable root = failure;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return String.valueOf(root.getMessage());
  }
}
