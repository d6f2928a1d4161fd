package io.ainative.runner.internal;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ainative.runner.AiNativeFlinkPipelineOptions;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
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
    int restPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      restPort = socket.getLocalPort();
    }
    Path conf = tmp.newFolder().toPath();
    Files.writeString(conf.resolve("config.yaml"), "rest.bind-port: '" + restPort + "'\nrest.port: " + restPort + "\n");

    AiNativeFlinkPipelineOptions options =
        PipelineOptionsFactory.fromArgs("--flinkMaster=[local]", "--parallelism=1", "--flinkConfDir=" + conf)
            .as(AiNativeFlinkPipelineOptions.class);
    options.setRunner(io.ainative.runner.AiNativeFlinkRunner.class);
    options.as(PortablePipelineOptions.class).setDefaultEnvironmentType("EMBEDDED");
    Pipeline p = Pipeline.create(options);
    p.apply(GenerateSequence.from(0).withRate(20, org.joda.time.Duration.standardSeconds(1)))
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
    Rest rest = new Rest(restPort, client.getJobID().toString());
    try {
      long before = rest.await(r -> r.recordsInto("GroupPerWindow") > 0, "records reach the GroupByKey").recordsInto("GroupPerWindow");
      FAIL_NOW.countDown();
      assertThat("the service restarted", RESTARTED.await(60, TimeUnit.SECONDS), equalTo(true));

      // Low rate on purpose: unbounded SDF reads grow keyed state fast (runner README).
      Snapshot after = rest.await(r -> r.recordsInto("GroupPerWindow") > before + 60, "records keep flowing after the restart");
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

  /** Highest attempt number and records received per vertex, by vertex name. */
  static final class Snapshot {
    final Map<String, Integer> attempts = new HashMap<>();
    final Map<String, Long> recordsIn = new HashMap<>();

    int attemptOf(String namePart) {
      return attempts.entrySet().stream()
          .filter(e -> e.getKey().contains(namePart))
          .mapToInt(Map.Entry::getValue)
          .max()
          .orElseThrow(() -> new AssertionError("no vertex named like '" + namePart + "' in " + attempts.keySet()));
    }

    long recordsInto(String namePart) {
      return recordsIn.entrySet().stream()
          .filter(e -> e.getKey().contains(namePart))
          .mapToLong(Map.Entry::getValue)
          .sum();
    }
  }

  /** Reads the job's vertices from the MiniCluster's REST API. */
  static final class Rest {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final ObjectMapper json = new ObjectMapper();
    private final String base;

    Rest(int port, String jobId) {
      this.base = "http://localhost:" + port + "/jobs/" + jobId;
    }

    private JsonNode get(String url) throws Exception {
      HttpResponse<String> response =
          http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      return json.readTree(response.body());
    }

    Snapshot snapshot() throws Exception {
      Snapshot s = new Snapshot();
      for (JsonNode vertex : get(base).path("vertices")) {
        String name = vertex.path("name").asText();
        JsonNode detail = get(base + "/vertices/" + vertex.path("id").asText());
        int attempt = 0;
        for (JsonNode subtask : detail.path("subtasks")) {
          attempt = Math.max(attempt, subtask.path("attempt").asInt());
        }
        s.attempts.put(name, attempt);
        s.recordsIn.put(name, vertex.path("metrics").path("read-records").asLong());
      }
      return s;
    }

    Snapshot await(Predicate<Snapshot> condition, String what) throws Exception {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      while (System.nanoTime() < deadline) {
        try {
          Snapshot s = snapshot();
          if (condition.test(s)) {
            return s;
          }
        } catch (java.io.IOException e) {
          // the REST endpoint may not be up yet
        }
        Thread.sleep(200);
      }
      throw new AssertionError("timed out waiting until " + what + "; last: " + snapshot().attempts + " " + snapshot().recordsIn);
    }
  }
}
