package io.ainative.runner.translation.service;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.sameInstance;

import java.util.Map;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.sdk.util.construction.Environments;
import org.junit.Test;

/** The thread variables a served stage's PROCESS workers start with. */
public class WorkerThreadsTest {
  private static RunnerApi.ExecutableStagePayload stageIn(RunnerApi.Environment environment) {
    return RunnerApi.ExecutableStagePayload.newBuilder()
        .setEnvironment(environment)
        .setComponents(RunnerApi.Components.newBuilder().putEnvironments("py", environment).putEnvironments("java", Environments.createDockerEnvironment("java-image")))
        .build();
  }

  private static Map<String, String> envOf(RunnerApi.Environment environment) throws Exception {
    return RunnerApi.ProcessPayload.parseFrom(environment.getPayload()).getEnvMap();
  }

  @Test
  public void processEnvironment_getsEachVariable_inThePayloadAndItsComponent() throws Exception {
    RunnerApi.Environment process = Environments.createProcessEnvironment("", "", "/bin/worker", Map.of("AINATIVE_PYTHON", "/venv/bin/python"));

    RunnerApi.ExecutableStagePayload limited = WorkerThreads.limit(stageIn(process), 3);

    Map<String, String> expected = Map.of("AINATIVE_PYTHON", "/venv/bin/python", "OMP_NUM_THREADS", "3", "OPENBLAS_NUM_THREADS", "3", "MKL_NUM_THREADS", "3");
    assertThat(envOf(limited.getEnvironment()), equalTo(expected));
    assertThat(envOf(limited.getComponents().getEnvironmentsOrThrow("py")), equalTo(expected));
    assertThat(
        RunnerApi.ProcessPayload.parseFrom(limited.getEnvironment().getPayload()).getCommand(), equalTo("/bin/worker"));
    assertThat(limited.getComponents().getEnvironmentsOrThrow("java"), equalTo(Environments.createDockerEnvironment("java-image")));
  }

  @Test
  public void aVariableTheEnvironmentSets_isKept() throws Exception {
    RunnerApi.Environment process = Environments.createProcessEnvironment("", "", "/bin/worker", Map.of("OPENBLAS_NUM_THREADS", "8"));

    Map<String, String> env = envOf(WorkerThreads.limit(stageIn(process), 1).getEnvironment());

    assertThat(env, equalTo(Map.of("OMP_NUM_THREADS", "1", "OPENBLAS_NUM_THREADS", "8", "MKL_NUM_THREADS", "1")));
  }

  @Test
  public void otherEnvironments_areLeftAsTheyAre() {
    RunnerApi.ExecutableStagePayload external = stageIn(RunnerApi.Environment.newBuilder().setUrn("beam:env:external:v1").build());

    assertThat(WorkerThreads.limit(external, 1), sameInstance(external));
  }
}
