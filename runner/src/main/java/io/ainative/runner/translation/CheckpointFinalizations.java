package io.ainative.runner.translation;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.beam.model.fnexecution.v1.BeamFnApi.FinalizeBundleRequest;
import org.apache.beam.model.fnexecution.v1.BeamFnApi.InstructionRequest;
import org.apache.beam.model.fnexecution.v1.BeamFnApi.InstructionResponse;
import org.apache.beam.runners.fnexecution.control.BundleFinalizationHandler;
import org.apache.beam.runners.fnexecution.control.InstructionRequestHandler;

/**
 * A stage's bundle finalizations, each run only once a checkpoint that holds the bundle's output
 * has completed (Beam's portable Flink operator finalizes every outstanding bundle whenever any
 * checkpoint completes, including bundles whose output only a later checkpoint holds).
 *
 * <p>A bundle that asks for finalization when it ends is <em>pending</em>. When the operator's
 * snapshot for checkpoint {@code n} starts ({@link #snapshotStarted}), every pending bundle is
 * recorded against {@code n}: its output was emitted before the barrier, so checkpoint {@code n}
 * holds it. {@link #checkpointCompleted}({@code n}) finalizes exactly the bundles recorded against
 * checkpoints {@code <= n}. A bundle that ends while the snapshot finishes the open bundle is
 * recorded against the next checkpoint (later than needed, never early). An aborted checkpoint
 * finalizes nothing: its bundles stay recorded and the next completed checkpoint, which also holds
 * their output, finalizes them. A job without checkpoints finalizes everything when the stage
 * finishes ({@link #finishWithoutCheckpoints}).
 *
 * <p>Across a failure nothing is re-driven: the callbacks live in the SDK harness, which a restart
 * replaces, and the bundles whose output the restored checkpoint did not hold run again and ask
 * again. So no callback runs for output that was rolled back; a callback whose checkpoint completed
 * but whose notification the failure overtook does not run.
 *
 * <p>Called on the task thread (bundles end, snapshots and notifications all run there);
 * synchronized all the same.
 */
final class CheckpointFinalizations implements BundleFinalizationHandler {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(CheckpointFinalizations.class);
  private static final AtomicLong REQUESTS = new AtomicLong();

  private final String stepName;
  private InstructionRequestHandler harness;
  private final List<String> pending = new ArrayList<>();
  private final TreeMap<Long, List<String>> byCheckpoint = new TreeMap<>();
  private final List<CompletableFuture<?>> sent = new ArrayList<>();

  CheckpointFinalizations(String stepName) {
    this.stepName = stepName;
  }

  /** Where finalizations are sent: the control client of the stage's SDK harness. */
  synchronized void sendTo(InstructionRequestHandler harness) {
    this.harness = harness;
  }

  @Override
  public synchronized void requestsFinalization(String bundleId) {
    pending.add(bundleId);
  }

  /** Records every pending bundle against {@code checkpointId}, whose snapshot starts now. */
  synchronized void snapshotStarted(long checkpointId) {
    if (!pending.isEmpty()) {
      byCheckpoint.computeIfAbsent(checkpointId, id -> new ArrayList<>()).addAll(pending);
      pending.clear();
    }
  }

  /** Finalizes the bundles recorded against checkpoints up to and including {@code checkpointId}. */
  synchronized void checkpointCompleted(long checkpointId) {
    Map<Long, List<String>> covered = byCheckpoint.headMap(checkpointId, true);
    for (List<String> bundles : covered.values()) {
      bundles.forEach(this::finalizeBundle);
    }
    covered.clear();
  }

  /**
   * Waits up to {@code timeout} for the harness to answer every finalization sent so far, so that
   * callbacks run before the stage closes its harness. Returns whether all were answered.
   */
  boolean awaitSent(Duration timeout) throws InterruptedException {
    List<CompletableFuture<?>> waiting;
    synchronized (this) {
      sent.removeIf(CompletableFuture::isDone);
      waiting = new ArrayList<>(sent);
    }
    try {
      CompletableFuture.allOf(waiting.toArray(new CompletableFuture<?>[0])).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (ExecutionException e) {
      return true; // each failure is logged where it happens
    }
  }

  /** Finalizes every bundle, recorded or pending: for a stage that finished in a job without checkpoints. */
  synchronized void finishWithoutCheckpoints() {
    byCheckpoint.values().forEach(bundles -> bundles.forEach(this::finalizeBundle));
    byCheckpoint.clear();
    pending.forEach(this::finalizeBundle);
    pending.clear();
  }

  /** Bundles not yet finalized: pending, and recorded against each checkpoint. */
  synchronized int outstanding() {
    return pending.size() + byCheckpoint.values().stream().mapToInt(List::size).sum();
  }

  private void finalizeBundle(String bundleId) {
    if (harness == null) {
      throw new IllegalStateException("Stage " + stepName + " finalizes bundle " + bundleId + " before its harness is known");
    }
    InstructionRequest request =
        InstructionRequest.newBuilder()
            .setInstructionId("finalize-" + REQUESTS.incrementAndGet())
            .setFinalizeBundle(FinalizeBundleRequest.newBuilder().setInstructionId(bundleId))
            .build();
    sent.removeIf(CompletableFuture::isDone);
    CompletableFuture<InstructionResponse> answer = harness.handle(request).toCompletableFuture();
    sent.add(answer);
    answer.whenComplete(
            (response, failure) -> {
              String error = failure != null ? failure.toString() : response.getError();
              if (!error.isEmpty()) {
                LOG.warn("Stage {}: finalizing bundle {} failed: {}", stepName, bundleId, error);
              }
            });
  }
}
