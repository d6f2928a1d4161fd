package io.ainative.runner;

import io.ainative.runner.service.ServiceStatus;
import io.ainative.runner.service.discovery.ServiceControl;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.beam.model.jobmanagement.v1.JobApi;
import org.apache.beam.runners.core.metrics.MetricsContainerStepMap;
import org.apache.beam.runners.flink.metrics.FlinkMetricContainer;
import org.apache.beam.runners.jobsubmission.PortablePipelineResult;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.beam.sdk.metrics.MetricResults;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.client.JobCancellationException;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.joda.time.Duration;

/**
 * The result of a pipeline submitted by {@link AiNativeFlinkRunner}: the Flink job's state, a
 * bounded or unbounded wait, cancellation, and the pipeline's metrics.
 *
 * <p>Thread-safe. {@link #getState()} and {@link #metrics()} ask the cluster while the job runs
 * and answer from the final result once it has ended (an embedded MiniCluster is gone by then).
 * Metrics of a failed job are the last ones read while it ran, or none.
 */
public final class AiNativePipelineResult implements PortablePipelineResult {

  private static final long QUERY_TIMEOUT_SECONDS = 30;

  private final JobClient client;
  private final CompletableFuture<JobExecutionResult> completion;
  private final Map<String, String> serviceClients;
  private volatile @Nullable MetricsContainerStepMap lastMetrics;

  /** Wraps the client of a submitted Flink job that has no inference service to scale. */
  public AiNativePipelineResult(JobClient client) {
    this(client, Map.of());
  }

  /**
   * Wraps the client of a submitted Flink job.
   *
   * @param serviceClients the names its services can be scaled by (RunInference step names, shared
   *     service names), each with the uid of a client operator of the service
   */
  public AiNativePipelineResult(JobClient client, Map<String, String> serviceClients) {
    this.client = client;
    this.completion = client.getJobExecutionResult();
    this.serviceClients = Map.copyOf(serviceClients);
  }

  /** The Flink job's id, e.g. to find it in the Flink web UI or REST API. */
  public JobID getJobId() {
    return client.getJobID();
  }

  /** Completes normally once the Flink job has ended, whichever way it ended. */
  @Internal
  public CompletionStage<Void> ended() {
    return completion.handle((r, t) -> null);
  }

  @Override
  public State getState() {
    if (completion.isDone()) {
      return terminalState();
    }
    try {
      return toBeamState(client.getJobStatus().get(QUERY_TIMEOUT_SECONDS, TimeUnit.SECONDS));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return State.UNKNOWN;
    } catch (ExecutionException | TimeoutException e) {
      // The job may have ended between the two checks; the final result says how.
      return completion.isDone() ? terminalState() : State.UNKNOWN;
    }
  }

  @Override
  public State cancel() {
    if (completion.isDone()) {
      return terminalState();
    }
    try {
      client.cancel().get(QUERY_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while cancelling Flink job " + getJobId(), e);
    } catch (ExecutionException | TimeoutException e) {
      if (!completion.isDone()) {
        throw new IllegalStateException("Could not cancel Flink job " + getJobId(), e);
      }
    }
    State state = waitForTerminal(java.time.Duration.ofSeconds(QUERY_TIMEOUT_SECONDS));
    return state == null ? State.UNKNOWN : state;
  }

  /**
   * Waits at most {@code duration} (less than 1 ms: no limit) for the job to end.
   *
   * @return the final state, or {@code null} if the job is still running
   * @throws Pipeline.PipelineExecutionException if the job failed, with the failure's cause
   */
  @Override
  public @Nullable State waitUntilFinish(Duration duration) {
    java.time.Duration limit =
        duration == null || duration.getMillis() < 1 ? null : java.time.Duration.ofMillis(duration.getMillis());
    State state = waitForTerminal(limit);
    if (state == State.FAILED) {
      throw new Pipeline.PipelineExecutionException(FailureCauses.userFacingCause(failure()));
    }
    return state;
  }

  @Override
  public State waitUntilFinish() {
    State state = waitUntilFinish(Duration.ZERO);
    return state == null ? State.UNKNOWN : state;
  }

  /**
   * Runs {@code activeInstances} instances of an inference service from now on, without restarting
   * anything: parked instances are activated (they load and warm up their model before they get
   * requests), or active ones are parked (out of the membership first, then they drain the
   * requests they accepted, at most {@code --inferenceDrainTimeoutMillis}, and free their model,
   * server and threads). Returns once the service accepted the count, with its status then; the
   * loading and draining go on in the background ({@link #serviceStatus} shows them, {@link
   * ServiceStatus#settled()} says when they are done).
   *
   * @param serviceOrStepName the name of the RunInference step the service serves, or of the shared
   *     service ({@code withSharedService})
   * @param activeInstances between 1 and the service's {@code maxInstances} ({@code
   *     --maxInferenceInstances}, or its instances); a service that scales by load keeps this count
   *     until {@link #releaseServiceScale}
   * @throws IllegalArgumentException for an unknown name, or a count out of bounds (naming the
   *     service and the bounds)
   * @throws IllegalStateException when the job has ended, the service is not running yet or is
   *     finishing, or it did not answer in time
   */
  public ServiceStatus scaleService(String serviceOrStepName, int activeInstances) {
    String clientUid = clientOf(serviceOrStepName);
    return ServiceControl.scale(ServiceControl.gatewayOf(client), clientUid, activeInstances, TimeUnit.SECONDS.toMillis(QUERY_TIMEOUT_SECONDS));
  }

  /**
   * Lets a service that scales by load ({@code --inferenceAutoscaleTargetOngoing}) choose its count
   * again after {@link #scaleService} pinned it; returns its status.
   *
   * @throws IllegalArgumentException for an unknown name, or a service that does not scale by load
   * @throws IllegalStateException as for {@link #scaleService}
   */
  public ServiceStatus releaseServiceScale(String serviceOrStepName) {
    String clientUid = clientOf(serviceOrStepName);
    return ServiceControl.releaseScale(ServiceControl.gatewayOf(client), clientUid, TimeUnit.SECONDS.toMillis(QUERY_TIMEOUT_SECONDS));
  }

  /**
   * The status of an inference service: how many instances it should run, and what each reserved
   * task does (loading, ready, draining, parked), with the requests each received.
   *
   * @throws IllegalArgumentException for an unknown name
   * @throws IllegalStateException when the job has ended or the service is not running yet
   */
  public ServiceStatus serviceStatus(String serviceOrStepName) {
    String clientUid = clientOf(serviceOrStepName);
    return ServiceControl.status(ServiceControl.gatewayOf(client), clientUid, TimeUnit.SECONDS.toMillis(QUERY_TIMEOUT_SECONDS));
  }

  private String clientOf(String serviceOrStepName) {
    String clientUid = serviceClients.get(serviceOrStepName);
    if (clientUid == null) {
      throw new IllegalArgumentException(
          "No inference service named '" + serviceOrStepName + "' in job " + getJobId() + "; its services are "
              + new java.util.TreeSet<>(serviceClients.keySet()));
    }
    if (completion.isDone()) {
      throw new IllegalStateException("Job " + getJobId() + " has ended (" + terminalState() + "): its services are gone");
    }
    return clientUid;
  }

  /**
   * The pipeline's metrics, by the user's step names: the SDK harness reports them as monitoring
   * infos (step, namespace and name in labels), read here as a portable SDK would read them.
   */
  @Override
  public MetricResults metrics() {
    return UserMetrics.of(currentStepMap().getMonitoringInfos());
  }

  /** The metrics as the job API sends them to a portable SDK (Python's {@code PortableRunner}). */
  @Override
  public JobApi.MetricResults portableMetrics() {
    return JobApi.MetricResults.newBuilder().addAllAttempted(currentStepMap().getMonitoringInfos()).build();
  }

  private MetricsContainerStepMap currentStepMap() {
    MetricsContainerStepMap stepMap = null;
    if (completion.isDone() && !completion.isCompletedExceptionally()) {
      stepMap = stepMap(completion.join().getAllAccumulatorResults());
    } else if (!completion.isDone()) {
      try {
        stepMap = stepMap(client.getAccumulators().get(QUERY_TIMEOUT_SECONDS, TimeUnit.SECONDS));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (ExecutionException | TimeoutException | IllegalStateException e) {
        // No answer, or the job ended meanwhile and its embedded cluster is gone (Flink's
        // MiniCluster then throws): take the final results if they are in, else what was read last.
        if (completion.isDone() && !completion.isCompletedExceptionally()) {
          stepMap = stepMap(completion.join().getAllAccumulatorResults());
        }
      }
    }
    if (stepMap != null) {
      lastMetrics = stepMap;
    } else {
      stepMap = lastMetrics;
    }
    return stepMap == null ? new MetricsContainerStepMap() : stepMap;
  }

  private static @Nullable MetricsContainerStepMap stepMap(@Nullable Map<String, Object> accumulators) {
    if (accumulators == null) {
      return null;
    }
    Object value = accumulators.get(FlinkMetricContainer.ACCUMULATOR_NAME);
    return value instanceof MetricsContainerStepMap ? (MetricsContainerStepMap) value : null;
  }

  private @Nullable State waitForTerminal(java.time.@Nullable Duration limit) {
    try {
      if (limit == null) {
        completion.handle((r, t) -> null).get();
      } else {
        completion.handle((r, t) -> null).get(limit.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (TimeoutException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    } catch (ExecutionException e) {
      throw new IllegalStateException("unreachable: handle() does not fail", e);
    }
    return terminalState();
  }

  private State terminalState() {
    if (!completion.isCompletedExceptionally()) {
      return State.DONE;
    }
    Throwable failure = failure();
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof JobCancellationException) {
        return State.CANCELLED;
      }
    }
    return State.FAILED;
  }

  private Throwable failure() {
    try {
      completion.join();
      throw new IllegalStateException("the job did not fail");
    } catch (java.util.concurrent.CompletionException | java.util.concurrent.CancellationException e) {
      return e.getCause() == null ? e : e.getCause();
    }
  }

  static State toBeamState(JobStatus status) {
    switch (status) {
      case INITIALIZING:
      case CREATED:
      case SUSPENDED:
        return State.STOPPED;
      case RUNNING:
      case RESTARTING:
      case FAILING:
      case CANCELLING:
      case RECONCILING:
        return State.RUNNING;
      case FINISHED:
        return State.DONE;
      case CANCELED:
        return State.CANCELLED;
      case FAILED:
        return State.FAILED;
      default:
        return State.UNKNOWN;
    }
  }

  @Override
  public String toString() {
    return "AiNativePipelineResult{job=" + getJobId() + "}";
  }
}
