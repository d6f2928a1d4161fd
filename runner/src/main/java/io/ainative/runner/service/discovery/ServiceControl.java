package io.ainative.runner.service.discovery;

import io.ainative.runner.service.ServiceStatus;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.operators.coordination.CoordinationRequest;
import org.apache.flink.runtime.operators.coordination.CoordinationRequestGateway;
import org.apache.flink.runtime.operators.coordination.CoordinationResponse;
import org.apache.flink.shaded.guava31.com.google.common.hash.Hashing;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Scaling and status requests from a job's client to a running service.
 *
 * <p>The route: the client sends a coordination request (Flink's {@code JobClient} of a MiniCluster
 * or a cluster is a {@link CoordinationRequestGateway}) to the coordinator of one of the service's
 * client operators ({@code RpcClientCoordinator}), found by its operator id; that coordinator hands
 * it through the {@link ServiceLink} to the service's enumerator, which scales and answers. (Flink
 * 1.19's {@code SourceCoordinator} does not pass coordination requests on to its enumerator, so the
 * service's own coordinator cannot be asked directly.)
 */
@Internal
public final class ServiceControl {
  private ServiceControl() {}

  /**
   * Asks for the status; first scales when {@code scale} is set (which pins the count of a service
   * that scales by load), or hands the count back to its autoscaler when {@code release} is.
   */
  public static final class Request implements CoordinationRequest {
    private static final long serialVersionUID = 1L;
    public final boolean scale;
    /** The instances to run, when {@link #scale}. */
    public final int activeInstances;
    public final boolean release;

    private Request(boolean scale, int activeInstances, boolean release) {
      this.scale = scale;
      this.activeInstances = activeInstances;
      this.release = release;
    }

    static Request status() {
      return new Request(false, 0, false);
    }

    static Request scaleTo(int activeInstances) {
      return new Request(true, activeInstances, false);
    }

    static Request releaseScale() {
      return new Request(false, 0, true);
    }

    @Override
    public String toString() {
      return scale ? "scale to " + activeInstances : release ? "release the scale" : "status";
    }
  }

  /** The status after the request, or why it was refused. */
  public static final class Response implements CoordinationResponse {
    private static final long serialVersionUID = 1L;
    final @Nullable ServiceStatus status;
    final @Nullable String refusal;
    /** The refusal is about the request's value (else about the service's state). */
    final boolean badArgument;

    public Response(@Nullable ServiceStatus status, @Nullable String refusal, boolean badArgument) {
      this.status = status;
      this.refusal = refusal;
      this.badArgument = badArgument;
    }
  }

  /** Sends a coordination request to one operator's coordinator of one job. */
  @FunctionalInterface
  public interface Gateway {
    CompletableFuture<CoordinationResponse> send(OperatorID operator, CoordinationRequest request);
  }

  /** The gateway of a job's own client (a MiniCluster's or a cluster's {@code JobClient}). */
  public static Gateway gatewayOf(JobClient job) {
    if (!(job instanceof CoordinationRequestGateway)) {
      throw new UnsupportedOperationException(
          "The client of Flink job " + job.getJobID() + " (" + job.getClass().getName() + ") cannot send coordination requests");
    }
    return ((CoordinationRequestGateway) job)::sendCoordinationRequest;
  }

  /** The status of the service that the client operator with uid {@code clientUid} calls. */
  public static ServiceStatus status(Gateway job, String clientUid, long timeoutMillis) {
    return send(job, clientUid, Request.status(), timeoutMillis);
  }

  /**
   * Scales the service that the client operator with uid {@code clientUid} calls to {@code
   * activeInstances}, and returns its status right after (the new instances load, the parked ones
   * drain, in the background).
   *
   * @throws IllegalArgumentException when the service refuses the count (out of its bounds), with
   *     its reason
   * @throws IllegalStateException when the job cannot be reached, or the service has not started or
   *     is finishing
   */
  public static ServiceStatus scale(Gateway job, String clientUid, int activeInstances, long timeoutMillis) {
    return send(job, clientUid, Request.scaleTo(activeInstances), timeoutMillis);
  }

  /**
   * Lets the service that the client operator with uid {@code clientUid} calls scale itself by load
   * again, after a {@link #scale} pinned its count; returns its status.
   *
   * @throws IllegalArgumentException when the service does not scale by load
   */
  public static ServiceStatus releaseScale(Gateway job, String clientUid, long timeoutMillis) {
    return send(job, clientUid, Request.releaseScale(), timeoutMillis);
  }

  private static ServiceStatus send(Gateway job, String clientUid, Request request, long timeoutMillis) {
    CoordinationResponse answer;
    try {
      answer = job.send(clientOperatorId(clientUid), request).get(timeoutMillis, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while asking the service of '" + clientUid + "'", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("The service of '" + clientUid + "' did not answer: " + e.getMessage(), e);
    }
    Response response = (Response) answer;
    if (response.refusal != null) {
      throw response.badArgument ? new IllegalArgumentException(response.refusal) : new IllegalStateException(response.refusal);
    }
    return response.status;
  }

  /**
   * The operator id Flink gives the operator whose uid is {@code uid}: the 128-bit murmur3 hash of
   * the uid, as Flink's {@code StreamGraphHasherV2} computes it for a user-specified id. The client
   * operator of a RunInference step has the step's name as its uid.
   */
  static OperatorID clientOperatorId(String uid) {
    return new OperatorID(Hashing.murmur3_128(0).newHasher().putString(uid, StandardCharsets.UTF_8).hash().asBytes());
  }
}
