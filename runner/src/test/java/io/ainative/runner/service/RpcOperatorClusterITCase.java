package io.ainative.runner.service;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ainative.harness.testing.ShapeImages;
import io.ainative.harness.testing.ShapesClassifier;
import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import io.ainative.runner.AiNativeFlinkRunner;
import io.ainative.runner.AiNativePipelineResult;
import io.ainative.runner.testing.FlinkStandaloneCluster;
import io.ainative.runner.testing.FlinkStandaloneClusterResource;
import io.ainative.runner.testing.JobVertices;
import io.ainative.transforms.InferenceResult;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.io.GenerateSequence;
import org.apache.beam.sdk.io.TextIO;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.apache.beam.sdk.values.TypeDescriptors;
import io.ainative.harness.testing.FloatArrayCoder;
import io.ainative.transforms.RunInference;
import org.junit.ClassRule;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.rules.TestRule;

/**
 * The service region on a real multi-process Flink cluster: the TaskManager that hosts one
 * inference instance is killed with SIGKILL while the pipeline runs on another TaskManager.
 * One slot per TaskManager, so the pipeline and each instance have their own JVM; the test starts
 * a replacement TaskManager only after results have kept flowing without the killed instance.
 */
public class RpcOperatorClusterITCase {
  private static final int SIZE = 32;

  @ClassRule
  public static final FlinkStandaloneClusterResource CLUSTER =
      new FlinkStandaloneClusterResource(
          FlinkStandaloneCluster.builder()
              .setTaskManagers(3)
              .optSlotsPerTaskManager(1)
              .optConfiguration("taskmanager.memory.process.size", "1100m")
              .optConfiguration("heartbeat.interval", "500")
              .optConfiguration("heartbeat.timeout", "4000")
              // the REST API's vertex metrics are otherwise up to 10 s old
              .optConfiguration("metrics.fetcher.update-interval", "300"));

  @Rule public final TestRule keepLogsOnFailure = CLUSTER.failureWatcher();
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  static KV<Long, float[]> image(long id) {
    return KV.of(id, new ShapeImages(SIZE, 1, 31 * id + 5).next().pixels());
  }

  static String format(KV<Long, InferenceResult<float[], Integer>> result) {
    return result.getKey() + "," + result.getValue().getOutput();
  }

  @Test
  public void killedTaskManagerOfAnInstance_restartsOnlyTheService_andEveryInputGetsOneResult() throws Exception {
    int n = 20_000;
    Path model = ShapesClassifier.trainedModel(Path.of("target/test-models").toAbsolutePath(), SIZE, 1);
    Path out = tmp.newFolder("results").toPath();

    AiNativeFlinkPipelineOptions options = PipelineOptionsFactory.create().as(AiNativeFlinkPipelineOptions.class);
    options.setRunner(AiNativeFlinkRunner.class);
    options.setFlinkMaster(CLUSTER.cluster().restAddress());
    options.setFilesToStage(List.of());
    options.setParallelism(1);
    Pipeline p = Pipeline.create(options);
    p.apply("Ids", GenerateSequence.from(0).to(n))
        .apply("Images", MapElements.into(TypeDescriptors.kvs(TypeDescriptors.longs(), TypeDescriptor.of(float[].class)))
            .via(RpcOperatorClusterITCase::image))
        .setCoder(KvCoder.of(VarLongCoder.of(), FloatArrayCoder.of()))
        .apply("Classify", RunInference.<Long, float[], Integer>keyed(ShapesClassifier.batchSpecBuilder(model, SIZE, 1).build())
            .withOutputCoder(VarIntCoder.of())
            .withInstances(2)
            .withBatchSize(1, 32))
        .apply("Spread", Reshuffle.viaRandomKey())
        .apply("Format", MapElements.into(TypeDescriptors.strings()).via(RpcOperatorClusterITCase::format))
        .apply("Write", TextIO.write().to(out.resolve("part").toString()).withSuffix(".txt"));

    AiNativePipelineResult result = (AiNativePipelineResult) p.run();
    String jobId = result.getJobId().toString();
    JobVertices rest = new JobVertices(CLUSTER.cluster().restPort(), jobId);
    List<JobVertices.Snapshot> seen = new ArrayList<>();

    JobVertices.Snapshot before = rest.await(s -> s.recordsInto("Format") > 1000, "results flow");
    seen.add(before);
    int victim = taskManagerIndexOf(jobId, "inference service", 0);
    CLUSTER.cluster().killTaskManager(victim);
    long atKill = rest.snapshot().recordsInto("Format");

    // No TaskManager has a free slot now: the killed instance cannot come back until one joins,
    // so whatever results arrive meanwhile came through the surviving instance.
    JobVertices.Snapshot flowing =
        rest.await(s -> s.recordsInto("Format") > atKill + 500, "results keep flowing while the killed instance has nowhere to run");
    seen.add(flowing);
    CLUSTER.cluster().startTaskManager();
    JobVertices.Snapshot restarted = rest.await(s -> s.attemptOf("inference service") >= 1, "the service restarts");
    seen.add(restarted);
    while (!result.getState().isTerminal()) {
      try {
        seen.add(rest.snapshot());
      } catch (java.io.IOException e) {
        // the job may just have finished
      }
      Thread.sleep(200);
    }
    assertThat(result.waitUntilFinish(), equalTo(PipelineResult.State.DONE));

    Set<Long> ids = new HashSet<>();
    long lines = 0;
    try (Stream<Path> files = Files.list(out)) {
      for (Path f : (Iterable<Path>) files.filter(f -> f.getFileName().toString().startsWith("part"))::iterator) {
        for (String line : Files.readAllLines(f)) {
          lines++;
          ids.add(Long.parseLong(line.substring(0, line.indexOf(','))));
        }
      }
    }
    assertThat("every input has a result", ids.size(), equalTo(n));
    assertThat("no input has two", lines, equalTo((long) n));
    int serviceAttempt = JobVertices.highestAttempt(seen, "inference service");
    assertThat("the service region restarted", serviceAttempt, greaterThanOrEqualTo(1));
    for (String vertex : restarted.attempts.keySet()) {
      if (!vertex.contains("inference service")) {
        int attempt = JobVertices.highestAttempt(seen, vertex);
        assertThat("attempt of pipeline vertex " + vertex, attempt, equalTo(0));
      }
    }
  }

  /** The index of the TaskManager that runs subtask {@code subtask} of the vertex named like {@code namePart}. */
  private static int taskManagerIndexOf(String jobId, String namePart, int subtask) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    ObjectMapper json = new ObjectMapper();
    String base = "http://localhost:" + CLUSTER.cluster().restPort() + "/jobs/" + jobId;
    JsonNode job = json.readTree(http.send(HttpRequest.newBuilder(URI.create(base)).build(), HttpResponse.BodyHandlers.ofString()).body());
    for (JsonNode vertex : job.path("vertices")) {
      if (vertex.path("name").asText().contains(namePart)) {
        JsonNode detail = json.readTree(http.send(
            HttpRequest.newBuilder(URI.create(base + "/vertices/" + vertex.path("id").asText())).build(),
            HttpResponse.BodyHandlers.ofString()).body());
        String tm = detail.path("subtasks").get(subtask).path("taskmanager-id").asText();
        if (!tm.startsWith("taskmanager-")) {
          throw new AssertionError("unexpected TaskManager id " + tm);
        }
        return Integer.parseInt(tm.substring("taskmanager-".length()));
      }
    }
    throw new AssertionError("no vertex named like " + namePart);
  }
}
