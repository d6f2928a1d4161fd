package io.ainative.harness.fnapi;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.beam.fn.harness.Caches;
import org.apache.beam.fn.harness.FnHarness;
import org.apache.beam.model.pipeline.v1.Endpoints.ApiServiceDescriptor;
import org.apache.beam.model.pipeline.v1.RunnerApi.StandardRunnerProtocols;
import org.apache.beam.runners.fnexecution.control.ControlClientPool;
import org.apache.beam.runners.fnexecution.control.InstructionRequestHandler;
import org.apache.beam.sdk.fn.channel.ManagedChannelFactory;
import org.apache.beam.sdk.fn.stream.OutboundObserverFactory;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.util.construction.BeamUrns;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run of Beam's Java SDK harness ({@link FnHarness#main}) on a thread of its own in this
 * process, connected through in-process channels to the servers of one environment.
 *
 * <p>Lifecycle: {@link #start} returns once the harness has connected its control stream; {@link
 * #requestEnd} closes that stream, upon which the harness tears its DoFns down, closes its log
 * stream itself, and returns from {@code main}; {@link #awaitEnd} waits for that. Only after it may
 * the environment's servers be closed without the harness logging a failure. Once the harness has
 * ended, the runner's servers hanging up on the streams it left open (Beam's harness never closes
 * its data streams) end them normally for it ({@link EndedHarnessCalls}).
 *
 * <p>Threading: {@link #requestEnd} and {@link #awaitEnd} may be called from any thread, more than
 * once.
 */
final class EmbeddedHarness {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedHarness.class);

  /** How long {@link #awaitEnd} waits for the harness to return from {@code main}. */
  static final Duration END_WAIT = Duration.ofSeconds(30);

  private static final Duration CONNECT_POLL = Duration.ofSeconds(5);

  private final String workerId;
  private final EndedHarnessCalls calls = new EndedHarnessCalls();
  private final CompletableFuture<Void> ended = new CompletableFuture<>();
  private volatile InstructionRequestHandler control;
  private volatile long endRequestedNanos;

  private EmbeddedHarness(String workerId) {
    this.workerId = workerId;
  }

  /**
   * Starts a harness as worker {@code workerId} and returns once its control client is in {@code
   * clients}. Blocks.
   *
   * @throws IllegalStateException if the harness ended before it connected
   */
  static EmbeddedHarness start(
      String workerId,
      PipelineOptions options,
      ApiServiceDescriptor logging,
      ApiServiceDescriptor control,
      ControlClientPool.Source clients)
      throws Exception {
    HarnessChannelReports.install();
    EmbeddedHarness harness = new EmbeddedHarness(workerId);
    Thread thread = new Thread(() -> harness.run(options, logging, control), "ainative-sdk-harness-" + workerId);
    thread.setDaemon(true);
    thread.start();
    harness.control = harness.connect(clients);
    return harness;
  }

  private void run(PipelineOptions options, ApiServiceDescriptor logging, ApiServiceDescriptor control) {
    try {
      FnHarness.main(
          workerId,
          options,
          // as Beam's EmbeddedEnvironmentFactory: the runner side reads outputs embedded in responses
          Set.of(BeamUrns.getUrn(StandardRunnerProtocols.Enum.CONTROL_RESPONSE_ELEMENTS_EMBEDDING)),
          logging,
          control,
          null,
          ManagedChannelFactory.createInProcess().withInterceptors(List.of(calls)),
          OutboundObserverFactory.clientDirect(),
          Caches.fromOptions(options));
      calls.harnessEnded();
      ended.complete(null);
    } catch (Exception | Error e) {
      // FnHarness.main logs its own failures and returns; what reaches here is thrown past it (a
      // class missing from the classpath, typically): connect throws it, or awaitEnd logs it.
      calls.harnessEnded();
      ended.completeExceptionally(e);
    }
  }

  private InstructionRequestHandler connect(ControlClientPool.Source clients) throws Exception {
    while (true) {
      if (ended.isDone()) {
        Throwable cause = failureCause();
        throw new IllegalStateException(
            "the in-process SDK harness " + workerId + " ended before it connected: "
                + (cause == null ? "FnHarness.main returned (it logged why)" : cause.toString())
                + (cause instanceof LinkageError ? " (beam-sdks-java-harness and its dependencies must be on the classpath)" : ""),
            cause);
      }
      try {
        return clients.take(workerId, CONNECT_POLL);
      } catch (TimeoutException e) {
        LOG.info("Still waiting for the in-process SDK harness {} to connect", workerId);
      }
    }
  }

  /** The harness's control client (runner side). */
  InstructionRequestHandler control() {
    return control;
  }

  /** Closes the harness's control stream: the harness then ends on its own threads. */
  void requestEnd() {
    if (endRequestedNanos == 0) {
      endRequestedNanos = System.nanoTime();
    }
    try {
      control.close();
    } catch (Exception e) {
      LOG.warn("Closing the control stream of the in-process SDK harness {} failed", workerId, e);
    }
  }

  /** Waits, at most {@link #END_WAIT}, for the harness to return from {@code main}. */
  void awaitEnd() {
    boolean running = !ended.isDone();
    try {
      ended.get(END_WAIT.toMillis(), TimeUnit.MILLISECONDS);
      if (running) {
        LOG.debug("The in-process SDK harness {} ended {} ms after its control stream closed",
            workerId, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - endRequestedNanos));
      }
    } catch (TimeoutException e) {
      LOG.warn("The in-process SDK harness {} did not end within {} s of its control stream closing; its servers close anyway",
          workerId, END_WAIT.toSeconds());
    } catch (ExecutionException e) {
      LOG.warn("The in-process SDK harness {} failed", workerId, e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private Throwable failureCause() {
    try {
      ended.getNow(null);
      return null;
    } catch (CompletionException e) {
      return e.getCause();
    }
  }
}
