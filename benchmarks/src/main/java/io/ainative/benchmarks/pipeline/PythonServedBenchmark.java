package io.ainative.benchmarks.pipeline;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.beam.runners.flink.FlinkJobServerDriver;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.options.PipelineOptionsFactory;

/**
 * A Beam Python RunInference pipeline (scikit-learn MLP over numpy vectors, {@code
 * src/main/python/served_inference.py}) on Beam's own Flink job server and on ainative's job
 * server, unmarked and served by two service instances, with {@code PROCESS} and {@code LOOPBACK}
 * workers. Each job server runs in a JVM of its own with Flink's embedded cluster; each case is one
 * whole job, from submission until it is done.
 *
 * <p>Run from the repository root: {@code bin/bench pipeline.PythonServedBenchmark [elements]
 * [environments]}, environments a comma-separated list of {@code PROCESS}, {@code PROCESS-W} (with
 * {@code --sdk_worker_parallelism=W}: W worker processes for the pipeline's own stages) and {@code
 * LOOPBACK} (default {@code PROCESS,PROCESS-2,LOOPBACK}). The Python is {@code -Dainative.python}, else {@code $AINATIVE_PYTHON}, else {@code
 * .venv/bin/python} (made by {@code bin/test}, with apache-beam and scikit-learn).
 */
public final class PythonServedBenchmark {
  private static final String BEAM_SERVER = BeamJobServer.class.getName();
  private static final String AINATIVE_SERVER = "io.ainative.runner.jobserver.AiNativeJobServer";
  private static final int INSTANCES = 2;

  private PythonServedBenchmark() {}

  public static void main(String[] args) throws Exception {
    long elements = args.length > 0 ? Long.parseLong(args[0]) : 200_000L;
    List<String> environments = List.of(args.length > 1 ? args[1].split(",") : new String[] {"PROCESS", "PROCESS-2", "LOOPBACK"});
    Path root = Path.of("").toAbsolutePath();
    Path script = root.resolve("benchmarks/src/main/python/served_inference.py");
    if (!Files.isRegularFile(script)) {
      throw new IllegalStateException("run from the repository root: " + script + " is missing");
    }
    String python = python(root);
    Path work = Files.createTempDirectory("python-served-benchmark");

    System.out.printf(Locale.ROOT,
        "Python RunInference: %,d keyed vectors of 64 floats -> scikit-learn MLP 64-256-256-1, --parallelism=2, served by %d instances; one whole job per row%n%n",
        elements, INSTANCES);
    System.out.println("| environment | job server | RunInference | wall s | elements/s | vs ainative unmarked | vs Beam's job server |");
    System.out.println("| --- | --- | --- | ---: | ---: | ---: | ---: |");
    Map<String, Double> seconds = new LinkedHashMap<>();
    for (String server : List.of(BEAM_SERVER, AINATIVE_SERVER)) {
      boolean ainative = server.equals(AINATIVE_SERVER);
      try (JobServer jobServer = JobServer.start(server, work)) {
        for (String environment : environments) {
          for (String mode : ainative ? List.of("unmarked", "served") : List.of("unmarked")) {
            String key = environment + "/" + (ainative ? "ainative" : "beam") + "/" + mode;
            double s = runJob(python, root, script, work, jobServer.port, elements, mode, environment);
            seconds.put(key, s);
            Double ainativeUnmarked = seconds.get(environment + "/ainative/unmarked");
            Double beam = seconds.get(environment + "/beam/unmarked");
            System.out.printf(Locale.ROOT, "| %s | %s | %s | %.1f | %,.0f | %s | %s |%n",
                environment, ainative ? "ainative" : "Beam 2.62 Flink", ainative && mode.equals("served") ? "served, " + INSTANCES + " instances" : mode,
                s, elements / s, ratio(ainativeUnmarked, s), ratio(beam, s));
          }
        }
      }
    }
  }

  private static String ratio(Double baselineSeconds, double seconds) {
    return baselineSeconds == null ? "" : String.format(Locale.ROOT, "%.2fx", baselineSeconds / seconds);
  }

  private static String python(Path root) {
    String configured = System.getProperty("ainative.python", System.getenv("AINATIVE_PYTHON"));
    Path python = configured != null ? Path.of(configured) : root.resolve(".venv/bin/python");
    if (!Files.isExecutable(python)) {
      throw new IllegalStateException("no Python at " + python + ": run bin/test once (it makes .venv) or set -Dainative.python");
    }
    return python.toString();
  }

  /** Runs one job; returns its wall seconds as the script measured them. */
  private static double runJob(
      String python, Path root, Path script, Path work, int port, long elements, String mode, String environment)
      throws IOException, InterruptedException {
    String type = environment.contains("-") ? environment.substring(0, environment.indexOf('-')) : environment;
    List<String> command = new ArrayList<>(List.of(
        python, script.toString(), "localhost:" + port, work.toString(), Long.toString(elements), mode,
        "--instances=" + INSTANCES, "--environment_type=" + type));
    if (!type.equals(environment)) {
      command.add("--sdk_worker_parallelism=" + environment.substring(environment.indexOf('-') + 1));
    }
    if (type.equals("PROCESS")) {
      command.add(String.format(Locale.ROOT, "--environment_config={\"command\": \"%s\", \"env\": {\"AINATIVE_PYTHON\": \"%s\"}}",
          root.resolve("python/bin/ainative-python-worker"), python));
    }
    Path log = work.resolve(environment + "-" + port + "-" + mode + ".log");
    ProcessBuilder builder = new ProcessBuilder(command).redirectError(log.toFile());
    builder.environment().put("PYTHONPATH", root.resolve("python").toString());
    Process process = builder.start();
    String result = null;
    try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = out.readLine(); line != null; line = out.readLine()) {
        if (line.startsWith("RESULT ")) {
          result = line;
        }
      }
    }
    if (process.waitFor() != 0 || result == null) {
      throw new IllegalStateException(String.join(" ", command) + " failed; its stderr is in " + log);
    }
    return Double.parseDouble(result.split(" ")[1]);
  }

  /**
   * Beam's own Flink job server ({@code FlinkJobServerDriver}), started as its {@code main} does
   * without the Google Cloud Storage options that {@code main} sets (they are not on this class
   * path, and only tune uploads to GCS).
   */
  public static final class BeamJobServer {
    private BeamJobServer() {}

    public static void main(String[] args) {
      FileSystems.setDefaultPipelineOptions(PipelineOptionsFactory.create());
      FlinkJobServerDriver.fromParams(args).run();
    }
  }

  /** A job server in a JVM of its own, on free ports, stopped on close. */
  private static final class JobServer implements AutoCloseable {
    private final Process process;
    private final int port;

    private JobServer(Process process, int port) {
      this.process = process;
      this.port = port;
    }

    static JobServer start(String mainClass, Path work) throws IOException, InterruptedException {
      int port = freePort();
      List<String> args = new ArrayList<>(List.of("--job-port=" + port, "--artifact-port=" + freePort()));
      args.add(mainClass.equals(BEAM_SERVER) ? "--expansion-port=" + freePort() : "--expansion-port=-1");
      if (mainClass.equals(BEAM_SERVER)) {
        args.add("--flink-master=[local]");
      }
      Path log = work.resolve(mainClass.substring(mainClass.lastIndexOf('.') + 1).replace('$', '-') + ".log");
      Process process = ChildJvm.start(mainClass, log, args.toArray(new String[0]));
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      while (!accepts(port)) {
        if (!process.isAlive() || System.nanoTime() > deadline) {
          process.destroyForcibly();
          throw new IllegalStateException(mainClass + " did not start; its log is in " + log);
        }
        Thread.sleep(200);
      }
      return new JobServer(process, port);
    }

    private static boolean accepts(int port) {
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("localhost", port), 500);
        return true;
      } catch (IOException e) {
        return false;
      }
    }

    private static int freePort() throws IOException {
      try (ServerSocket socket = new ServerSocket(0)) {
        return socket.getLocalPort();
      }
    }

    @Override
    public void close() throws InterruptedException {
      process.destroy();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    }
  }
}
