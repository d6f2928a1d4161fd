package io.ainative.runner.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;
import org.apache.beam.fn.harness.PTransformRunnerFactory;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.sdk.util.construction.Environments;
import org.apache.beam.sdk.util.construction.graph.ExecutableStage;
import org.apache.beam.vendor.grpc.v1p60p1.com.google.protobuf.InvalidProtocolBufferException;

/**
 * Checks, before anything is submitted, that every transform of a fused pipeline is one the
 * runner translates or one the SDK harness that would execute it implements, and names the
 * transforms that are neither.
 */
public final class SupportedTransforms {

  // The embedded environment's URN is the bare type name (Beam keeps it non-public, for in-process use).
  private static final String EMBEDDED_ENV_URN = Environments.ENVIRONMENT_EMBEDDED;

  private final Set<String> runnerUrns;
  private final Set<String> javaHarnessUrns;

  /**
   * @param runnerUrns the URNs of transforms the Flink translation implements itself
   */
  public SupportedTransforms(Set<String> runnerUrns) {
    this.runnerUrns = Collections.unmodifiableSet(new HashSet<>(runnerUrns));
    Set<String> harness = new HashSet<>();
    for (PTransformRunnerFactory.Registrar registrar :
        ServiceLoader.load(PTransformRunnerFactory.Registrar.class, SupportedTransforms.class.getClassLoader())) {
      harness.addAll(registrar.getPTransformRunnerFactories().keySet());
    }
    this.javaHarnessUrns = Collections.unmodifiableSet(harness);
  }

  /**
   * @throws UnsupportedOperationException listing each unsupported transform by its unique name
   *     and URN
   */
  public void check(RunnerApi.Pipeline fused) {
    RunnerApi.Components components = fused.getComponents();
    List<String> problems = new ArrayList<>();
    for (String rootId : fused.getRootTransformIdsList()) {
      RunnerApi.PTransform transform = components.getTransformsOrThrow(rootId);
      String urn = transform.getSpec().getUrn();
      if (ExecutableStage.URN.equals(urn)) {
        checkStage(transform, components, problems);
      } else if (!runnerUrns.contains(urn)) {
        problems.add(describe(transform) + ", which the runner does not translate");
      }
    }
    if (!problems.isEmpty()) {
      throw new UnsupportedOperationException(
          "AiNativeFlinkRunner cannot run this pipeline: " + String.join("; ", problems) + ".");
    }
  }

  private void checkStage(RunnerApi.PTransform stage, RunnerApi.Components components, List<String> problems) {
    RunnerApi.ExecutableStagePayload payload;
    try {
      payload = RunnerApi.ExecutableStagePayload.parseFrom(stage.getSpec().getPayload());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("Malformed executable stage " + stage.getUniqueName(), e);
    }
    RunnerApi.Environment environment = payload.getEnvironment();
    if (!EMBEDDED_ENV_URN.equals(environment.getUrn())) {
      // Another SDK's harness (e.g. Python's) decides for itself what it implements.
      return;
    }
    for (String id : payload.getTransformsList()) {
      RunnerApi.PTransform transform = components.getTransformsOrThrow(id);
      if (!javaHarnessUrns.contains(transform.getSpec().getUrn())) {
        problems.add(describe(transform) + ", which neither the runner nor the Java SDK harness implements");
      }
    }
  }

  private static String describe(RunnerApi.PTransform transform) {
    return String.format("transform '%s' has URN '%s'", transform.getUniqueName(), transform.getSpec().getUrn());
  }
}
