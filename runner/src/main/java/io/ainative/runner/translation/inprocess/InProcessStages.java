package io.ainative.runner.translation.inprocess;

import java.util.Optional;
import java.util.Set;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.reflect.DoFnSignature;
import org.apache.beam.sdk.transforms.reflect.DoFnSignatures;
import org.apache.beam.sdk.util.construction.Environments;
import org.apache.beam.sdk.util.construction.PTransformTranslation;
import org.apache.beam.sdk.util.construction.ParDoTranslation;
import org.apache.beam.vendor.grpc.v1p60p1.com.google.protobuf.InvalidProtocolBufferException;

/**
 * Which fused stages the runner executes in its own task thread instead of sending their bundles
 * through the Fn API: stages of a Java pipeline whose SDK classes are in this JVM (the {@code
 * EMBEDDED} environment) made only of what {@link JavaStageRunner} runs.
 *
 * <p>A stage qualifies when it has no user state, timers or side inputs, and each of its
 * transforms is a Java {@code ParDo} that does not ask for stable input or a bundle finalizer and
 * has no {@code @OnWindowExpiration}, the process step of a bounded splittable DoFn without bundle
 * methods ({@link BoundedSplittableNode}), a window assignment, a flatten, or a
 * phase of a lifted combine with a plain Java {@code CombineFn} ({@link CombinePhases}).
 * Everything else keeps the SDK harness, which runs every transform Beam's Java SDK has.
 */
@Internal
public final class InProcessStages {

  /** What {@link JavaStageRunner} executes, besides Java ParDos. */
  static final Set<String> OTHER_URNS =
      Set.of(PTransformTranslation.ASSIGN_WINDOWS_TRANSFORM_URN, PTransformTranslation.FLATTEN_TRANSFORM_URN);

  private InProcessStages() {}

  /** Why {@code stage} must run in the SDK harness, or empty when the runner can execute it. */
  public static Optional<String> whyNot(RunnerApi.ExecutableStagePayload stage) {
    if (!Environments.ENVIRONMENT_EMBEDDED.equals(stage.getEnvironment().getUrn())) {
      return Optional.of("its environment is " + stage.getEnvironment().getUrn() + ", not this JVM");
    }
    if (stage.getUserStatesCount() > 0 || stage.getTimersCount() > 0) {
      return Optional.of("it has user state or timers");
    }
    if (stage.getSideInputsCount() > 0) {
      return Optional.of("it reads side inputs");
    }
    RunnerApi.Components components = stage.getComponents();
    for (String id : stage.getTransformsList()) {
      RunnerApi.PTransform transform = components.getTransformsOrThrow(id);
      String urn = transform.getSpec().getUrn();
      if (OTHER_URNS.contains(urn)) {
        continue;
      }
      if (CombinePhases.URNS.contains(urn)) {
        Optional<String> combine = whyNotCombine(transform);
        if (combine.isPresent()) {
          return combine;
        }
        continue;
      }
      boolean splittable = PTransformTranslation.SPLITTABLE_PROCESS_SIZED_ELEMENTS_AND_RESTRICTIONS_URN.equals(urn);
      if (!PTransformTranslation.PAR_DO_TRANSFORM_URN.equals(urn) && !splittable) {
        return Optional.of("transform '" + transform.getUniqueName() + "' is " + urn);
      }
      if (splittable) {
        for (String out : transform.getOutputsMap().values()) {
          if (components.getPcollectionsOrThrow(out).getIsBounded() != RunnerApi.IsBounded.Enum.BOUNDED) {
            return Optional.of("splittable '" + transform.getUniqueName() + "' is unbounded");
          }
        }
      }
      Optional<String> parDo = whyNotParDo(transform, splittable);
      if (parDo.isPresent()) {
        return parDo;
      }
    }
    return Optional.empty();
  }

  private static Optional<String> whyNotParDo(RunnerApi.PTransform transform, boolean splittable) {
    String name = transform.getUniqueName();
    RunnerApi.ParDoPayload payload;
    try {
      payload = RunnerApi.ParDoPayload.parseFrom(transform.getSpec().getPayload());
    } catch (InvalidProtocolBufferException e) {
      return Optional.of("the ParDo payload of '" + name + "' does not parse");
    }
    if (!ParDoTranslation.CUSTOM_JAVA_DO_FN_URN.equals(payload.getDoFn().getUrn())) {
      return Optional.of("'" + name + "' is a " + payload.getDoFn().getUrn() + " DoFn, not a Java one");
    }
    if (payload.getSideInputsCount() > 0 || payload.getStateSpecsCount() > 0 || payload.getTimerFamilySpecsCount() > 0
        || (!splittable && !payload.getRestrictionCoderId().isEmpty()) || payload.getRequiresStableInput()
        || payload.getRequiresTimeSortedInput()) {
      return Optional.of("'" + name + "' uses side inputs, state, timers, restrictions or stable input");
    }
    DoFn<?, ?> fn;
    try {
      fn = ParDoTranslation.getDoFn(payload);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      // Classes this JVM cannot load (a pipeline built elsewhere) stay with the harness that can.
      return Optional.of("the DoFn of '" + name + "' cannot be loaded here: " + e);
    }
    DoFnSignature signature = DoFnSignatures.getSignature(fn.getClass());
    if (signature.usesState() || signature.usesTimers() || signature.processElement().isSplittable() != splittable
        || signature.processElement().requiresStableInput() || signature.onWindowExpiration() != null) {
      return Optional.of("the DoFn of '" + name + "' uses state, timers, splitting, stable input or window expiration");
    }
    if (splittable && (signature.startBundle() != null || signature.finishBundle() != null)) {
      return Optional.of("the splittable DoFn of '" + name + "' has bundle methods");
    }
    if (asksForFinalizer(signature.processElement().extraParameters())
        || (signature.startBundle() != null && asksForFinalizer(signature.startBundle().extraParameters()))
        || (signature.finishBundle() != null && asksForFinalizer(signature.finishBundle().extraParameters()))) {
      return Optional.of("the DoFn of '" + name + "' asks for a bundle finalizer");
    }
    return Optional.empty();
  }

  private static Optional<String> whyNotCombine(RunnerApi.PTransform transform) {
    try {
      if (CombinePhases.combineFn(transform) == null) {
        return Optional.of("'" + transform.getUniqueName() + "' does not combine with a plain Java CombineFn");
      }
    } catch (RuntimeException e) {
      return Optional.of("the CombineFn of '" + transform.getUniqueName() + "' cannot be loaded here: " + e);
    }
    return Optional.empty();
  }

  private static boolean asksForFinalizer(java.util.List<DoFnSignature.Parameter> parameters) {
    return parameters.stream().anyMatch(p -> p instanceof DoFnSignature.Parameter.BundleFinalizerParameter);
  }
}
