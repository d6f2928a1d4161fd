package io.ainative.runner.internal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;
import org.apache.beam.fn.harness.PTransformRunnerFactory;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.beam.sdk.util.construction.BeamUrns;
import org.apache.beam.sdk.util.construction.Environments;
import org.apache.beam.sdk.util.construction.graph.ExecutableStage;
import org.apache.beam.vendor.grpc.v1p60p1.com.google.protobuf.InvalidProtocolBufferException;

/**
 * Checks, before anything is submitted, that every primitive transform of a pipeline is one the
 * runner translates or one the SDK harness that would execute it implements, and names the
 * transforms that are neither.
 *
 * <p>Two checks, because Beam's fuser silently leaves out any leaf whose URN it does not take for
 * a primitive: {@link #checkLeaves} before fusion (what implements each leaf) and {@link
 * #checkNothingDropped} after it (every leaf is in a stage or is a runner transform).
 */
@Internal
public final class SupportedTransforms {

  // The embedded environment's URN is the bare type name (Beam keeps it non-public, for in-process use).
  private static final String EMBEDDED_ENV_URN = Environments.ENVIRONMENT_EMBEDDED;

  /** The environments Beam's bundle factory can start: Docker, a process, a worker pool, in-process. */
  private static final Set<String> STARTABLE_ENVIRONMENTS =
      Set.of(
          BeamUrns.getUrn(RunnerApi.StandardEnvironments.Environments.DOCKER),
          BeamUrns.getUrn(RunnerApi.StandardEnvironments.Environments.PROCESS),
          BeamUrns.getUrn(RunnerApi.StandardEnvironments.Environments.EXTERNAL),
          EMBEDDED_ENV_URN);

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
   * Checks each leaf transform of a pipeline that is expanded but not yet fused.
   *
   * @throws UnsupportedOperationException listing each unsupported transform by its unique name
   *     and URN
   */
  public void checkLeaves(RunnerApi.Pipeline pipeline) {
    RunnerApi.Components components = pipeline.getComponents();
    List<String> problems = new ArrayList<>();
    java.util.Map<String, List<String>> unstartable = new java.util.TreeMap<>();
    for (String id : leaves(pipeline)) {
      RunnerApi.PTransform transform = components.getTransformsOrThrow(id);
      String urn = transform.getSpec().getUrn();
      if (runnerUrns.contains(urn) || passesInputThrough(transform)) {
        continue;
      }
      if (transform.getEnvironmentId().isEmpty()) {
        problems.add(describe(transform) + ", which the runner does not translate");
        continue;
      }
      RunnerApi.Environment environment = components.getEnvironmentsOrThrow(transform.getEnvironmentId());
      if (!STARTABLE_ENVIRONMENTS.contains(environment.getUrn())) {
        unstartable.computeIfAbsent(transform.getEnvironmentId(), e -> new ArrayList<>()).add(transform.getUniqueName());
        continue;
      }
      // Another SDK's harness (e.g. Python's) decides for itself what it implements.
      if (EMBEDDED_ENV_URN.equals(environment.getUrn()) && !javaHarnessUrns.contains(urn)) {
        problems.add(describe(transform) + ", which neither the runner nor the Java SDK harness implements");
      }
    }
    unstartable.forEach(
        (environmentId, transforms) ->
            problems.add(
                String.format(
                    "environment '%s' has type '%s', which the runner cannot start (it starts %s); it runs transform(s) %s",
                    environmentId,
                    components.getEnvironmentsOrThrow(environmentId).getUrn(),
                    STARTABLE_ENVIRONMENTS,
                    transforms)));
    fail(problems);
  }

  /**
   * Checks that fusion kept every leaf of {@code expanded}: each is a root of {@code fused} or a
   * transform of one of its executable stages.
   */
  public void checkNothingDropped(RunnerApi.Pipeline expanded, RunnerApi.Pipeline fused) {
    Set<String> kept = new HashSet<>(fused.getRootTransformIdsList());
    for (String rootId : fused.getRootTransformIdsList()) {
      RunnerApi.PTransform root = fused.getComponents().getTransformsOrThrow(rootId);
      if (ExecutableStage.URN.equals(root.getSpec().getUrn())) {
        try {
          kept.addAll(RunnerApi.ExecutableStagePayload.parseFrom(root.getSpec().getPayload()).getTransformsList());
        } catch (InvalidProtocolBufferException e) {
          throw new IllegalStateException("Malformed executable stage " + root.getUniqueName(), e);
        }
      }
    }
    List<String> problems = new ArrayList<>();
    for (String id : leaves(expanded)) {
      if (!kept.contains(id) && !passesInputThrough(expanded.getComponents().getTransformsOrThrow(id))) {
        problems.add(
            describe(expanded.getComponents().getTransformsOrThrow(id))
                + ", which is not a primitive the runner or Beam's fuser knows, so it would not run");
      }
    }
    fail(problems);
  }

  /**
   * A composite with no URN and no parts that only hands on (some of) its inputs, like {@code
   * PCollectionList} projections: nothing to execute, and Beam's fuser rightly ignores it.
   */
  private static boolean passesInputThrough(RunnerApi.PTransform transform) {
    return transform.getSpec().getUrn().isEmpty()
        && transform.getInputsMap().values().containsAll(transform.getOutputsMap().values());
  }

  private static List<String> leaves(RunnerApi.Pipeline pipeline) {
    List<String> leaves = new ArrayList<>();
    Deque<String> pending = new ArrayDeque<>(pipeline.getRootTransformIdsList());
    Set<String> seen = new HashSet<>();
    while (!pending.isEmpty()) {
      String id = pending.pop();
      if (!seen.add(id)) {
        continue;
      }
      RunnerApi.PTransform transform = pipeline.getComponents().getTransformsOrThrow(id);
      if (transform.getSubtransformsCount() == 0) {
        leaves.add(id);
      } else {
        pending.addAll(transform.getSubtransformsList());
      }
    }
    return leaves;
  }

  private static void fail(List<String> problems) {
    if (!problems.isEmpty()) {
      throw new UnsupportedOperationException(
          "AiNativeFlinkRunner cannot run this pipeline: " + String.join("; ", problems) + ".");
    }
  }

  private static String describe(RunnerApi.PTransform transform) {
    return String.format("transform '%s' has URN '%s'", transform.getUniqueName(), transform.getSpec().getUrn());
  }
}
