package io.ainative.runner;

import io.ainative.runner.internal.FlinkMaster;
import io.ainative.runner.service.ServiceStatus;
import io.ainative.runner.service.discovery.ServiceControl;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobID;
import org.apache.flink.client.deployment.StandaloneClusterId;
import org.apache.flink.client.program.rest.RestClusterClient;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;

/**
 * Scales, or shows, an inference service of a job that runs on a Flink cluster, through the
 * JobManager's REST API (Flink's {@code /jobs/:jobid/coordinators/:operatorid}): for jobs whose
 * {@link AiNativePipelineResult} is out of reach, such as those a Python SDK submitted through the
 * job server.
 *
 * <pre>
 * java -cp ainative-runner.jar:... io.ainative.runner.ScaleService \
 *     --flinkMaster=host:8081 --jobId=&lt;Flink job id&gt; --step=&lt;RunInference step name&gt; [--instances=N|auto]
 * </pre>
 *
 * <p>Without {@code --instances} it prints the service's status; with it, it scales first ({@code
 * --instances=auto} hands the count of a service that scales by load back to its autoscaler). {@code
 * --step} is the unique name of a RunInference step the service serves (for a shared service, any
 * of its steps). Exits with 1 when the service refuses (the message says why), 2 on bad arguments.
 */
public final class ScaleService {
  private static final long TIMEOUT_MILLIS = TimeUnit.SECONDS.toMillis(30);

  private ScaleService() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> named = new HashMap<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (!arg.startsWith("--") || eq < 0) {
        System.err.println("Invalid argument '" + arg + "': use --flinkMaster=host:port --jobId=ID --step=NAME [--instances=N|auto]");
        System.exit(2);
      }
      named.put(arg.substring(2, eq), arg.substring(eq + 1));
    }
    ServiceStatus status;
    try {
      String master = require(named, "flinkMaster");
      JobID job = JobID.fromHexString(require(named, "jobId"));
      String step = require(named, "step");
      String instances = named.get("instances");
      status =
          instances == null
              ? status(master, job, step)
              : instances.equals("auto") ? releaseScale(master, job, step) : scale(master, job, step, Integer.parseInt(instances));
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(e instanceof NumberFormatException ? 2 : 1);
      return;
    } catch (IllegalStateException e) {
      System.err.println(e.getMessage());
      System.exit(1);
      return;
    }
    System.out.println(status);
  }

  /**
   * The status of the service that RunInference step {@code step} of job {@code job} calls.
   *
   * @param flinkMaster the REST endpoint of the JobManager, {@code host:port}
   */
  public static ServiceStatus status(String flinkMaster, JobID job, String step) throws Exception {
    try (RestClusterClient<StandaloneClusterId> client = client(flinkMaster)) {
      return ServiceControl.status((op, request) -> client.sendCoordinationRequest(job, op, request), step, TIMEOUT_MILLIS);
    }
  }

  /**
   * Scales the service that RunInference step {@code step} of job {@code job} calls; see {@link
   * AiNativePipelineResult#scaleService}.
   *
   * @param flinkMaster the REST endpoint of the JobManager, {@code host:port}
   * @throws IllegalArgumentException when the count is out of the service's bounds
   */
  public static ServiceStatus scale(String flinkMaster, JobID job, String step, int activeInstances) throws Exception {
    try (RestClusterClient<StandaloneClusterId> client = client(flinkMaster)) {
      return ServiceControl.scale(
          (op, request) -> client.sendCoordinationRequest(job, op, request), step, activeInstances, TIMEOUT_MILLIS);
    }
  }

  /**
   * Lets the service that RunInference step {@code step} of job {@code job} calls scale by load
   * again; see {@link AiNativePipelineResult#releaseServiceScale}.
   *
   * @throws IllegalArgumentException when the service does not scale by load
   */
  public static ServiceStatus releaseScale(String flinkMaster, JobID job, String step) throws Exception {
    try (RestClusterClient<StandaloneClusterId> client = client(flinkMaster)) {
      return ServiceControl.releaseScale((op, request) -> client.sendCoordinationRequest(job, op, request), step, TIMEOUT_MILLIS);
    }
  }

  private static RestClusterClient<StandaloneClusterId> client(String flinkMaster) throws Exception {
    FlinkMaster master = FlinkMaster.parse(flinkMaster);
    if (master.kind() != FlinkMaster.Kind.REMOTE) {
      throw new IllegalArgumentException("--flinkMaster must name a JobManager's REST endpoint (host:port), was " + flinkMaster);
    }
    Configuration conf = new Configuration();
    conf.set(RestOptions.ADDRESS, master.host());
    conf.set(RestOptions.PORT, master.port());
    return new RestClusterClient<>(conf, StandaloneClusterId.getInstance());
  }

  private static String require(Map<String, String> named, String name) {
    String value = named.get(name);
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException("Missing --" + name + ": use --flinkMaster=host:port --jobId=ID --step=NAME [--instances=N]");
    }
    return value;
  }
}
