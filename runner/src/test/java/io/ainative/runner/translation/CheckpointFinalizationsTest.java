package io.ainative.runner.translation;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.is;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.beam.model.fnexecution.v1.BeamFnApi;
import org.apache.beam.runners.fnexecution.control.InstructionRequestHandler;
import org.junit.Before;
import org.junit.Test;

public class CheckpointFinalizationsTest {

  /** The harness's control client, seen from the runner: records what it is asked to finalize. */
  private static final class RecordingHarness implements InstructionRequestHandler {
    final List<String> finalized = new ArrayList<>();
    final List<CompletableFuture<BeamFnApi.InstructionResponse>> answers = new ArrayList<>();

    @Override
    public void registerProcessBundleDescriptor(BeamFnApi.ProcessBundleDescriptor descriptor) {}

    @Override
    public CompletionStage<BeamFnApi.InstructionResponse> handle(BeamFnApi.InstructionRequest request) {
      finalized.add(request.getFinalizeBundle().getInstructionId());
      CompletableFuture<BeamFnApi.InstructionResponse> answer = new CompletableFuture<>();
      answers.add(answer);
      return answer;
    }

    @Override
    public void close() {}
  }

  private RecordingHarness harness;
  private CheckpointFinalizations finalizations;

  @Before
  public void setUp() {
    harness = new RecordingHarness();
    finalizations = new CheckpointFinalizations("stage");
    finalizations.sendTo(harness);
  }

  @Test
  public void aCompletedCheckpoint_finalizesOnlyTheBundlesItsSnapshotHolds() {
    finalizations.requestsFinalization("b1");
    finalizations.snapshotStarted(1);
    finalizations.requestsFinalization("b2");
    finalizations.snapshotStarted(2);
    finalizations.requestsFinalization("b3");

    finalizations.checkpointCompleted(1);
    assertThat(harness.finalized, contains("b1"));

    finalizations.checkpointCompleted(2);
    assertThat(harness.finalized, contains("b1", "b2"));
    assertThat(finalizations.outstanding(), is(1));
  }

  @Test
  public void aSubsumingCheckpoint_finalizesTheEarlierOnesToo() {
    finalizations.requestsFinalization("b1");
    finalizations.snapshotStarted(1);
    finalizations.requestsFinalization("b2");
    finalizations.snapshotStarted(2);

    // Flink may skip the notification of a checkpoint that a later one subsumes.
    finalizations.checkpointCompleted(2);

    assertThat(harness.finalized, contains("b1", "b2"));
    assertThat(finalizations.outstanding(), is(0));
  }

  @Test
  public void anAbortedCheckpoint_finalizesNothing_andTheNextCompletedOneFinalizesItsBundles() {
    finalizations.requestsFinalization("b1");
    finalizations.snapshotStarted(1); // checkpoint 1 is aborted: no notification comes
    finalizations.requestsFinalization("b2");
    finalizations.snapshotStarted(2);
    assertThat(harness.finalized, empty());

    finalizations.checkpointCompleted(2);

    assertThat(harness.finalized, contains("b1", "b2"));
  }

  @Test
  public void aBundleThatEndsAfterTheSnapshotStarted_waitsForTheNextCheckpoint() {
    finalizations.snapshotStarted(1);
    finalizations.requestsFinalization("ended-during-snapshot-1");

    finalizations.checkpointCompleted(1);
    assertThat(harness.finalized, empty());

    finalizations.snapshotStarted(2);
    finalizations.checkpointCompleted(2);
    assertThat(harness.finalized, contains("ended-during-snapshot-1"));
  }

  @Test
  public void withoutCheckpoints_theFinishedStageFinalizesEverything() throws Exception {
    finalizations.requestsFinalization("b1");
    finalizations.requestsFinalization("b2");

    finalizations.finishWithoutCheckpoints();

    assertThat(harness.finalized, contains("b1", "b2"));
    assertThat(finalizations.awaitSent(Duration.ofMillis(10)), is(false));
    harness.answers.forEach(a -> a.complete(BeamFnApi.InstructionResponse.getDefaultInstance()));
    assertThat(finalizations.awaitSent(Duration.ofSeconds(10)), is(true));
  }
}
