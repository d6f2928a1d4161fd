package io.ainative.runner.translation.service;

import io.ainative.runner.service.client.StageClientOperatorFactory;
import io.ainative.runner.service.discovery.ServedStageSettings;
import io.ainative.runner.service.discovery.StageSpec;
import io.ainative.runner.service.source.StageServiceSource;
import io.ainative.runner.translation.types.Uncopied;
import io.ainative.transforms.RunInferencePayload;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.runners.fnexecution.provisioning.JobInfo;
import org.apache.beam.runners.fnexecution.translation.PipelineTranslatorUtils;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.beam.sdk.util.construction.PTransformTranslation;
import org.apache.beam.sdk.util.construction.graph.ExecutableStage;
import org.apache.beam.sdk.util.construction.graph.ImmutableExecutableStage;
import org.apache.beam.sdk.util.construction.graph.PipelineNode;
import org.apache.beam.vendor.grpc.v1p60p1.com.google.protobuf.InvalidProtocolBufferException;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.DataStreamSource;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.DiscardingSink;
import org.apache.flink.streaming.api.transformations.SourceTransformation;

/**
 * Served stages: an SDK's own composite transform (a Python {@code RunInference} with a Python
 * {@code ModelHandler}, or any stateless transform of one input and one output) that the pipeline
 * marked with the annotation {@value #ANNOTATION} (Python: {@code ainative_beam.Served}) runs in
 * RpcOperators instead of in the data DAG's fused stages.
 *
 * <p><b>Plan</b> ({@link #rewrite}, before fusion): the marked composite becomes one runner-native
 * transform, {@value #URN}, whose payload is an {@code ExecutableStagePayload} of the composite's
 * leaf transforms; those leaves and the PCollections between them leave the pipeline, so the fuser
 * never sees them. Its annotations (the service's settings) stay on it.
 *
 * <p><b>Translate</b> ({@link #translate}): a {@code StageClientOperator} in the data DAG sends
 * batches of the input's windowed elements (the runner's wire form) to a service of {@code
 * instances} Flink tasks ({@link StageServiceSource}); each task hosts the stage's SDK environment
 * (for Python, a worker process) and runs one bundle per request; the response is every output the
 * bundle produced, emitted by the client only when the whole request succeeded. Discovery,
 * readiness and membership are the inference services' ({@code RpcServiceEnumerator}, {@link
 * RpcClientCoordinator}, {@code ServiceLink}).
 */
@Internal
public final class ServedStages {

  /** The runner-native transform a marked composite becomes; its payload is an ExecutableStagePayload. */
  public static final String URN = "beam:transform:ainative:served_stage:v1";

  /**
   * The annotation that marks a composite for a service; its value (UTF-8) is the settings, {@code
   * key=value} pairs separated by {@code ;}: see {@link ServedStageSettings}.
   */
  public static final String ANNOTATION = "ainative:served_stage";

  /**
   * Beam's accelerator resource hint. A transform whose environment carries it while its parent's
   * does not (the outermost transform the hint was put on) is served too, with the settings of its
   * {@value #ANNOTATION} annotation if it has one, else the defaults (one instance).
   */
  public static final String ACCELERATOR_HINT = "beam:resources:accelerator:v1";

  private ServedStages() {}

  /**
   * Replaces every marked composite (the outermost, where marked ones nest) by a {@value #URN}
   * transform. A pipeline without marks is returned unchanged.
   *
   * @throws UnsupportedOperationException naming the composite and the offending transform when a
   *     marked composite cannot be served: not one input and one output, a transform that is not a
   *     ParDo or window assignment, side inputs, state, timers, splittable DoFns, several
   *     environments, or an inner PCollection consumed outside the composite
   */
  public static RunnerApi.Pipeline rewrite(RunnerApi.Pipeline pipeline) {
    RunnerApi.Components components = pipeline.getComponents();
    Map<String, String> parents = new HashMap<>();
    for (Map.Entry<String, RunnerApi.PTransform> e : components.getTransformsMap().entrySet()) {
      for (String child : e.getValue().getSubtransformsList()) {
        parents.put(child, e.getKey());
      }
    }
    boolean byHint = hintMarksParts(components);
    List<String> marked = new ArrayList<>();
    for (String id : components.getTransformsMap().keySet()) {
      if (isMarked(id, parents, components, byHint) && !hasMarkedAncestor(id, parents, components, byHint)) {
        marked.add(id);
      }
    }
    if (marked.isEmpty()) {
      return pipeline;
    }
    RunnerApi.Pipeline.Builder builder = pipeline.toBuilder();
    RunnerApi.Components.Builder out = builder.getComponentsBuilder();
    for (String id : marked) {
      replace(id, components, out);
    }
    return builder.build();
  }

  /**
   * Marked: annotated, or the outermost transform with the accelerator hint. ainative's own
   * RunInference (served its own way) is never marked.
   */
  private static boolean isMarked(String id, Map<String, String> parents, RunnerApi.Components components, boolean byHint) {
    RunnerApi.PTransform transform = components.getTransformsOrThrow(id);
    String urn = transform.getSpec().getUrn();
    if (URN.equals(urn) || RunInferencePayload.URN.equals(urn)) {
      return false;
    }
    if (transform.getAnnotationsMap().containsKey(ANNOTATION)) {
      return true;
    }
    String parent = parents.get(id);
    return byHint
        && asksForAccelerator(transform, components)
        && (parent == null || !asksForAccelerator(components.getTransformsOrThrow(parent), components));
  }

  /**
   * Whether the accelerator hint marks parts of the pipeline: not when every SDK primitive has it
   * (a pipeline-wide hint, e.g. Python's {@code --resource_hints}, asks for accelerators for the
   * whole job, not for a service).
   */
  private static boolean hintMarksParts(RunnerApi.Components components) {
    boolean someWith = false;
    boolean someWithout = false;
    for (RunnerApi.PTransform t : components.getTransformsMap().values()) {
      if (t.getSubtransformsCount() == 0 && !t.getEnvironmentId().isEmpty()) {
        if (asksForAccelerator(t, components)) {
          someWith = true;
        } else {
          someWithout = true;
        }
      }
    }
    return someWith && someWithout;
  }

  /**
   * Whether {@code transform}'s environment carries the accelerator hint; for a composite without an
   * environment (Beam Java writes none for composites without a URN), whether all its parts ask.
   */
  private static boolean asksForAccelerator(RunnerApi.PTransform transform, RunnerApi.Components components) {
    if (transform.getEnvironmentId().isEmpty() && transform.getSubtransformsCount() > 0) {
      for (String child : transform.getSubtransformsList()) {
        if (!asksForAccelerator(components.getTransformsOrThrow(child), components)) {
          return false;
        }
      }
      return true;
    }
    RunnerApi.Environment env = components.getEnvironmentsMap().get(transform.getEnvironmentId());
    return env != null && env.getResourceHintsMap().containsKey(ACCELERATOR_HINT);
  }

  private static boolean hasMarkedAncestor(String id, Map<String, String> parents, RunnerApi.Components components, boolean byHint) {
    for (String p = parents.get(id); p != null; p = parents.get(p)) {
      if (isMarked(p, parents, components, byHint)) {
        return true;
      }
    }
    return false;
  }

  private static void replace(String id, RunnerApi.Components components, RunnerApi.Components.Builder out) {
    RunnerApi.PTransform composite = components.getTransformsOrThrow(id);
    String name = composite.getUniqueName();
    ServedStageSettings.parse(name, settingsText(composite));
    if (composite.getInputsCount() != 1 || composite.getOutputsCount() != 1) {
      throw new UnsupportedOperationException(
          "Served stage '" + name + "' must have one input and one output; it has inputs " + composite.getInputsMap()
              + " and outputs " + composite.getOutputsMap());
    }
    String inputId = composite.getInputsMap().values().iterator().next();
    String outputId = composite.getOutputsMap().values().iterator().next();

    // The composite's descendants; its leaves become the stage.
    Set<String> descendants = new HashSet<>();
    List<PipelineNode.PTransformNode> leaves = new ArrayList<>();
    if (composite.getSubtransformsCount() == 0) {
      // A marked primitive (e.g. a ParDo with the accelerator hint) is a stage of its own.
      leaves.add(PipelineNode.pTransform(id, composite));
    }
    Deque<String> todo = new ArrayDeque<>(composite.getSubtransformsList());
    while (!todo.isEmpty()) {
      String child = todo.pop();
      descendants.add(child);
      RunnerApi.PTransform t = components.getTransformsOrThrow(child);
      if (t.getSubtransformsCount() > 0) {
        todo.addAll(t.getSubtransformsList());
      } else {
        leaves.add(PipelineNode.pTransform(child, t));
      }
    }
    if (leaves.isEmpty()) {
      throw new UnsupportedOperationException("Served stage '" + name + "' contains no transform to serve");
    }
    String environmentId = null;
    Set<String> produced = new HashSet<>();
    for (PipelineNode.PTransformNode leaf : leaves) {
      checkServable(name, leaf.getTransform(), components);
      String env = leaf.getTransform().getEnvironmentId();
      if (environmentId == null) {
        environmentId = env;
      } else if (!environmentId.equals(env)) {
        throw new UnsupportedOperationException(
            "Served stage '" + name + "' mixes SDK environments: '" + leaf.getTransform().getUniqueName() + "' runs in "
                + env + ", others in " + environmentId);
      }
      produced.addAll(leaf.getTransform().getOutputsMap().values());
    }
    if (!produced.contains(outputId)) {
      throw new UnsupportedOperationException("Served stage '" + name + "': no transform inside produces its output " + outputId);
    }
    // Only the output may leave the composite: the service answers with it alone.
    for (Map.Entry<String, RunnerApi.PTransform> e : components.getTransformsMap().entrySet()) {
      if (descendants.contains(e.getKey()) || e.getKey().equals(id) || e.getValue().getSubtransformsCount() > 0) {
        continue;
      }
      for (String consumed : e.getValue().getInputsMap().values()) {
        if (produced.contains(consumed) && !consumed.equals(outputId)) {
          throw new UnsupportedOperationException(
              "Served stage '" + name + "': '" + e.getValue().getUniqueName() + "' outside it consumes its inner PCollection "
                  + consumed + "; only the stage's one output may leave it");
        }
      }
    }

    ExecutableStage stage =
        ImmutableExecutableStage.ofFullComponents(
            components,
            components.getEnvironmentsOrThrow(environmentId),
            PipelineNode.pCollection(inputId, components.getPcollectionsOrThrow(inputId)),
            List.of(),
            List.of(),
            List.of(),
            leaves,
            List.of(PipelineNode.pCollection(outputId, components.getPcollectionsOrThrow(outputId))),
            ExecutableStage.DEFAULT_WIRE_CODER_SETTINGS);
    RunnerApi.PTransform.Builder served =
        composite.toBuilder().clearSubtransforms().clearEnvironmentId().setSpec(
            RunnerApi.FunctionSpec.newBuilder().setUrn(URN).setPayload(stage.toPTransform(name).getSpec().getPayload()));
    out.putTransforms(id, served.build());
    for (String d : descendants) {
      out.removeTransforms(d);
    }
    for (String pc : produced) {
      if (!pc.equals(outputId)) {
        out.removePcollections(pc);
      }
    }
  }

  private static void checkServable(String name, RunnerApi.PTransform leaf, RunnerApi.Components components) {
    String urn = leaf.getSpec().getUrn();
    String what = "Served stage '" + name + "': '" + leaf.getUniqueName() + "'";
    if (PTransformTranslation.ASSIGN_WINDOWS_TRANSFORM_URN.equals(urn)) {
      return;
    }
    if (!PTransformTranslation.PAR_DO_TRANSFORM_URN.equals(urn)) {
      throw new UnsupportedOperationException(
          what + " (" + urn + ") cannot run in a service: only ParDos and window assignments can (no GroupByKey, Flatten, reads)");
    }
    if (leaf.getEnvironmentId().isEmpty()) {
      throw new UnsupportedOperationException(what + " has no SDK environment");
    }
    RunnerApi.ParDoPayload payload;
    try {
      payload = RunnerApi.ParDoPayload.parseFrom(leaf.getSpec().getPayload());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException(what + ": unreadable ParDo payload", e);
    }
    if (payload.getSideInputsCount() > 0) {
      throw new UnsupportedOperationException(what + " has side inputs " + payload.getSideInputsMap().keySet() + "; a served stage takes none");
    }
    if (payload.getStateSpecsCount() > 0 || payload.getTimerFamilySpecsCount() > 0) {
      throw new UnsupportedOperationException(what + " uses state or timers; a served stage must be stateless");
    }
    if (!payload.getRestrictionCoderId().isEmpty()) {
      throw new UnsupportedOperationException(what + " is a splittable DoFn; a served stage cannot split");
    }
  }

  /** The task slots the served stages of a (rewritten) pipeline need beyond the data DAG's. */
  public static int slotsNeeded(RunnerApi.Pipeline pipeline) {
    int slots = 0;
    for (RunnerApi.PTransform t : pipeline.getComponents().getTransformsMap().values()) {
      if (URN.equals(t.getSpec().getUrn())) {
        slots += settingsOf(t).instances();
      }
    }
    return slots;
  }

  static ServedStageSettings settingsOf(RunnerApi.PTransform served) {
    return ServedStageSettings.parse(served.getUniqueName(), settingsText(served));
  }

  /** The annotation's settings; none (the defaults) for a transform marked by the accelerator hint. */
  private static String settingsText(RunnerApi.PTransform transform) {
    return transform.getAnnotationsMap().containsKey(ANNOTATION) ? transform.getAnnotationsOrThrow(ANNOTATION).toStringUtf8() : "";
  }

  /**
   * Adds the client operator after {@code input} and the served stage's service (its instances, in
   * their own slot-sharing group and region) to {@code env}. Returns the output stream by
   * PCollection id.
   */
  public static Map<String, DataStream<WindowedValue<Object>>> translate(
      RunnerApi.PTransform served,
      RunnerApi.Components components,
      DataStream<WindowedValue<Object>> input,
      StreamExecutionEnvironment env,
      PipelineOptions pipelineOptions,
      JobInfo jobInfo) {
    String name = served.getUniqueName();
    ServedStageSettings settings = settingsOf(served);
    RunnerApi.ExecutableStagePayload stage;
    try {
      stage = RunnerApi.ExecutableStagePayload.parseFrom(served.getSpec().getPayload());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("Served stage '" + name + "': unreadable stage payload", e);
    }
    stage = WorkerThreads.limit(stage, settings.threads());
    String outputId = served.getOutputsMap().values().iterator().next();
    Coder<WindowedValue<Object>> inputWire = PipelineTranslatorUtils.instantiateCoder(stage.getInput(), components);
    Coder<WindowedValue<Object>> outputWire = PipelineTranslatorUtils.instantiateCoder(outputId, components);
    StageSpec spec = new StageSpec(serviceId(name), name, settings, stage, jobInfo, inputWire, outputWire, RpcServices.maxMessageBytes(pipelineOptions), RpcServices.jobToken(env),
        RpcServices.jobTls(pipelineOptions, env));

    SingleOutputStreamOperator<WindowedValue<Object>> client =
        input.transform(
            name + " (served stage client)",
            Uncopied.typeInfo(outputWire, pipelineOptions),
            new StageClientOperatorFactory(spec));
    client.uid(name);

    int instances = settings.instances();
    String group = "ainative-service-" + spec.service().serviceId();
    StageServiceSource source = new StageServiceSource(spec);
    DataStreamSource<Void> instancesStream =
        env.fromSource(source, WatermarkStrategy.noWatermarks(), name + " (inference service)", Types.VOID);
    instancesStream.setParallelism(instances).setMaxParallelism(instances).slotSharingGroup(group).uid(name + "/service");
    ((SourceTransformation<?, ?, ?>) instancesStream.getTransformation()).setCoordinatorListeningID(source.coordinatorListeningId());
    instancesStream
        .addSink(new DiscardingSink<>())
        .name(name + " (inference service end)")
        .setParallelism(instances)
        .slotSharingGroup(group)
        .uid(name + "/service-end");
    return Map.of(outputId, client);
  }

  private static String serviceId(String stepName) {
    StringBuilder id = new StringBuilder("stage-");
    for (char c : stepName.toCharArray()) {
      id.append(Character.isLetterOrDigit(c) || c == '-' || c == '_' ? c : '_');
    }
    return id.append('-').append(Integer.toHexString(stepName.hashCode())).toString();
  }
}
