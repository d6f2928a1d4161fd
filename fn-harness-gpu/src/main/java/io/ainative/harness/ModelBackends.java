package io.ainative.harness;

import java.util.ServiceLoader;

/** Finds the {@link ModelBackend.Factory} of an execution. */
final class ModelBackends {
  private ModelBackends() {}

  static ModelBackend.Factory factory(InferenceServer.Execution execution) {
    if (execution == InferenceServer.Execution.DIRECT) {
      return new DirectModelBackend.Factory();
    }
    for (ModelBackend.Factory factory :
        ServiceLoader.load(ModelBackend.Factory.class, ModelBackend.Factory.class.getClassLoader())) {
      if (factory.execution() == execution) {
        return factory;
      }
    }
    throw new IllegalStateException(
        "no model backend for execution " + execution + " on the classpath (none registered in META-INF/services/"
            + ModelBackend.Factory.class.getName() + ")");
  }
}
