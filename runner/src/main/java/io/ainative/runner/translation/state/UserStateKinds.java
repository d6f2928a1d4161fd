package io.ainative.runner.translation.state;

import java.io.Serializable;
import java.util.Collections;
import java.util.Set;
import java.util.TreeSet;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.beam.vendor.grpc.v1p60p1.com.google.protobuf.InvalidProtocolBufferException;

/**
 * Which user states of an executable stage the runner serves itself, by the Fn API protocol their
 * SDK speaks for them (read from each state's {@code StateSpec} in its ParDo's payload).
 *
 * <ul>
 *   <li>map, set and multimap states: {@code multimap_keys_user_state} and {@code
 *       multimap_user_state} requests ({@link MultimapUserStateHandler});
 *   <li>ordered-list states: {@code ordered_list_user_state} requests ({@link
 *       OrderedListUserStateHandler});
 *   <li>everything else (value, bag, combining): {@code bag_user_state} requests, which Beam's own
 *       handler serves.
 * </ul>
 */
@Internal
public final class UserStateKinds implements Serializable {

  private static final long serialVersionUID = 1L;

  private final Set<String> multimapStates;
  private final Set<String> orderedListStates;

  private UserStateKinds(Set<String> multimapStates, Set<String> orderedListStates) {
    this.multimapStates = Collections.unmodifiableSet(multimapStates);
    this.orderedListStates = Collections.unmodifiableSet(orderedListStates);
  }

  /** Reads the kinds of the user states an executable stage declares. */
  public static UserStateKinds of(RunnerApi.ExecutableStagePayload stage) {
    Set<String> multimap = new TreeSet<>();
    Set<String> orderedList = new TreeSet<>();
    for (RunnerApi.ExecutableStagePayload.UserStateId id : stage.getUserStatesList()) {
      RunnerApi.PTransform transform = stage.getComponents().getTransformsOrThrow(id.getTransformId());
      RunnerApi.StateSpec spec;
      try {
        spec = RunnerApi.ParDoPayload.parseFrom(transform.getSpec().getPayload()).getStateSpecsOrThrow(id.getLocalName());
      } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "Cannot read the spec of user state '" + id.getLocalName() + "' of transform '" + transform.getUniqueName() + "'", e);
      }
      switch (spec.getSpecCase()) {
        case MAP_SPEC:
        case SET_SPEC:
        case MULTIMAP_SPEC:
          multimap.add(id.getLocalName());
          break;
        case ORDERED_LIST_SPEC:
          orderedList.add(id.getLocalName());
          break;
        default:
          break;
      }
    }
    return new UserStateKinds(multimap, orderedList);
  }

  /** The user state ids that the SDK reads and writes through the multimap protocol. */
  public Set<String> multimapStates() {
    return multimapStates;
  }

  /** The user state ids that the SDK reads and writes through the ordered-list protocol. */
  public Set<String> orderedListStates() {
    return orderedListStates;
  }

  /** True when the runner serves at least one of the stage's user states itself. */
  public boolean any() {
    return !multimapStates.isEmpty() || !orderedListStates.isEmpty();
  }

  @Override
  public String toString() {
    return "multimap protocol " + multimapStates + ", ordered-list protocol " + orderedListStates;
  }
}
