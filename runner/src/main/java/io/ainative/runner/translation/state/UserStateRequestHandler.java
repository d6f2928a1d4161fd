package io.ainative.runner.translation.state;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.locks.Lock;
import java.util.function.Supplier;
import org.apache.beam.model.fnexecution.v1.BeamFnApi.ProcessBundleRequest.CacheToken;
import org.apache.beam.model.fnexecution.v1.BeamFnApi.StateRequest;
import org.apache.beam.model.fnexecution.v1.BeamFnApi.StateResponse;
import org.apache.beam.runners.core.construction.SerializablePipelineOptions;
import org.apache.beam.runners.fnexecution.state.StateRequestHandler;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.flink.runtime.state.KeyedStateBackend;

/**
 * The state handler of a stage whose user states the runner serves in part itself: multimap and
 * ordered-list requests go to the runner's handlers (Flink keyed state), every other request to the
 * handler Beam's operator built (bag user state, side inputs).
 *
 * <p>Cache tokens: Beam's handler hands the SDK one user-state cache token for the operator's
 * lifetime, and the SDK caches user state across bundles under that token and the request's state
 * key. The Java SDK harness of Beam 2.62 leaves the user key out of multimap state keys, so with
 * that token one key's map or set would be served from the cache to another key. A stage with
 * multimap states therefore gets no user-state token ({@code keyScoped}): the SDK caches user state
 * for one bundle only, and each of that stage's bundles holds one key.
 */
@Internal
public final class UserStateRequestHandler implements StateRequestHandler {

  private final StateRequestHandler beams;
  private final MultimapUserStateHandler multimap;
  private final OrderedListUserStateHandler orderedList;
  private final boolean keyScoped;

  /**
   * @param beams the handler Beam's operator built, for every other request
   * @param backend the operator's keyed state backend, keyed by the SDK's nested encoding of the key
   * @param lock the lock every access to {@code backend} holds
   * @param windowCoder the coder of the stage's windows
   * @param bundleKey the key of the bundle in progress, for multimap requests that carry none
   * @param keyScoped whether the stage runs one key per bundle; drops the user-state cache token
   */
  public UserStateRequestHandler(
      StateRequestHandler beams,
      UserStateKinds kinds,
      KeyedStateBackend<ByteBuffer> backend,
      Lock lock,
      Coder<BoundedWindow> windowCoder,
      Supplier<ByteBuffer> bundleKey,
      boolean keyScoped,
      SerializablePipelineOptions options) {
    KeyedStateAccess access = new KeyedStateAccess(backend, lock, windowCoder, bundleKey);
    this.beams = beams;
    this.multimap = new MultimapUserStateHandler(access, kinds.multimapStates(), options);
    this.orderedList = new OrderedListUserStateHandler(access, kinds.orderedListStates(), options);
    this.keyScoped = keyScoped;
  }

  @Override
  public CompletionStage<StateResponse.Builder> handle(StateRequest request) throws Exception {
    StateResponse.Builder response;
    try {
      switch (request.getStateKey().getTypeCase()) {
        case MULTIMAP_KEYS_USER_STATE:
          response = multimap.handleKeys(request);
          break;
        case MULTIMAP_USER_STATE:
          response = multimap.handleValues(request);
          break;
        case ORDERED_LIST_USER_STATE:
          response = orderedList.handle(request);
          break;
        default:
          return beams.handle(request);
      }
    } catch (RuntimeException e) {
      CompletableFuture<StateResponse.Builder> failed = new CompletableFuture<>();
      failed.completeExceptionally(e);
      return failed;
    }
    return CompletableFuture.completedFuture(response.setId(request.getId()));
  }

  /**
   * Clears the runner-served states of the backend's current key in {@code namespace}, for a window
   * whose state Beam's cleaner clears. The caller holds the state-backend lock and set the key.
   */
  public void clearNamespace(String namespace) {
    multimap.clearNamespace(namespace);
    orderedList.clearNamespace(namespace);
  }

  @Override
  public Iterable<CacheToken> getCacheTokens() {
    if (!keyScoped) {
      return beams.getCacheTokens();
    }
    List<CacheToken> tokens = new ArrayList<>();
    for (CacheToken token : beams.getCacheTokens()) {
      if (!token.hasUserState()) {
        tokens.add(token);
      }
    }
    return tokens;
  }
}
