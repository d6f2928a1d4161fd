package io.ainative.runner.translation;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThan;

import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import io.ainative.runner.AiNativeFlinkRunner;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.io.GenerateSequence;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.joda.time.Duration;
import org.junit.Test;

/**
 * An unbounded read (Beam's SDF over an unbounded source) checkpoints itself every bundle. Each
 * residual used to register a keyed state of its own in Flink and stay there; now the residuals
 * share one state, and a residual whose timer fired is gone.
 */
public class StageOperatorITCase {
  static final AtomicLong READ = new AtomicLong();

  static final class CountRead extends DoFn<Long, Void> {
    @ProcessElement
    public void process(@Element Long x) {
      READ.incrementAndGet();
    }
  }

  @Test
  public void selfCheckpointsOfAnUnboundedRead_leaveBoundedKeyedState() throws Exception {
    READ.set(0);
    long residualsBefore = StageOperator.RESIDUALS_WRITTEN.get();
    StageOperator.entriesAtLastClose = -1;
    AiNativeFlinkPipelineOptions options = PipelineOptionsFactory.create().as(AiNativeFlinkPipelineOptions.class);
    options.setRunner(AiNativeFlinkRunner.class);
    options.setFlinkMaster("[local]");
    options.setParallelism(1);
    options.setNumberOfExecutionRetries(0);
    Pipeline p = Pipeline.create(options);
    p.apply(GenerateSequence.from(0).withRate(50, Duration.standardSeconds(1))).apply(ParDo.of(new CountRead()));

    PipelineResult result = p.run();
    try {
      long deadline = System.nanoTime() + 60_000_000_000L;
      while ((READ.get() < 100 || StageOperator.RESIDUALS_WRITTEN.get() - residualsBefore < 1_000)
          && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
    } finally {
      result.cancel();
    }
    result.waitUntilFinish();

    long residuals = StageOperator.RESIDUALS_WRITTEN.get() - residualsBefore;
    assertThat("elements read", READ.get(), greaterThan(99L));
    assertThat("residuals kept by the splittable stage", residuals, greaterThan(999L));
    assertThat("the splittable stage closed on the heap backend", StageOperator.entriesAtLastClose >= 0, is(true));
    // One cell and one counter per residual still waiting for its timer; each residual used to stay.
    assertThat(
        "keyed state entries left after " + residuals + " residuals",
        (long) StageOperator.entriesAtLastClose,
        lessThan(100L));
  }
}
