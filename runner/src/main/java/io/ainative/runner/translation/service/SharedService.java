package io.ainative.runner.translation.service;

import io.ainative.transforms.RunInferencePayload;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.TreeMap;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.values.Row;

/**
 * The RunInference transforms of a pipeline that share one service ({@code
 * withSharedService(name)}): who they are, which of them adds the service to the job, and the
 * check that they agree on what the service runs.
 *
 * <p>What must be equal is what the service's instances are built from: the model (URI, name,
 * engine, device, and the Java {@code ModelSpec} itself: the same spec, as its id says, since a
 * spec built twice from the same values is two models to the runtime), the batching
 * (minimum and maximum batch size, maximum delay), the instance count and the model copies, and the
 * coders of the model's input and output (the instances decode every client's requests with one
 * coder). What each client does for itself may differ: request timeout, retries, ordering, metrics
 * namespace, keys, failure output.
 */
final class SharedService {
  /** Payload fields the service is built from, by their name in {@link RunInferencePayload#SCHEMA}. */
  private static final List<String> SERVICE_FIELDS =
      List.of(
          "model_uri",
          "model_name",
          "engine",
          "device",
          "min_batch_size",
          "max_batch_size",
          "max_batching_delay_millis",
          "instances",
          "model_copies",
          "java_model_spec");

  private final String name;
  /** The sharing transforms by unique name, in name order. */
  private final TreeMap<String, RunnerApi.PTransform> members;

  private SharedService(String name, TreeMap<String, RunnerApi.PTransform> members) {
    this.name = name;
    this.members = members;
  }

  /** Every RunInference transform of {@code components} that names the shared service {@code name}. */
  static SharedService named(String name, RunnerApi.Components components) {
    TreeMap<String, RunnerApi.PTransform> members = new TreeMap<>();
    for (RunnerApi.PTransform t : components.getTransformsMap().values()) {
      if (RunInferencePayload.URN.equals(t.getSpec().getUrn())
          && name.equals(RunInferencePayload.fromFunctionSpec(t.getSpec()).getSharedService())) {
        members.put(t.getUniqueName(), t);
      }
    }
    return new SharedService(name, members);
  }

  String name() {
    return name;
  }

  /** The step names of the sharing transforms, in name order. */
  List<String> steps() {
    return new ArrayList<>(members.keySet());
  }

  /** The first sharing transform by name: the others are checked against it. */
  String firstStep() {
    return members.firstKey();
  }

  RunnerApi.PTransform transform(String step) {
    return members.get(step);
  }

  /** The one transform whose translation adds the service to the job: the first by name. */
  boolean isHostedBy(String step) {
    return members.firstKey().equals(step);
  }

  /**
   * Checks that {@code step}'s transform agrees with the first sharing transform on everything the
   * service is built from.
   *
   * @param firstInput the coder of the first step's model input; {@code firstOutput} of its output
   * @param input the coder of {@code step}'s model input; {@code output} of its output
   * @throws IllegalArgumentException naming both steps, the shared service and the first field
   *     that differs
   */
  void checkAgrees(String step, Coder<?> firstInput, Coder<?> firstOutput, Coder<?> input, Coder<?> output) {
    String first = members.firstKey();
    if (first.equals(step)) {
      return;
    }
    Row a = RunInferencePayload.fromFunctionSpec(members.get(first).getSpec()).toRow();
    Row b = RunInferencePayload.fromFunctionSpec(members.get(step).getSpec()).toRow();
    for (String field : SERVICE_FIELDS) {
      Object x = a.getValue(field);
      Object y = b.getValue(field);
      boolean same = x instanceof byte[] && y instanceof byte[] ? Arrays.equals((byte[]) x, (byte[]) y) : Objects.equals(x, y);
      if (!same) {
        String values =
            field.equals("java_model_spec")
                ? "two different ModelSpecs, ids " + specId(first) + " vs " + specId(step) + "; a ModelSpec is"
                    + " one model, and one built twice from the same values is two: pass the same ModelSpec to"
                    + " every step of a shared service"
                : x + " vs " + y;
        throw differ(first, step, field, values);
      }
    }
    if (!firstInput.equals(input)) {
      throw differ(first, step, "model input coder", firstInput + " vs " + input);
    }
    if (!firstOutput.equals(output)) {
      throw differ(first, step, "model output coder", firstOutput + " vs " + output);
    }
  }

  private String specId(String step) {
    RunInferencePayload payload = RunInferencePayload.fromFunctionSpec(members.get(step).getSpec());
    return payload.hasJavaModelSpec() ? payload.getJavaModelSpec().id() : "(none)";
  }

  private IllegalArgumentException differ(String first, String step, String field, String values) {
    return new IllegalArgumentException(
        "RunInference steps '" + first + "' and '" + step + "' share the service '" + name + "' but differ in "
            + field + " (" + values + "): the steps of a shared service must agree on the model, its batching,"
            + " instances and model copies; make them equal, or give the steps services of their own");
  }
}
