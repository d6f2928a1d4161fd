package io.ainative.runner.internal;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.util.SerializableUtils;
import org.apache.beam.sdk.util.construction.ModelCoders;
import org.apache.beam.sdk.util.construction.PTransformTranslation;
import org.apache.beam.vendor.grpc.v1p60p1.com.google.protobuf.InvalidProtocolBufferException;

/**
 * Combiner lifting: rewrites each eligible {@code Combine.perKey} composite into a partial combine
 * before the shuffle and a final one after it, as Beam's batch runners and Python's portable
 * runner do.
 *
 * <p>A lifted {@code Combine.perKey} becomes four primitives that Beam's SDK harnesses implement:
 * {@code Precombine} (a per-bundle table of accumulators by key and window, fused into the stage
 * that produces the input), a {@code GroupByKey} of accumulators, then {@code MergeAccumulators}
 * and {@code ExtractOutputs} (fused after the shuffle). The shuffle and the grouping state then
 * carry about one accumulator per key, window and bundle instead of every input element.
 *
 * <p>Lifted only where that cannot change results:
 *
 * <ul>
 *   <li>the composite has a combine payload and a single input (combines with side inputs have
 *       neither);
 *   <li>the input is a KV (windows may merge: a precombine table groups by the windows an element
 *       arrives in, and the shuffle merges them and their accumulators as it would the elements);
 *   <li>a trigger that counts no elements ({@link #countsNoElements}: a count trigger after the
 *       shuffle would count accumulators) and the end-of-window output time (a precombined value
 *       carries the timestamp of one of its inputs);
 *   <li>a Java {@code CombineFn} that this JVM can load and that is a plain {@link
 *       Combine.CombineFn}: the harness's precombine does not call a {@code CombineFnWithContext}.
 *       Python's portable runner lifts the combines of a Python batch pipeline before it submits.
 * </ul>
 *
 * Everything else keeps the composite's own expansion (GroupByKey, then the combine over the
 * grouped values).
 */
final class CombinerLifting {

  static final String JAVA_COMBINE_FN_URN = "beam:combinefn:javasdk:v1";

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(CombinerLifting.class);

  private CombinerLifting() {}

  /** Returns the pipeline with every eligible {@code Combine.perKey} lifted. */
  static RunnerApi.Pipeline lift(RunnerApi.Pipeline pipeline) {
    RunnerApi.Components components = pipeline.getComponents();
    RunnerApi.Pipeline.Builder builder = pipeline.toBuilder();
    RunnerApi.Components.Builder out = builder.getComponentsBuilder();
    Ids ids = new Ids(components);
    List<String> lifted = new java.util.ArrayList<>();
    for (Map.Entry<String, RunnerApi.PTransform> e : components.getTransformsMap().entrySet()) {
      if (liftable(e.getValue(), components)) {
        rewrite(e.getKey(), e.getValue(), components, out, ids);
        lifted.add(e.getValue().getUniqueName());
      }
    }
    if (!lifted.isEmpty()) {
      LOG.debug("Combines lifted into a precombine before the shuffle: {}", lifted);
    }
    return builder.build();
  }

  /** Whether a transform is a {@code Combine.perKey} that lifting cannot change the results of. */
  static boolean liftable(RunnerApi.PTransform transform, RunnerApi.Components components) {
    if (!PTransformTranslation.COMBINE_PER_KEY_TRANSFORM_URN.equals(transform.getSpec().getUrn())
        || transform.getSpec().getPayload().isEmpty()
        || transform.getInputsCount() != 1
        || transform.getOutputsCount() != 1
        || transform.getEnvironmentId().isEmpty()) {
      return false;
    }
    RunnerApi.PCollection input = components.getPcollectionsOrThrow(only(transform.getInputsMap().values()));
    RunnerApi.Coder inputCoder = components.getCodersOrThrow(input.getCoderId());
    if (!ModelCoders.KV_CODER_URN.equals(inputCoder.getSpec().getUrn())) {
      return false;
    }
    RunnerApi.WindowingStrategy windowing =
        components.getWindowingStrategiesOrThrow(input.getWindowingStrategyId());
    if (!countsNoElements(windowing.getTrigger()) || windowing.getOutputTime() != RunnerApi.OutputTime.Enum.END_OF_WINDOW) {
      return false;
    }
    RunnerApi.CombinePayload payload = payload(transform);
    return payload != null
        && isPlainJavaCombineFn(payload.getCombineFn()) && components.containsCoders(payload.getAccumulatorCoderId());
  }

  /**
   * Whether a trigger fires the same on accumulators as on the elements they hold: every trigger
   * but element counts above one (and composites that contain one, or that Python's portable
   * runner does not lift either).
   */
  static boolean countsNoElements(RunnerApi.Trigger trigger) {
    switch (trigger.getTriggerCase()) {
      case DEFAULT:
      case ALWAYS:
      case NEVER:
      case AFTER_PROCESSING_TIME:
      case AFTER_SYNCHRONIZED_PROCESSING_TIME:
      case TRIGGER_NOT_SET:
        return true;
      case ELEMENT_COUNT:
        return trigger.getElementCount().getElementCount() <= 1;
      case AFTER_END_OF_WINDOW:
        return (!trigger.getAfterEndOfWindow().hasEarlyFirings() || countsNoElements(trigger.getAfterEndOfWindow().getEarlyFirings()))
            && (!trigger.getAfterEndOfWindow().hasLateFirings() || countsNoElements(trigger.getAfterEndOfWindow().getLateFirings()));
      case AFTER_ANY:
        return trigger.getAfterAny().getSubtriggersList().stream().allMatch(CombinerLifting::countsNoElements);
      case REPEAT:
        return countsNoElements(trigger.getRepeat().getSubtrigger());
      default:
        return false;
    }
  }

  /** The transform's combine payload, or null where it holds none that parses. */
  private static RunnerApi.CombinePayload payload(RunnerApi.PTransform transform) {
    try {
      return RunnerApi.CombinePayload.parseFrom(transform.getSpec().getPayload());
    } catch (InvalidProtocolBufferException e) {
      return null;
    }
  }

  private static boolean isPlainJavaCombineFn(RunnerApi.FunctionSpec fn) {
    if (!JAVA_COMBINE_FN_URN.equals(fn.getUrn())) {
      return false;
    }
    try {
      Object combineFn = SerializableUtils.deserializeFromByteArray(fn.getPayload().toByteArray(), "CombineFn");
      return combineFn instanceof Combine.CombineFn;
    } catch (RuntimeException classNotHere) {
      // A Java pipeline submitted through the job server whose classes this JVM lacks.
      return false;
    }
  }

  private static void rewrite(
      String compositeId,
      RunnerApi.PTransform composite,
      RunnerApi.Components components,
      RunnerApi.Components.Builder out,
      Ids ids) {
    String inputId = only(composite.getInputsMap().values());
    String outputId = only(composite.getOutputsMap().values());
    RunnerApi.PCollection input = components.getPcollectionsOrThrow(inputId);
    RunnerApi.PCollection output = components.getPcollectionsOrThrow(outputId);
    RunnerApi.CombinePayload payload = payload(composite);
    String keyCoderId = components.getCodersOrThrow(input.getCoderId()).getComponentCoderIds(0);
    String accumCoderId = payload.getAccumulatorCoderId();
    String accumKvCoderId = ids.coder(compositeId + "/KvAccumulator");
    out.putCoders(accumKvCoderId, coder(ModelCoders.KV_CODER_URN, keyCoderId, accumCoderId));
    String accumsCoderId = ids.coder(compositeId + "/Accumulators");
    out.putCoders(accumsCoderId, coder(ModelCoders.ITERABLE_CODER_URN, accumCoderId));
    String groupedCoderId = ids.coder(compositeId + "/KvAccumulators");
    out.putCoders(groupedCoderId, coder(ModelCoders.KV_CODER_URN, keyCoderId, accumsCoderId));

    String name = composite.getUniqueName();
    String precombined =
        ids.pcollection(out, name + "/Precombine.out", accumKvCoderId, input.getWindowingStrategyId(), input.getIsBounded());
    String grouped =
        ids.pcollection(out, name + "/Group.out", groupedCoderId, output.getWindowingStrategyId(), output.getIsBounded());
    String merged =
        ids.pcollection(out, name + "/MergeAccumulators.out", accumKvCoderId, output.getWindowingStrategyId(), output.getIsBounded());

    RunnerApi.FunctionSpec.Builder combine = RunnerApi.FunctionSpec.newBuilder().setPayload(payload.toByteString());
    String precombine =
        ids.transform(out, name + "/Precombine", combine.setUrn(PTransformTranslation.COMBINE_PER_KEY_PRECOMBINE_TRANSFORM_URN).build(),
            composite.getEnvironmentId(), inputId, precombined);
    String group =
        ids.transform(out, name + "/Group",
            RunnerApi.FunctionSpec.newBuilder().setUrn(PTransformTranslation.GROUP_BY_KEY_TRANSFORM_URN).build(),
            "", precombined, grouped);
    String merge =
        ids.transform(out, name + "/MergeAccumulators",
            combine.setUrn(PTransformTranslation.COMBINE_PER_KEY_MERGE_ACCUMULATORS_TRANSFORM_URN).build(),
            composite.getEnvironmentId(), grouped, merged);
    String extract =
        ids.transform(out, name + "/ExtractOutputs",
            combine.setUrn(PTransformTranslation.COMBINE_PER_KEY_EXTRACT_OUTPUTS_TRANSFORM_URN).build(),
            composite.getEnvironmentId(), merged, outputId);

    removeExpansion(composite, components, out, Set.of(inputId, outputId));
    out.putTransforms(
        compositeId,
        composite.toBuilder().clearSubtransforms().addAllSubtransforms(List.of(precombine, group, merge, extract)).build());
  }

  /** Drops the composite's own expansion: its transforms, and the collections only they used. */
  private static void removeExpansion(
      RunnerApi.PTransform composite, RunnerApi.Components components, RunnerApi.Components.Builder out, Set<String> keep) {
    Deque<String> pending = new ArrayDeque<>(composite.getSubtransformsList());
    while (!pending.isEmpty()) {
      String id = pending.pop();
      RunnerApi.PTransform t = components.getTransformsOrThrow(id);
      pending.addAll(t.getSubtransformsList());
      for (String pc : t.getOutputsMap().values()) {
        if (!keep.contains(pc)) {
          out.removePcollections(pc);
        }
      }
      out.removeTransforms(id);
    }
  }

  private static RunnerApi.Coder coder(String urn, String... components) {
    return RunnerApi.Coder.newBuilder()
        .setSpec(RunnerApi.FunctionSpec.newBuilder().setUrn(urn))
        .addAllComponentCoderIds(List.of(components))
        .build();
  }

  private static String only(java.util.Collection<String> values) {
    if (values.size() != 1) {
      throw new IllegalArgumentException("expected one id, got " + values);
    }
    return values.iterator().next();
  }

  /** Fresh component ids, unique among those the pipeline has and those made here. */
  private static final class Ids {
    private final Set<String> used = new HashSet<>();

    Ids(RunnerApi.Components components) {
      used.addAll(components.getTransformsMap().keySet());
      used.addAll(components.getPcollectionsMap().keySet());
      used.addAll(components.getCodersMap().keySet());
    }

    String coder(String base) {
      return fresh(base);
    }

    String pcollection(
        RunnerApi.Components.Builder out, String base, String coderId, String windowingId, RunnerApi.IsBounded.Enum bounded) {
      String id = fresh(base);
      out.putPcollections(
          id,
          RunnerApi.PCollection.newBuilder()
              .setUniqueName(id)
              .setCoderId(coderId)
              .setWindowingStrategyId(windowingId)
              .setIsBounded(bounded)
              .build());
      return id;
    }

    String transform(
        RunnerApi.Components.Builder out, String name, RunnerApi.FunctionSpec spec, String environmentId, String input, String output) {
      String id = fresh(name);
      RunnerApi.PTransform.Builder t =
          RunnerApi.PTransform.newBuilder().setUniqueName(name).setSpec(spec).putInputs("input", input).putOutputs("output", output);
      if (!environmentId.isEmpty()) {
        t.setEnvironmentId(environmentId);
      }
      out.putTransforms(id, t.build());
      return id;
    }

    private String fresh(String base) {
      String id = base;
      for (int i = 1; !used.add(id); i++) {
        id = base + "_" + i;
      }
      return id;
    }
  }
}
