package io.ainative.examples;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.startsWith;

import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import io.ainative.runner.TestAiNativeFlinkRunner;
import java.nio.file.Path;
import java.util.List;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.TestPipeline;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class ActionStatsDemoITCase {

  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  @Test
  public void demo_countsEveryWellFormedLine_andKeepsTheMalformedOnes() throws Exception {
    AiNativeFlinkPipelineOptions options = PipelineOptionsFactory.create().as(AiNativeFlinkPipelineOptions.class);
    options.setRunner(TestAiNativeFlinkRunner.class);
    options.setFlinkMaster("[local]");
    options.setParallelism(2);
    TestPipeline p = TestPipeline.fromOptions(options).enableAbandonedNodeEnforcement(false);
    Path out = tmp.getRoot().toPath();
    ActionStatsDemo.build(p, 5_000, out.toString());
    p.run();

    List<String> stats = ActionStatsDemo.readResult(out, "stats");
    assertThat(stats, hasSize(ActionStatsDemo.ACTIONS.length));
    long counted = 0;
    double shares = 0;
    for (String line : stats) {
      String[] cols = line.trim().split("\\s+");
      counted += Long.parseLong(cols[1]);
      shares += Double.parseDouble(cols[2].replace("%", ""));
    }
    assertThat(counted, equalTo(4_995L));
    assertThat(Math.round(shares), equalTo(100L));
    List<String> malformed = ActionStatsDemo.readResult(out, "malformed");
    assertThat(malformed, hasSize(5));
    assertThat(malformed, everyItem(startsWith("user")));
  }
}
