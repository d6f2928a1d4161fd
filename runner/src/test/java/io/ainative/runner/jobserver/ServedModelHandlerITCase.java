package io.ainative.runner.jobserver;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.hasItem;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ainative.runner.testing.JobVertices;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.After;
import org.junit.Before;
import org.junit.BeforeClass;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * A Beam Python pipeline's own RunInference (scikit-learn, a Python {@code ModelHandler}) marked
 * with {@code ainative_beam.Served}: the runner runs it in inference services that host Python
 * workers (PROCESS environment, {@code python/bin/ainative-python-worker}), with real Python, a
 * real job server and the JobManager's REST API to see which tasks restarted. Needs {@code
 * -Dainative.python} with scikit-learn; skipped without it.
 */
public class ServedModelHandlerITCase {

  private static final Path SCRIPT = Path.of("src/test/python/served_model_handler.py");
  private static final String SERVICE = "(inference service)";
  private static final String CLIENT = "(served stage client)";

  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  private static String python;
  private AiNativeJobServer server;
  private String endpoint;
  private int restPort;
  private Path work;

  @BeforeClass
  public static void findPython() {
    python = PythonScripts.pythonOrSkip();
  }

  @Before
  public void startServer() throws Exception {
    Path conf = tmp.newFolder("conf").toPath();
    restPort = JobVertices.restPortIn(conf);
    work = tmp.newFolder("work").toPath();
    server = AiNativeJobServer.fromArgs("--job-port=0", "--artifact-port=0", "--expansion-port=-1", "--flink-conf-dir=" + conf);
    endpoint = server.start();
  }

  @After
  public void stopServer() {
    if (server != null) {
      server.stop();
    }
  }

  @Test
  public void servedModelHandler_instanceKilledMidRun_everyInputGetsOnePrediction_withoutRestartingTheDataDag() throws Exception {
    // Each batch takes 100 ms more, so that the job runs on while the killed instance restarts.
    Observed run = runPipeline("--n=3000", "--kill-after=4", "--slow-each-ms=100");

    assertThat(run.output, run.exitCode, equalTo(0));
    assertThat(run.output, containsString("SERVED PIPELINE OK"));
    Path killed = work.resolve("killed");
    assertThat("a service instance's Python worker was killed mid-run", Files.exists(killed), equalTo(true));
    Set<String> loads = loads();
    assertThat("the killed worker had loaded the model", loads, hasItem(Files.readString(killed).trim()));
    assertThat("both instances and the restarted one loaded the model in a worker of their own", loads.size(), greaterThanOrEqualTo(3));
    assertThat("the killed worker's batches were sent elsewhere", run.metric("rerouted_requests"), greaterThanOrEqualTo(1L));
    assertThat("every input was answered once", run.metric("answered_elements"), equalTo(3000L));
    assertThat(run.metric("outputs"), equalTo(3000L));

    assertThat("the REST API was read while the job ran", run.snapshots.size(), greaterThan(0));
    List<String> vertices = new ArrayList<>(run.snapshots.get(run.snapshots.size() - 1).attempts.keySet());
    assertThat(vertices.stream().anyMatch(v -> v.contains(CLIENT)), equalTo(true));
    assertThat("the killed instance's region restarted", JobVertices.highestAttempt(run.snapshots, SERVICE), greaterThanOrEqualTo(1));
    for (String vertex : vertices) {
      if (!vertex.contains(SERVICE)) {
        assertThat("attempt of data-DAG vertex " + vertex, JobVertices.highestAttempt(run.snapshots, vertex), equalTo(0));
      }
    }
  }

  @Test
  public void servedModelHandler_batchPastItsTimeout_isAnsweredOnceByAnotherInstance_withoutAnyRestart() throws Exception {
    // One batch stalls 10 s in its worker; the client gives up after 4 s and sends it to the other
    // instance. The stalled bundle ends later and its answer is dropped.
    Observed run = runPipeline("--n=1500", "--slow-once-ms=10000", "--timeout-ms=4000");

    assertThat(run.output, run.exitCode, equalTo(0));
    assertThat(run.output, containsString("SERVED PIPELINE OK"));
    assertThat("a batch stalled", Files.exists(work.resolve("slowed")), equalTo(true));
    assertThat("the REST API was read while the job ran", run.snapshots.size(), greaterThan(0));
    for (String vertex : run.snapshots.get(run.snapshots.size() - 1).attempts.keySet()) {
      assertThat("attempt of vertex " + vertex, JobVertices.highestAttempt(run.snapshots, vertex), equalTo(0));
    }
    assertThat("no worker was replaced", loads().size(), equalTo(2));
    assertThat("the stalled batch was tried again", run.metric("retried_requests"), equalTo(1L));
    assertThat("the late answer was not taken", run.metric("answered_elements"), equalTo(1500L));
    assertThat("each request reached the model as one batch (the stalled one twice)",
        modelBatches(), equalTo(run.metric("answered_requests") + run.metric("retried_requests")));
    assertThat("each instance's worker started with one BLAS thread", workerThreads(), equalTo(Set.of("1")));
  }

  @Test
  public void unmarkedModelHandler_runsInTheDataDag_withoutAService() throws Exception {
    // Each batch slowed so that the REST poller (every 50 ms) sees the job running: unslowed, the
    // job ended within half a second of its submission, before its vertices were listed; at 100 ms
    // a batch (Beam's BatchElements sizes the batches) a CI run under load once ended before the
    // first listing too.
    Observed run = runPipeline("--plain", "--n=300", "--slow-each-ms=300");

    assertThat(run.output, run.exitCode, equalTo(0));
    assertThat(run.output, containsString("SERVED PIPELINE OK"));
    assertThat("the model was loaded", loads().size(), greaterThan(0));
    assertThat("no served-stage client counted anything", run.output, org.hamcrest.Matchers.not(containsString("SERVED METRIC")));
    assertThat("the REST API was read while the job ran", run.snapshots.size(), greaterThan(0));
    for (String vertex : run.snapshots.get(run.snapshots.size() - 1).attempts.keySet()) {
      assertThat(vertex, vertex.contains(SERVICE) || vertex.contains(CLIENT), equalTo(false));
    }
  }

  @Test
  public void acceleratorHintedModelHandler_isServedByOneInstance() throws Exception {
    Observed run = runPipeline("--accelerator-hint", "--n=300");

    assertThat(run.output, run.exitCode, equalTo(0));
    assertThat(run.output, containsString("SERVED PIPELINE OK"));
    assertThat("the REST API was read while the job ran", run.snapshots.size(), greaterThan(0));
    java.util.Set<String> vertices = run.snapshots.get(run.snapshots.size() - 1).attempts.keySet();
    assertThat(vertices.stream().anyMatch(v -> v.contains(CLIENT)), equalTo(true));
    assertThat(vertices.stream().anyMatch(v -> v.contains(SERVICE)), equalTo(true));
    assertThat("one instance loaded the model", loads().size(), equalTo(1));
    assertThat(run.metric("answered_elements"), equalTo(300L));
    assertThat(run.metric("rerouted_requests"), equalTo(0L));
  }

  @Test
  public void servedModelHandler_onLoopback_runsInTheSubmittingProcessWorkers() throws Exception {
    // LOOPBACK: each instance's environment is a worker the submitting Python process starts.
    Observed run = runPipelineIn(List.of("--environment_type=LOOPBACK"), "--n=500");

    assertThat(run.output, run.exitCode, equalTo(0));
    assertThat(run.output, containsString("SERVED PIPELINE OK"));
    assertThat("the REST API was read while the job ran", run.snapshots.size(), greaterThan(0));
    assertThat(
        run.snapshots.get(run.snapshots.size() - 1).attempts.keySet().stream().anyMatch(v -> v.contains(SERVICE)), equalTo(true));
  }

  /** What a run printed and how its job's vertices looked while it ran. */
  private static final class Observed {
    final int exitCode;
    final String output;
    final List<JobVertices.Snapshot> snapshots;

    Observed(PythonScripts.Run run, List<JobVertices.Snapshot> snapshots) {
      this.exitCode = run.exitCode;
      this.output = run.output;
      this.snapshots = snapshots;
    }

    /** A counter of the served stage's client, as the script printed it; 0 when it printed none. */
    long metric(String name) {
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("SERVED METRIC " + name + "=(\\d+)").matcher(output);
      return m.find() ? Long.parseLong(m.group(1)) : 0;
    }
  }

  /** Runs the script with {@code flags} in a PROCESS environment of ainative-python-worker. */
  private Observed runPipeline(String... flags) throws Exception {
    Path worker = Path.of("../python/bin/ainative-python-worker").toAbsolutePath().normalize();
    // The workers find the test's model handler module (served_handlers.py) next to the script.
    Path handlers = SCRIPT.toAbsolutePath().getParent();
    String config =
        "{\"command\": \"" + worker + "\", \"env\": {\"AINATIVE_PYTHON\": \"" + python + "\", \"PYTHONPATH\": \"" + handlers + "\"}}";
    return runPipelineIn(List.of("--environment_type=PROCESS", "--environment_config=" + config), flags);
  }

  private Observed runPipelineIn(List<String> environment, String... flags) throws Exception {
    List<String> args = new ArrayList<>(List.of(endpoint, work.toString()));
    args.addAll(List.of(flags));
    args.addAll(environment);
    PythonScripts.Started started = PythonScripts.start(python, SCRIPT, args);
    List<JobVertices.Snapshot> snapshots = new ArrayList<>();
    String jobId = null;
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(420);
    while (started.process.isAlive() && System.nanoTime() < deadline) {
      try {
        if (jobId == null) {
          jobId = firstJobId();
        }
        if (jobId != null) {
          JobVertices.Snapshot snapshot = new JobVertices(restPort, jobId).snapshot();
          // A job still initializing lists no vertices yet.
          if (!snapshot.attempts.isEmpty()) {
            snapshots.add(snapshot);
          }
        }
      } catch (IOException e) {
        // no cluster yet, or gone with the finished job
      }
      Thread.sleep(50);
    }
    return new Observed(started.await(10), snapshots);
  }

  private String firstJobId() throws IOException, InterruptedException {
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://localhost:" + restPort + "/jobs")).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      return null;
    }
    JsonNode jobs = new ObjectMapper().readTree(response.body()).path("jobs");
    return jobs.size() == 0 ? null : jobs.get(0).path("id").asText();
  }

  /** The pids of the processes that loaded the model. */
  /** How many batches the model ran, in all processes. */
  private long modelBatches() throws IOException {
    Path dir = work.resolve("batches");
    long batches = 0;
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : files.collect(Collectors.toList())) {
        batches += Files.readAllLines(file).size();
      }
    }
    return batches;
  }

  /** The OPENBLAS_NUM_THREADS values the processes that loaded the model had. */
  private Set<String> workerThreads() throws IOException {
    try (Stream<Path> files = Files.list(work.resolve("loads"))) {
      Set<String> values = new java.util.TreeSet<>();
      for (Path file : files.collect(Collectors.toList())) {
        values.add(Files.readString(file).trim());
      }
      return values;
    }
  }

  private Set<String> loads() throws IOException {
    Path dir = work.resolve("loads");
    if (!Files.isDirectory(dir)) {
      return Set.of();
    }
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
    }
  }
}
