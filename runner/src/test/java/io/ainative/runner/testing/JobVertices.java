package io.ainative.runner.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
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
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A job's vertices as the JobManager's REST API shows them: per vertex name, the highest task
 * attempt number of its subtasks and the records it read. For tests that check which regions
 * Flink restarted.
 */
public final class JobVertices {
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final ObjectMapper json = new ObjectMapper();
  private final String base;

  public JobVertices(int restPort, String jobId) {
    this.base = "http://localhost:" + restPort + "/jobs/" + jobId;
  }

  /** A free port, and a Flink conf dir under {@code dir} that puts the REST endpoint on it. */
  public static int restPortIn(Path dir) throws IOException {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    Files.writeString(dir.resolve("config.yaml"), "rest.bind-port: '" + port + "'\nrest.port: " + port + "\n");
    return port;
  }

  /** Highest attempt number and records received per vertex, by vertex name. */
  public static final class Snapshot {
    public final Map<String, Integer> attempts = new HashMap<>();
    public final Map<String, Long> recordsIn = new HashMap<>();
    public String state = "";

    public int attemptOf(String namePart) {
      return attempts.entrySet().stream()
          .filter(e -> e.getKey().contains(namePart))
          .mapToInt(Map.Entry::getValue)
          .max()
          .orElseThrow(() -> new AssertionError("no vertex named like '" + namePart + "' in " + attempts.keySet()));
    }

    public long recordsInto(String namePart) {
      return recordsIn.entrySet().stream()
          .filter(e -> e.getKey().contains(namePart))
          .mapToLong(Map.Entry::getValue)
          .sum();
    }

    @Override
    public String toString() {
      return state + " attempts " + attempts + " records in " + recordsIn;
    }
  }

  /** The highest attempt any vertex named like {@code namePart} had in any of {@code seen}. */
  public static int highestAttempt(java.util.List<Snapshot> seen, String namePart) {
    return seen.stream().mapToInt(s -> s.attemptOf(namePart)).max().orElse(-1);
  }

  private JsonNode get(String url) throws IOException, InterruptedException {
    HttpResponse<String> response =
        http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IOException("GET " + url + " answered " + response.statusCode());
    }
    return json.readTree(response.body());
  }

  public Snapshot snapshot() throws IOException, InterruptedException {
    Snapshot s = new Snapshot();
    JsonNode job = get(base);
    s.state = job.path("state").asText();
    for (JsonNode vertex : job.path("vertices")) {
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

  /** Polls until {@code condition} holds (90 s at most). */
  public Snapshot await(Predicate<Snapshot> condition, String what) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    Snapshot last = null;
    while (System.nanoTime() < deadline) {
      try {
        last = snapshot();
        if (condition.test(last)) {
          return last;
        }
      } catch (IOException e) {
        // the REST endpoint may not be up yet
      }
      Thread.sleep(100);
    }
    throw new AssertionError("timed out waiting until " + what + "; last: " + last);
  }
}
