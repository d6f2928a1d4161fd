package io.ainative.runner.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/**
 * A job's checkpoints as the JobManager's REST API shows them ({@code /jobs/:id/checkpoints}): the
 * completed ones still in the history, with the time the JobManager triggered each, and the one
 * the job last restored from. For tests that need a checkpoint to have completed before they
 * inject a failure.
 */
public final class JobCheckpoints {
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final ObjectMapper json = new ObjectMapper();
  private final String url;

  public JobCheckpoints(int restPort, String jobId) {
    this.url = "http://localhost:" + restPort + "/jobs/" + jobId + "/checkpoints";
  }

  /** One reading of the checkpoint statistics. */
  public static final class Snapshot {
    /** Completed checkpoints still in the JobManager's history: id to trigger time (epoch ms). */
    public final Map<Long, Long> completedTriggeredAt = new TreeMap<>();
    /** The id of the checkpoint the job restored from last; -1 when it never restored. */
    public long restoredId = -1;

    @Override
    public String toString() {
      return "completed (id=trigger ms) " + completedTriggeredAt + ", restored " + restoredId;
    }
  }

  /**
   * Reads the statistics once.
   *
   * @throws IOException when the REST endpoint is not up, or the job is unknown to it
   */
  public Snapshot read() throws IOException, InterruptedException {
    HttpResponse<String> response =
        http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IOException("GET " + url + " answered " + response.statusCode() + ": " + response.body());
    }
    JsonNode root = json.readTree(response.body());
    Snapshot s = new Snapshot();
    for (JsonNode checkpoint : root.path("history")) {
      if ("COMPLETED".equals(checkpoint.path("status").asText())) {
        s.completedTriggeredAt.put(checkpoint.path("id").asLong(), checkpoint.path("trigger_timestamp").asLong());
      }
    }
    JsonNode restored = root.path("latest").path("restored");
    if (restored.isObject()) {
      s.restoredId = restored.path("id").asLong(-1);
    }
    return s;
  }
}
