package io.ainative.runner;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import io.ainative.runner.testing.FlinkStandaloneCluster;
import io.ainative.runner.testing.FlinkStandaloneClusterResource;
import java.util.List;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.ParDo;
import org.junit.ClassRule;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TestRule;

/**
 * Java pipelines submitted with {@code --flinkMaster=localhost:PORT} to a real Flink standalone
 * cluster: a JobManager and two TaskManagers, each its own JVM. The TaskManagers have the test
 * classpath, so nothing is staged ({@code --filesToStage} empty).
 */
public class MultiProcessClusterITCase {

  @ClassRule
  public static final FlinkStandaloneClusterResource CLUSTER =
      new FlinkStandaloneClusterResource(
          FlinkStandaloneCluster.builder()
              .setTaskManagers(2)
              .optSlotsPerTaskManager(2)
              .optConfiguration("taskmanager.memory.process.size", "1400m"));

  @Rule public final TestRule keepLogsOnFailure = CLUSTER.failureWatcher();

  private static AiNativeFlinkPipelineOptions options() {
    AiNativeFlinkPipelineOptions options = PipelineOptionsFactory.create().as(AiNativeFlinkPipelineOptions.class);
    options.setFlinkMaster(CLUSTER.cluster().restAddress());
    options.setFilesToStage(List.of());
    options.setParallelism(2);
    options.setNumberOfExecutionRetries(0);
    return options;
  }

  @Test
  public void javaPipeline_withEveryFoundationFeature_passesOnTheCluster() {
    AiNativeFlinkPipelineOptions options = options();
    options.setRunner(TestAiNativeFlinkRunner.class);
    TestPipeline p = TestPipeline.fromOptions(options).enableAbandonedNodeEnforcement(false);
    CoveragePipeline.apply(p);
    assertThat(p.run().getState(), is(PipelineResult.State.DONE));
  }

  @Test
  public void userMetrics_fromTaskManagerJvms_areReadableAfterTheJob() {
    AiNativeFlinkPipelineOptions options = options();
    options.setRunner(AiNativeFlinkRunner.class);
    Pipeline p = Pipeline.create(options);
    p.apply(Create.of(CoveragePipeline.LINES)).apply(ParDo.of(new CoveragePipeline.SplitWords()));
    PipelineResult result = p.run();
    assertThat(result.waitUntilFinish(), is(PipelineResult.State.DONE));
    assertThat(CoveragePipeline.countOf(result, "words"), equalTo(8L));
  }
}
