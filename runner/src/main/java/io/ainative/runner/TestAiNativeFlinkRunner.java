package io.ainative.runner;

import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineRunner;
import org.apache.beam.sdk.options.PipelineOptions;

/**
 * {@link AiNativeFlinkRunner} for {@code TestPipeline}: runs the pipeline to its end, and turns a
 * failed {@code PAssert} (thrown in this JVM or reported as text by the SDK harness) back into
 * an {@link AssertionError}.
 *
 * <p>Unless the options say otherwise it uses parallelism 1 and no restarts, so that a failing
 * test fails at once instead of retrying.
 */
public class TestAiNativeFlinkRunner extends PipelineRunner<AiNativePipelineResult> {

  private final AiNativeFlinkRunner delegate;

  private TestAiNativeFlinkRunner(AiNativeFlinkRunner delegate) {
    this.delegate = delegate;
  }

  public static TestAiNativeFlinkRunner fromOptions(PipelineOptions options) {
    AiNativeFlinkPipelineOptions flinkOptions = options.as(AiNativeFlinkPipelineOptions.class);
    flinkOptions.setRunner(TestAiNativeFlinkRunner.class);
    if (flinkOptions.getParallelism() == null || flinkOptions.getParallelism() == -1) {
      flinkOptions.setParallelism(1);
    }
    if (flinkOptions.getNumberOfExecutionRetries() == null || flinkOptions.getNumberOfExecutionRetries() < 0) {
      flinkOptions.setNumberOfExecutionRetries(0);
    }
    return new TestAiNativeFlinkRunner(AiNativeFlinkRunner.fromOptions(flinkOptions));
  }

  @Override
  public AiNativePipelineResult run(Pipeline pipeline) {
    AiNativePipelineResult result = delegate.run(pipeline);
    try {
      result.waitUntilFinish();
    } catch (Pipeline.PipelineExecutionException e) {
      AssertionError assertion = FailureCauses.assertionError(e);
      if (assertion != null) {
        throw assertion;
      }
      throw e;
    }
    return result;
  }
}
