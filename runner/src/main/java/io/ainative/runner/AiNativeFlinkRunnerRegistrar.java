package io.ainative.runner;

import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import java.util.List;
import org.apache.beam.sdk.PipelineRunner;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsRegistrar;
import org.apache.beam.sdk.runners.PipelineRunnerRegistrar;

/**
 * Makes {@code --runner=AiNativeFlinkRunner} (and {@code TestAiNativeFlinkRunner}) and the
 * runner's options known to {@code PipelineOptionsFactory}; listed in {@code META-INF/services}.
 */
@Internal
public final class AiNativeFlinkRunnerRegistrar {

  private AiNativeFlinkRunnerRegistrar() {}

  /** Registers the runners. */
  public static final class Runner implements PipelineRunnerRegistrar {
    @Override
    public Iterable<Class<? extends PipelineRunner<?>>> getPipelineRunners() {
      return List.of(AiNativeFlinkRunner.class, TestAiNativeFlinkRunner.class);
    }
  }

  /** Registers the options. */
  public static final class Options implements PipelineOptionsRegistrar {
    @Override
    public Iterable<Class<? extends PipelineOptions>> getPipelineOptions() {
      return List.of(AiNativeFlinkPipelineOptions.class);
    }
  }
}
