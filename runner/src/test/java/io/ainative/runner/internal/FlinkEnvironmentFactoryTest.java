package io.ainative.runner.internal;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.flink.configuration.Configuration;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class FlinkEnvironmentFactoryTest {

  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  private static AiNativeFlinkPipelineOptions options(String... args) {
    return PipelineOptionsFactory.fromArgs(args).as(AiNativeFlinkPipelineOptions.class);
  }

  private static Configuration local(AiNativeFlinkPipelineOptions options) {
    return FlinkEnvironmentFactory.configuration(options, FlinkMaster.parse("[local]"));
  }

  private String confDir(String yaml) throws Exception {
    Path dir = tmp.newFolder().toPath();
    Files.writeString(dir.resolve("config.yaml"), yaml);
    return dir.toString();
  }

  @Test
  public void withoutFlinkConfiguration_runnerDefaultsApply() {
    Configuration conf = local(options("--parallelism=3"));
    assertThat(conf.getString("jobmanager.execution.failover-strategy", null), equalTo("region"));
    assertThat(conf.getString("restart-strategy.type", null), equalTo("exponential-delay"));
    assertThat(conf.getString("restart-strategy.exponential-delay.attempts-before-reset-backoff", null), equalTo("10"));
    assertThat(conf.getString("execution.checkpointing.tolerable-failed-checkpoints", null), equalTo("3"));
    assertThat(conf.getString("parallelism.default", null), equalTo("3"));
  }

  @Test
  public void flinkConfigurationDirectory_overridesRunnerDefaults() throws Exception {
    String dir =
        confDir(
            "restart-strategy.type: fixed-delay\n"
                + "restart-strategy.fixed-delay.attempts: 7\n"
                + "execution.checkpointing.tolerable-failed-checkpoints: 9\n");
    Configuration conf = local(options("--flinkConfDir=" + dir));
    assertThat(conf.getString("restart-strategy.type", null), equalTo("fixed-delay"));
    assertThat(conf.getString("restart-strategy.fixed-delay.attempts", null), equalTo("7"));
    // No half-mixed restart strategy: none of the runner's exponential-delay keys are added.
    assertThat(conf.containsKey("restart-strategy.exponential-delay.initial-backoff"), is(false));
    assertThat(conf.getString("execution.checkpointing.tolerable-failed-checkpoints", null), equalTo("9"));
    assertThat(conf.getString("jobmanager.execution.failover-strategy", null), equalTo("region"));
  }

  @Test
  public void explicitPipelineOptions_overrideTheFlinkConfiguration() throws Exception {
    String dir = confDir("restart-strategy.type: exponential-delay\nparallelism.default: 5\n");
    Configuration conf =
        local(options("--flinkConfDir=" + dir, "--numberOfExecutionRetries=2", "--parallelism=4", "--checkpointingInterval=2000"));
    assertThat(conf.getString("restart-strategy.type", null), equalTo("fixed-delay"));
    assertThat(conf.getString("restart-strategy.fixed-delay.attempts", null), equalTo("2"));
    assertThat(conf.getString("parallelism.default", null), equalTo("4"));
    assertThat(conf.getString("execution.checkpointing.interval", null), equalTo("2000 ms"));
  }

  @Test
  public void boundedPipelines_shutSourcesDownWhenDone_evenWithCheckpointing() {
    AiNativeFlinkPipelineOptions options = options("--checkpointingInterval=1000");
    local(options);
    assertThat(options.getShutdownSourcesAfterIdleMs(), equalTo(0L));
  }
}
