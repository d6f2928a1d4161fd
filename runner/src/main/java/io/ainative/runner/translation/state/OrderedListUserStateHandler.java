package io.ainative.runner.translation.state;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.beam.model.fnexecution.v1.BeamFnApi.StateAppendResponse;
import org.apache.beam.model.fnexecution.v1.BeamFnApi.StateClearResponse;
import org.apache.beam.model.fnexecution.v1.BeamFnApi.StateGetResponse;
import org.apache.beam.model.fnexecution.v1.BeamFnApi.StateKey;
import org.apache.beam.model.fnexecution.v1.BeamFnApi.StateRequest;
import org.apache.beam.model.fnexecution.v1.BeamFnApi.StateResponse;
import org.apache.beam.runners.core.construction.SerializablePipelineOptions;
import org.apache.beam.runners.flink.translation.types.CoderTypeSerializer;
import org.apache.beam.runners.fnexecution.wire.ByteStringCoder;
import org.apache.beam.sdk.util.VarInt;
import org.apache.beam.vendor.grpc.v1p60p1.com.google.protobuf.ByteString;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.api.common.typeutils.base.StringSerializer;

/**
 * Serves the Fn API's ordered-list user-state protocol ({@code ordered_list_user_state}) from one
 * Flink {@link MapState} per user state: sort key (epoch millis) to the concatenation of the entries
 * with that sort key, per user key and window.
 *
 * <p>The protocol's data is a stream of entries, each the sort key as a var-long followed by the
 * length-prefixed value. An append may carry several entries; the runner splits the stream at entry
 * boundaries (reading only the two lengths, never the value) and keeps each entry's bytes as sent.
 * A get over {@code [start, end)} answers the entries of that range in sort-key order, entries with
 * equal sort keys in the order they were appended; a clear over a range removes its sort keys. A
 * request without a range means the whole list.
 */
final class OrderedListUserStateHandler {

  private final KeyedStateAccess access;
  private final Map<String, MapStateDescriptor<Long, ByteString>> descriptors = new HashMap<>();

  OrderedListUserStateHandler(KeyedStateAccess access, Set<String> userStateIds, SerializablePipelineOptions options) {
    this.access = access;
    for (String id : userStateIds) {
      descriptors.put(
          id,
          new MapStateDescriptor<>(stateName(id), LongSerializer.INSTANCE, new CoderTypeSerializer<>(ByteStringCoder.of(), options)));
    }
  }

  /** The name of the Flink state behind a user state: apart from the bag state Beam registers under the bare id. */
  static String stateName(String userStateId) {
    return "ainative-ordered-list:" + userStateId;
  }

  StateResponse.Builder handle(StateRequest request) {
    StateKey.OrderedListUserState key = request.getStateKey().getOrderedListUserState();
    MapStateDescriptor<Long, ByteString> descriptor = descriptors.get(key.getUserStateId());
    if (descriptor == null) {
      throw new IllegalArgumentException("User state '" + key.getUserStateId() + "' is not declared as ordered-list state by this stage");
    }
    long start = key.hasRange() ? key.getRange().getStart() : Long.MIN_VALUE;
    long end = key.hasRange() ? key.getRange().getEnd() : Long.MAX_VALUE;
    boolean whole = !key.hasRange();
    return access.withKeyAndNamespace(key.getKey(), key.getWindow(), namespace -> {
      try {
        MapState<Long, ByteString> state = access.backend().getPartitionedState(namespace, StringSerializer.INSTANCE, descriptor);
        switch (request.getRequestCase()) {
          case GET:
            MultimapUserStateHandler.requireFirstPage(request);
            TreeMap<Long, ByteString> inRange = new TreeMap<>();
            for (Map.Entry<Long, ByteString> entry : state.entries()) {
              if (whole || (entry.getKey() >= start && entry.getKey() < end)) {
                inRange.put(entry.getKey(), entry.getValue());
              }
            }
            ByteString data = ByteString.EMPTY;
            for (ByteString entries : inRange.values()) {
              data = data.concat(entries);
            }
            return StateResponse.newBuilder().setGet(StateGetResponse.newBuilder().setData(data));
          case APPEND:
            for (Map.Entry<Long, ByteString> entries : splitBySortKey(request.getAppend().getData()).entrySet()) {
              ByteString before = state.get(entries.getKey());
              state.put(entries.getKey(), before == null ? entries.getValue() : before.concat(entries.getValue()));
            }
            return StateResponse.newBuilder().setAppend(StateAppendResponse.getDefaultInstance());
          case CLEAR:
            if (whole) {
              state.clear();
            } else {
              List<Long> cleared = new ArrayList<>();
              for (Long sortKey : state.keys()) {
                if (sortKey >= start && sortKey < end) {
                  cleared.add(sortKey);
                }
              }
              for (Long sortKey : cleared) {
                state.remove(sortKey);
              }
            }
            return StateResponse.newBuilder().setClear(StateClearResponse.getDefaultInstance());
          default:
            throw new UnsupportedOperationException(
                request.getRequestCase() + " is not a request on ordered-list user state '" + key.getUserStateId() + "'");
        }
      } catch (RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IllegalStateException("Flink state of ordered-list user state '" + key.getUserStateId() + "' failed", e);
      }
    });
  }

  /** Clears every ordered-list state of the current key in {@code namespace}; the caller holds the lock and set the key. */
  void clearNamespace(String namespace) {
    for (MapStateDescriptor<Long, ByteString> descriptor : descriptors.values()) {
      try {
        access.backend().getPartitionedState(namespace, StringSerializer.INSTANCE, descriptor).clear();
      } catch (Exception e) {
        throw new IllegalStateException("Cannot clear Flink state '" + descriptor.getName() + "'", e);
      }
    }
  }

  /**
   * Splits appended data into its entries, grouped by sort key in the order they came.
   *
   * @throws IllegalArgumentException if the data does not end at an entry boundary
   */
  static Map<Long, ByteString> splitBySortKey(ByteString data) {
    Map<Long, ByteString> bySortKey = new HashMap<>();
    InputStream in = data.newInput();
    int position = 0;
    try {
      while (position < data.size()) {
        long sortKey = VarInt.decodeLong(in);
        int length = VarInt.decodeInt(in);
        if (length < 0 || in.skip(length) != length) {
          throw new IllegalArgumentException("Ordered-list entry at byte " + position + " is cut off (value of " + length + " bytes)");
        }
        int entryEnd = position + VarInt.getLength(sortKey) + VarInt.getLength(length) + length;
        ByteString entry = data.substring(position, entryEnd);
        bySortKey.merge(sortKey, entry, ByteString::concat);
        position = entryEnd;
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("Malformed ordered-list data at byte " + position, e);
    }
    return bySortKey;
  }
}
