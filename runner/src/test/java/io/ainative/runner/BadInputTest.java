package io.ainative.runner;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.junit.Assert.assertThrows;

import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import java.net.ServerSocket;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.options.PortablePipelineOptions;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.util.construction.PipelineTranslation;
import org.apache.beam.sdk.util.construction.SdkComponents;
import org.junit.Test;

/** Bad options and unrunnable pipelines fail before any job is submitted, naming the culprit. */
public class BadInputTest {

  private static AiNativeFlinkPipelineOptions parse(String... args) {
    AiNativeFlinkPipelineOptions options = AiNativeFlinkRunner.parseOptions(args);
    options.setRunner(AiNativeFlinkRunner.class);
    return options;
  }

  private static String creationError(String... args) {
    AiNativeFlinkPipelineOptions options = parse(args);
    return assertThrows(IllegalArgumentException.class, () -> AiNativeFlinkRunner.fromOptions(options)).getMessage();
  }

  @Test
  public void runnerName_resolvesToAiNativeFlinkRunner() {
    assertThat(
        PipelineOptionsFactory.fromArgs("--runner=AiNativeFlinkRunner").create().getRunner().getName(),
        containsString("io.ainative.runner.AiNativeFlinkRunner"));
  }

  @Test
  public void malformedFlinkMaster_failsAtRunnerCreation_namingTheOption() {
    assertThat(creationError("--flinkMaster=localhost"), allOf(containsString("--flinkMaster"), containsString("port is missing")));
    assertThat(creationError("--flinkMaster=[cluster]"), containsString("--flinkMaster '[cluster]'"));
  }

  @Test
  public void optionOfTheWrongType_failsNamingTheOption() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> parse("--jobName=x", "--parallelism=many"));
    assertThat(e.getMessage(), containsString("Invalid value 'many' for --parallelism (a Integer)"));
    assertThat(
        assertThrows(IllegalArgumentException.class, () -> parse("--localTaskSlots=2.5")).getMessage(),
        containsString("Invalid value '2.5' for --localTaskSlots (a int)"));
  }

  @Test
  public void outOfRangeOptions_failAtRunnerCreation_namingTheOption() {
    assertThat(creationError("--parallelism=0"), containsString("--parallelism=0"));
    assertThat(creationError("--localTaskSlots=-1"), containsString("--localTaskSlots=-1"));
    assertThat(creationError("--checkpointingInterval=0"), containsString("--checkpointingInterval=0"));
    assertThat(
        creationError("--checkpointingInterval=1000", "--checkpointingMode=SOMETIMES"),
        containsString("--checkpointingMode=SOMETIMES"));
    assertThat(creationError("--stateBackend=rocksdb"), containsString("--stateBackendStoragePath"));
    assertThat(creationError("--flinkConfDir=/nonexistent/ainative"), containsString("--flinkConfDir=/nonexistent/ainative"));
  }

  @Test
  public void batchRuntimeModeInTheFlinkConfiguration_isRefused_namingTheKey() throws Exception {
    java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("ainative-conf");
    java.nio.file.Files.writeString(dir.resolve("config.yaml"), "execution.runtime-mode: BATCH\n");
    assertThat(
        creationError("--flinkConfDir=" + dir),
        allOf(containsString("execution.runtime-mode: BATCH"), containsString("STREAMING")));
  }

  @Test
  public void unreachableCluster_failsBeforeSubmission_namingTheOption() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    AiNativeFlinkPipelineOptions options = parse("--flinkMaster=localhost:" + port, "--flinkMasterCheckTimeoutMillis=2000");
    options.setRunner(AiNativeFlinkRunner.class);
    Pipeline p = Pipeline.create(options);
    p.apply(Create.of("x"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, p::run);
    assertThat(
        e.getMessage(),
        allOf(containsString("--flinkMaster=localhost:" + port + " is not reachable"), containsString("ConnectException")));
  }

  @Test
  public void transformNothingImplements_failsAtSubmission_withItsNameAndUrn() {
    AiNativeFlinkPipelineOptions options = parse("--flinkMaster=[local]");
    options.setRunner(AiNativeFlinkRunner.class);
    Pipeline p = Pipeline.create(options);
    p.apply(Create.of("x")).apply("MyOddStep", new UnsupportedPrimitive());
    UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, p::run);
    assertThat(
        e.getMessage(),
        allOf(
            containsString("transform 'MyOddStep' has URN '" + UnsupportedPrimitive.URN + "'"),
            containsString("neither the runner nor the Java SDK harness implements")));
  }

  @Test
  public void runnerExecutedTransformWithUnknownUrn_failsAtSubmission_withItsNameAndUrn() {
    AiNativeFlinkPipelineOptions options = parse("--flinkMaster=[local]");
    options.setRunner(AiNativeFlinkRunner.class);
    options.as(PortablePipelineOptions.class).setDefaultEnvironmentType("EMBEDDED");
    Pipeline p = Pipeline.create(options);
    p.apply(Create.of("x")).apply("ServiceStep", new UnsupportedPrimitive());
    RunnerApi.Pipeline proto = PipelineTranslation.toProto(p, SdkComponents.create(options));
    // As another SDK or a runner-native transform would send it: no environment.
    RunnerApi.Components.Builder components = proto.getComponents().toBuilder();
    proto.getComponents().getTransformsMap().forEach((id, t) -> {
      if (t.getUniqueName().equals("ServiceStep")) {
        components.putTransforms(id, t.toBuilder().clearEnvironmentId().build());
      }
    });
    RunnerApi.Pipeline withoutEnvironment = proto.toBuilder().setComponents(components).build();
    UnsupportedOperationException e =
        assertThrows(
            UnsupportedOperationException.class,
            () -> AiNativeFlinkRunner.fromOptions(options).runPortable(withoutEnvironment));
    assertThat(
        e.getMessage(),
        allOf(
            containsString("transform 'ServiceStep' has URN '" + UnsupportedPrimitive.URN + "'"),
            containsString("which the runner does not translate")));
  }
}
