package io.ainative.harness;

import static org.junit.Assert.assertEquals;

import org.junit.Test;

/** Each {@link InferenceServer.Execution} resolves to the factory that starts it. */
public class ModelBackendsTest {
  @Test
  public void everyExecution_resolvesToItsOwnFactory() {
    for (InferenceServer.Execution execution : InferenceServer.Execution.values()) {
      assertEquals(execution, ModelBackends.factory(execution).execution());
    }
  }
}
