package io.ainative.runner.translation.state;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.apache.beam.model.fnexecution.v1.BeamFnApi.StateAppendResponse;
import org.apache.beam.model.fnexecution.v1.BeamFnApi.StateClearResponse;
import org.apache.beam.model.fnexecution.v1.BeamFnApi.StateGetResponse;
import org.apache.beam.model.fnexecution.v1.BeamFnApi.StateKey;
import org.apache.beam.model.fnexecution.v1.BeamFnApi.StateRequest;
import org.apache.beam.model.fnexecution.v1.BeamFnApi.StateResponse;
import org.apache.beam.runners.core.construction.SerializablePipelineOptions;
import org.apache.beam.runners.flink.translation.types.CoderTypeSerializer;
import org.apache.beam.runners.fnexecution.wire.ByteStringCoder;
import org.apache.beam.vendor.grpc.v1p60p1.com.google.protobuf.ByteString;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeutils.base.StringSerializer;

/**
 * Serves the Fn API's multimap user-state protocol, which Beam SDKs use for {@code MapState},
 * {@code SetState} and {@code MultimapState}, from one Flink {@link MapState} per user state:
 * encoded map key to the concatenation of its encoded values, per user key and window.
 *
 * <ul>
 *   <li>{@code multimap_keys_user_state} get: the concatenation of every map key; clear: the whole
 *       state;
 *   <li>{@code multimap_user_state} get: the values of one map key; append: more values for it;
 *       clear: the map key and its values.
 * </ul>
 *
 * <p>Bytes are stored as the SDK sent them: the runner never decodes a map key or a value. One
 * exception: an append of zero bytes is stored as one zero byte. The SDK appends at least one value
 * per request, and a value whose encoding is empty (a {@code SetState}'s {@code Void}) must read back
 * as one value; the Fn API's decoders take a value that consumed no bytes to occupy exactly one.
 */
final class MultimapUserStateHandler {

  private static final ByteString ONE_EMPTY_VALUE = ByteString.copyFrom(new byte[] {0});

  private final KeyedStateAccess access;
  private final Map<String, MapStateDescriptor<ByteString, ByteString>> descriptors = new HashMap<>();

  MultimapUserStateHandler(KeyedStateAccess access, Set<String> userStateIds, SerializablePipelineOptions options) {
    this.access = access;
    for (String id : userStateIds) {
      descriptors.put(
          id,
          new MapStateDescriptor<>(
              stateName(id),
              new CoderTypeSerializer<>(ByteStringCoder.of(), options),
              new CoderTypeSerializer<>(ByteStringCoder.of(), options)));
    }
  }

  /** The name of the Flink state behind a user state: apart from the bag state Beam registers under the bare id. */
  static String stateName(String userStateId) {
    return "ainative-multimap:" + userStateId;
  }

  StateResponse.Builder handleKeys(StateRequest request) {
    StateKey.MultimapKeysUserState key = request.getStateKey().getMultimapKeysUserState();
    MapStateDescriptor<ByteString, ByteString> descriptor = descriptor(key.getUserStateId());
    return access.withKeyAndNamespace(key.getKey(), key.getWindow(), namespace -> {
      MapState<ByteString, ByteString> state = state(namespace, descriptor);
      try {
        switch (request.getRequestCase()) {
          case GET:
            requireFirstPage(request);
            ByteString keys = ByteString.EMPTY;
            for (ByteString mapKey : state.keys()) {
              keys = keys.concat(mapKey);
            }
            return StateResponse.newBuilder().setGet(StateGetResponse.newBuilder().setData(keys));
          case CLEAR:
            state.clear();
            return StateResponse.newBuilder().setClear(StateClearResponse.getDefaultInstance());
          default:
            throw new UnsupportedOperationException(
                request.getRequestCase() + " is not a request on the keys of multimap user state '" + key.getUserStateId() + "'");
        }
      } catch (RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IllegalStateException("Flink state of multimap user state '" + key.getUserStateId() + "' failed", e);
      }
    });
  }

  StateResponse.Builder handleValues(StateRequest request) {
    StateKey.MultimapUserState key = request.getStateKey().getMultimapUserState();
    MapStateDescriptor<ByteString, ByteString> descriptor = descriptor(key.getUserStateId());
    ByteString mapKey = key.getMapKey();
    return access.withKeyAndNamespace(key.getKey(), key.getWindow(), namespace -> {
      MapState<ByteString, ByteString> state = state(namespace, descriptor);
      try {
        switch (request.getRequestCase()) {
          case GET:
            requireFirstPage(request);
            ByteString values = state.get(mapKey);
            return StateResponse.newBuilder()
                .setGet(StateGetResponse.newBuilder().setData(values == null ? ByteString.EMPTY : values));
          case APPEND:
            ByteString appended = request.getAppend().getData();
            if (appended.isEmpty()) {
              appended = ONE_EMPTY_VALUE;
            }
            ByteString before = state.get(mapKey);
            state.put(mapKey, before == null ? appended : before.concat(appended));
            return StateResponse.newBuilder().setAppend(StateAppendResponse.getDefaultInstance());
          case CLEAR:
            state.remove(mapKey);
            return StateResponse.newBuilder().setClear(StateClearResponse.getDefaultInstance());
          default:
            throw new UnsupportedOperationException(
                request.getRequestCase() + " is not a request on multimap user state '" + key.getUserStateId() + "'");
        }
      } catch (RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IllegalStateException("Flink state of multimap user state '" + key.getUserStateId() + "' failed", e);
      }
    });
  }

  /** Clears every multimap-protocol state of the current key in {@code namespace}; the caller holds the lock and set the key. */
  void clearNamespace(String namespace) {
    for (MapStateDescriptor<ByteString, ByteString> descriptor : descriptors.values()) {
      state(namespace, descriptor).clear();
    }
  }

  private MapStateDescriptor<ByteString, ByteString> descriptor(String userStateId) {
    MapStateDescriptor<ByteString, ByteString> descriptor = descriptors.get(userStateId);
    if (descriptor == null) {
      throw new IllegalArgumentException(
          "User state '" + userStateId + "' is not declared as map, set or multimap state by this stage");
    }
    return descriptor;
  }

  private MapState<ByteString, ByteString> state(String namespace, MapStateDescriptor<ByteString, ByteString> descriptor) {
    try {
      return access.backend().getPartitionedState(namespace, StringSerializer.INSTANCE, descriptor);
    } catch (Exception e) {
      throw new IllegalStateException("Cannot open Flink state '" + descriptor.getName() + "'", e);
    }
  }

  static void requireFirstPage(StateRequest request) {
    if (!request.getGet().getContinuationToken().isEmpty()) {
      // Every get is answered whole, so an SDK never has a token to send back.
      throw new IllegalArgumentException("Unexpected continuation token in " + request.getStateKey().getTypeCase() + " get");
    }
  }
}
