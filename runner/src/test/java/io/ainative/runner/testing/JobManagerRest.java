package io.ainative.runner.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The parts of the JobManager's REST API that {@link FlinkStandaloneCluster} polls. Each call is
 * one HTTP/1.1 request over loopback, bounded by a 2 s timeout. Thread-safe.
 */
final class JobManagerRest {

  private static final Duration TIMEOUT = Duration.ofSeconds(2);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(TIMEOUT).build();
  private final URI base;

  JobManagerRest(String host, int port) {
    this.base = URI.create("http://" + host + ":" + port);
  }

  /** {@code GET /overview}: how many TaskManagers the ResourceManager has registered. */
  int registeredTaskManagers() throws IOException, InterruptedException {
    JsonNode count = get("/overview").path("taskmanagers");
    if (!count.isInt()) {
      throw new IOException("GET /overview has no taskmanagers count");
    }
    return count.asInt();
  }

  /** {@code GET /taskmanagers}: the resource ids of the registered TaskManagers. */
  List<String> registeredTaskManagerIds() throws IOException, InterruptedException {
    List<String> ids = new ArrayList<>();
    get("/taskmanagers").path("taskmanagers").forEach(tm -> ids.add(tm.path("id").asText()));
    return ids;
  }

  private JsonNode get(String path) throws IOException, InterruptedException {
    HttpRequest request = HttpRequest.newBuilder(base.resolve(path)).timeout(TIMEOUT).GET().build();
    HttpResponse<String> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IOException("GET " + request.uri() + " failed: " + e, e);
    }
    if (response.statusCode() != 200) {
      throw new IOException(
          "GET " + request.uri() + " answered " + response.statusCode() + ": " + response.body());
    }
    return JSON.readTree(response.body());
  }
}
