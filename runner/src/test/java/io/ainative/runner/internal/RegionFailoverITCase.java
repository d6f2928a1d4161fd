package io.ainative.runner.internal;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;

import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import io.ainative.runner.testing.JobVertices;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.beam.runners.fnexecution.provisioning.JobInfo;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.io.GenerateSequence;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.options.PortablePipelineOptions;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.transforms.windowing.FixedWindows;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.util.construction.PipelineOptionsTranslation;
import org.apache.beam.sdk.util.construction.PipelineTranslation;
import org.apache.beam.sdk.util.construction.SdkComponents;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.functions.sink.DiscardingSink;
import org.apache.flink.streaming.api.functions.source.RichParallelSourceFunction;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The Flink settings the runner chooses make a sub-graph disconnected from the pipeline (where
 * inference services will live) its own failover region: when it fails, Flink restarts it alone
 * while every task of the Beam pipeline stays on its first attempt and keeps processing.
 */
public class RegionFailoverITCase {

  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  static final CountDownLatch FAIL_NOW = new CountDownLatch(1);
  static final CountDownLatch RESTARTED = new CountDownLatch(1);

  /** Fails in its first attempt when the test says so, then idles in the second. */
  static final class FailOnceService extends RichParallelSourceFunction<Long> {
    private volatile boolean running = true;

    @Override
    public void run(SourceContext<Long> ctx) throws Exception {
      if (getRuntimeContext().getTaskInfo().getAttemptNumber() == 0) {
        while (running && !FAIL_NOW.await(50, TimeUnit.MILLISECONDS)) {
          // idle until the test triggers the failure
        }
        if (running) {
          throw new IllegalStateException("service instance failed on purpose");
        }
      }
      RESTARTED.countDown();
      while (running) {
        Thread.sleep(50);
      }
    }

    @Override
    public void cancel() {
      running = false;
    }
  }

  @Test
  public void failingDisconnectedVertex_restartsAlone_whileThePipelineKeepsItsFirstAttempt() throws Exception {
    Path conf = tmp.newFolder().toPath();
    int restPort = JobVertices.restPortIn(conf);

    AiNativeFlinkPipelineOptions options =
        PipelineOptionsFactory.fromArgs("--flinkMaster=[local]", "--parallelism=1", "--flinkConfDir=" + conf)
            .as(AiNativeFlinkPipelineOptions.class);
    options.setRunner(io.ainative.runner.AiNativeFlinkRunner.class);
    options.as(PortablePipelineOptions.class).setDefaultEnvironmentType("EMBEDDED");
    Pipeline p = Pipeline.create(options);
    p.apply(GenerateSequence.from(0).withRate(5, org.joda.time.Duration.standardSeconds(1)))
        .apply(WithKeys.of((Long x) -> x % 4).withKeyType(TypeDescriptors.longs()))
        .apply(Window.into(FixedWindows.of(org.joda.time.Duration.millis(200))))
        .apply("GroupPerWindow", GroupByKey.create());
    JobInfo jobInfo =
        JobInfo.create("region-" + UUID.randomUUID(), "region", "", PipelineOptionsTranslation.toProto(options));

    JobClient client =
        new JobLauncher()
            .submit(
                PipelineTranslation.toProto(p, SdkComponents.create(options)),
                jobInfo,
                options,
                1,
                env ->
                    env.addSource(new FailOnceService())
                        .name("service")
                        .setParallelism(1)
                        .slotSharingGroup("ainative-service")
                        .addSink(new DiscardingSink<>())
                        .name("service-sink")
                        .setParallelism(1)
                        .slotSharingGroup("ainative-service"));
    JobVertices rest = new JobVertices(restPort, client.getJobID().toString());
    try {
      long before = rest.await(r -> r.recordsInto("GroupPerWindow") > 0, "records reach the GroupByKey").recordsInto("GroupPerWindow");
      FAIL_NOW.countDown();
      assertThat("the service restarted", RESTARTED.await(60, TimeUnit.SECONDS), equalTo(true));

      // Low rate on purpose: unbounded SDF reads grow keyed state fast (runner README). At 20
      // elements/s the 2 GiB test heap was full within 40 s on a loaded machine (a heap histogram
      // showed 24,000 registered value states, 3.1 million key-group maps) and the JobManager
      // missed its heartbeats; at 5/s the test ends long before.
      JobVertices.Snapshot after = rest.await(r -> r.recordsInto("GroupPerWindow") > before + 15, "records keep flowing after the restart");
      assertThat(after.attemptOf("service"), equalTo(1));
      assertThat("pipeline vertices seen", after.attempts.size(), greaterThan(2));
      for (Map.Entry<String, Integer> vertex : after.attempts.entrySet()) {
        if (!vertex.getKey().contains("service")) {
          assertThat("attempt of pipeline vertex " + vertex.getKey(), vertex.getValue(), equalTo(0));
        }
      }
      assertThat(after.recordsInto("GroupPerWindow"), greaterThan(before));
    } finally {
      // Cancelling must not hide the assertion that failed, if one did.
      try {
        client.cancel().get(60, TimeUnit.SECONDS);
      } catch (Exception e) {
        System.err.println("cancelling the test job failed: " + e);
      }
    }
  }
}
