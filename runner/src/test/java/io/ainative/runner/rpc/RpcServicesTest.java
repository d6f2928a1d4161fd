package io.ainative.runner.rpc;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.Assert.assertThrows;

import io.ainative.runner.AiNativeFlinkPipelineOptions;
import io.ainative.transforms.InferenceOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.Test;

public class RpcServicesTest {

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
}
