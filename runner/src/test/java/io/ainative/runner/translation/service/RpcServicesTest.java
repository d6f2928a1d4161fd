package io.ainative.runner.translation.service;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.Assert.assertThrows;

import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import io.ainative.runner.service.discovery.ServiceSpec;
import io.ainative.runner.service.source.ServiceInstance;
import io.ainative.transforms.InferenceOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.Test;

public class RpcServicesTest {
  private static final String MODEL_DIR = io.ainative.runner.testing.PlaceholderModel.directory();

  private static AiNativeFlinkPipelineOptions options(String... args) {
    return PipelineOptionsFactory.fromArgs(args).as(AiNativeFlinkPipelineOptions.class);
  }

  @Test
  public void maxInstances_defaultsToTheServicesInstances() {
    InferenceOptions three = InferenceOptions.defaults().withInstances(3);
    assertThat(RpcServices.maxInstances("Classify", three, options()), equalTo(3));
  }

  @Test
  public void maxInstances_isTheOptionWhenSet() {
    InferenceOptions one = InferenceOptions.defaults();
    assertThat(RpcServices.maxInstances("Classify", one, options("--maxInferenceInstances=4")), equalTo(4));
  }

  @Test
  public void maxInstancesBelowAServicesInstances_isRefused_namingTheStepAndBothCounts() {
    InferenceOptions three = InferenceOptions.defaults().withInstances(3);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> RpcServices.maxInstances("Classify", three, options("--maxInferenceInstances=2")));
    assertThat(e.getMessage(), containsString("--maxInferenceInstances=2"));
    assertThat(e.getMessage(), containsString("'Classify'"));
    assertThat(e.getMessage(), containsString("3 instances"));
  }

  @Test
  public void intraOpThreads_reachTheServersHostOptions_andDefaultToCoresPerCopy() {
    InferenceOptions two = InferenceOptions.defaults().withModelCopies(2);
    for (int threads : new int[] {0, 1, 3}) {
      ServiceSpec spec = spec(two, RpcServices.intraOpThreads(options("--inferenceIntraOpThreads=" + threads)));
      int expected = threads > 0 ? threads : Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
      assertThat(
          "--inferenceIntraOpThreads=" + threads,
          ServiceInstance.serverConfig(spec).hostOptions().withCopiesPerJvm(2).intraOpThreads(),
          equalTo(expected));
    }
  }

  @Test
  public void negativeIntraOpThreads_areRefused_namingTheOption() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> RpcServices.intraOpThreads(options("--inferenceIntraOpThreads=-1")));
    assertThat(e.getMessage(), containsString("--inferenceIntraOpThreads=-1"));
  }

  private static ServiceSpec spec(InferenceOptions options, int intraOpThreads) {
    io.ainative.transforms.ModelSpec<Integer, Integer> model =
        io.ainative.transforms.ModelSpec.<Integer, Integer>builder()
            .setModelUri(MODEL_DIR)
            .setProcessing((manager, x) -> null, output -> 0)
            .build();
    return new ServiceSpec(
        "svc", model, org.apache.beam.sdk.coders.VarIntCoder.of(), org.apache.beam.sdk.coders.VarIntCoder.of(), options,
        io.ainative.harness.InferenceServer.Execution.DIRECT, java.util.List.of("Classify"), options.instances(), 1000, intraOpThreads);
  }
}
