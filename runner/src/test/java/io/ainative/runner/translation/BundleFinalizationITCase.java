package io.ainative.runner.translation;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;

import io.ainative.runner.AiNativeFlinkRunner;
import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.io.GenerateSequence;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.joda.time.Duration;
import org.joda.time.Instant;
import org.junit.Test;

/**
 * Bundle finalization on the embedded cluster: every bundle that registers a callback has it run,
 * once a checkpoint holding the bundle's output completed, or, in a job without checkpoints, when
 * the stage has finished. (Which bundles a given checkpoint finalizes: {@link
 * CheckpointFinalizationsTest}.)
 */
public class BundleFinalizationITCase {
  static final AtomicLong REGISTERED = new AtomicLong();
  static final AtomicLong FINALIZED = new AtomicLong();

  /** Registers one finalization callback per bundle. */
  static final class FinalizeEachBundle extends DoFn<Long, Long> {
    @ProcessElement
    public void process(@Element Long x, OutputReceiver<Long> out) {
      out.output(x);
    }

    @FinishBundle
    public void finish(BundleFinalizer finalizer) {
      REGISTERED.incrementAndGet();
      finalizer.afterBundleCommit(Instant.now().plus(Duration.standardMinutes(5)), FINALIZED::incrementAndGet);
    }
  }

  private static void run(long checkpointingIntervalMillis) {
    REGISTERED.set(0);
    FINALIZED.set(0);
    AiNativeFlinkPipelineOptions options = PipelineOptionsFactory.create().as(AiNativeFlinkPipelineOptions.class);
    options.setRunner(AiNativeFlinkRunner.class);
    options.setFlinkMaster("[local]");
    options.setParallelism(2);
    options.setNumberOfExecutionRetries(0);
    options.setCheckpointingInterval(checkpointingIntervalMillis);
    Pipeline p = Pipeline.create(options);
    p.apply(GenerateSequence.from(0).to(20_000)).apply(ParDo.of(new FinalizeEachBundle()));
    PipelineResult.State state = p.run().waitUntilFinish();
    assertThat(state, equalTo(PipelineResult.State.DONE));
  }

  @Test
  public void withoutCheckpoints_everyBundleIsFinalizedWhenItsStageHasFinished() {
    run(-1);
    assertThat(REGISTERED.get(), greaterThan(0L));
    assertThat(FINALIZED.get(), equalTo(REGISTERED.get()));
  }

  @Test
  public void withCheckpoints_everyBundleIsFinalizedByACompletedCheckpoint() {
    run(200);
    assertThat(REGISTERED.get(), greaterThan(0L));
    assertThat(FINALIZED.get(), equalTo(REGISTERED.get()));
  }
}
