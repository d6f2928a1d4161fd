package io.ainative.runner;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.io.GenerateSequence;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.joda.time.Duration;
import org.junit.Test;

/**
 * A stage whose one input element (a bounded read's split) emits far more than 100 MB within one
 * bundle. Beam 2.62's runner side queues at most 100 data messages of a bundle and reads them only
 * after the SDK harness has answered the bundle, while the harness answers only after its output
 * is sent: with 1 MB messages the stage hung at about 100 MB (found with 64x64x3 images in
 * RpcServiceBenchmark). The workaround (runner/README.md, "Known limitations"): larger data
 * messages, {@code --experiments=data_buffer_size_limit=16000000}, which this test passes; without
 * it the test hangs (checked: the job was still running after 3 minutes).
 */
public class LargeBundleOutputITCase {
  private static final int ELEMENTS = 3_000;
  private static final int BYTES = 100_000;

  @Test(timeout = 240_000)
  public void aSplitEmittingHundredsOfMegabytes_inOneBundle_finishes_withLargerDataMessages() {
    AiNativeFlinkPipelineOptions options =
        PipelineOptionsFactory.fromArgs("--experiments=data_buffer_size_limit=16000000").as(AiNativeFlinkPipelineOptions.class);
    options.setRunner(AiNativeFlinkRunner.class);
    options.setFlinkMaster("[local]");
    options.setParallelism(2);
    options.setNumberOfExecutionRetries(0);
    Pipeline p = Pipeline.create(options);
    PAssert.thatSingleton(
            p.apply(GenerateSequence.from(0).to(ELEMENTS))
                .apply(MapElements.into(TypeDescriptor.of(byte[].class)).via(i -> new byte[BYTES]))
                .apply(Count.globally()))
        .isEqualTo((long) ELEMENTS);
    PipelineResult result = p.run();
    assertThat(result.waitUntilFinish(Duration.standardMinutes(3)), equalTo(PipelineResult.State.DONE));
  }
}
