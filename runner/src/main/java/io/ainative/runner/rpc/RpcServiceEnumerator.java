package io.ainative.runner.rpc;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.connector.source.ReaderInfo;
import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service's registry, in the JobManager: which instances are ready, fenced by task attempt.
 *
 * <p>An instance is listed from its {@link ServiceEvents.Ready} until its reader leaves, fails, or
 * is replaced by a newer attempt of the same subtask (checked against the readers Flink has
 * registered, every {@value #CHECK_MILLIS} ms and on every event). All methods run on the source
 * coordinator's thread.
 */
final class RpcServiceEnumerator implements SplitEnumerator<RpcServiceSource.NoSplit, Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(RpcServiceEnumerator.class);
  static final long CHECK_MILLIS = 200;

  private final ServiceSpec spec;
  private final SplitEnumeratorContext<RpcServiceSource.NoSplit> context;
  private final Map<Integer, InstanceInfo> ready = new TreeMap<>();
  private @Nullable ServiceLink link;
  private boolean finishing;

  RpcServiceEnumerator(ServiceSpec spec, SplitEnumeratorContext<RpcServiceSource.NoSplit> context) {
    this.spec = spec;
    this.context = context;
  }

  @Override
  public void start() {
    context.callAsync(() -> null, (ignored, error) -> fence(), CHECK_MILLIS, CHECK_MILLIS);
  }

  @Override
  public void handleSplitRequest(int subtaskId, @Nullable String requesterHostname) {}

  @Override
  public void addSplitsBack(List<RpcServiceSource.NoSplit> splits, int subtaskId) {}

  @Override
  public void addReader(int subtaskId) {
    if (finishing) {
      context.sendEventToSourceReader(subtaskId, new ServiceEvents.Finish());
    }
  }

  @Override
  public void handleSourceEvent(int subtaskId, SourceEvent event) {
    if (event instanceof ServiceEvents.Attach) {
      attach(((ServiceEvents.Attach) event).link);
    } else if (event instanceof ServiceEvents.Ready) {
      ServiceEvents.Ready r = (ServiceEvents.Ready) event;
      int attempt = currentAttempt(subtaskId);
      if (attempt < 0) {
        LOG.warn("{}: ignoring {} from subtask {} that has no registered reader", spec, r, subtaskId);
        return;
      }
      InstanceInfo instance =
          new InstanceInfo(subtaskId, attempt, r.host, r.port, r.capacity, r.loadMillis, r.parameterBytes);
      LOG.info("{}: {} is ready (model loaded in {} ms)", spec, instance, r.loadMillis);
      ready.put(subtaskId, instance);
      publish();
    } else if (event instanceof ServiceEvents.Leaving) {
      if (ready.remove(subtaskId) != null) {
        publish();
      }
    } else {
      throw new IllegalArgumentException(spec + ": unknown event " + event + " from subtask " + subtaskId);
    }
  }

  private void attach(@Nullable ServiceLink newLink) {
    if (newLink == null || newLink == link) {
      return;
    }
    link = newLink;
    LOG.info("{}: a client attached", spec);
    publish();
    newLink.attachService(() -> context.runInCoordinatorThread(this::finishAll));
  }

  /** Every client has finished: tell every instance to drain and end. */
  private void finishAll() {
    if (finishing) {
      return;
    }
    finishing = true;
    LOG.info("{}: every client has finished; finishing the service", spec);
    for (Integer subtask : context.registeredReaders().keySet()) {
      context.sendEventToSourceReader(subtask, new ServiceEvents.Finish());
    }
  }

  /** Drops instances whose task attempt is no longer the registered one (failed or restarted). */
  private void fence() {
    boolean changed = ready.values().removeIf(i -> {
      boolean stale = currentAttempt(i.subtask()) != i.attempt();
      if (stale) {
        LOG.info("{}: {} is gone (its task attempt ended)", spec, i);
      }
      return stale;
    });
    if (changed) {
      publish();
    }
  }

  private int currentAttempt(int subtask) {
    Map<Integer, ReaderInfo> attempts = context.registeredReadersOfAttempts().get(subtask);
    return attempts == null || attempts.isEmpty() ? -1 : Collections.max(attempts.keySet());
  }

  private void publish() {
    if (link != null) {
      link.publish(new ArrayList<>(ready.values()));
    }
  }

  @Override
  public Integer snapshotState(long checkpointId) {
    // Nothing to keep: after a restore, the instances announce themselves again.
    return 0;
  }

  @Override
  public void close() {
    if (link != null) {
      link.detachService();
      link.publish(List.of());
    }
  }
}
