package io.ainative.runner.service.discovery;

import io.ainative.runner.service.ServiceStatus;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.beam.sdk.annotations.Internal;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The JobManager-side meeting point of one service and its clients: the service's enumerator
 * publishes the ready instances here, the clients' coordinators listen, and they report here when
 * every one of their subtasks has finished, so the service can finish too.
 *
 * <p>Lives in Flink's {@code CoordinatorStore} (one per job execution, shared by every coordinator
 * of the job), so it outlives a restart of the service region; never serialized. Thread-safe:
 * coordinators call it from their own threads, and listeners are called on the publisher's thread
 * (they must only hand the update over to their own thread).
 */
@Internal
public final class ServiceLink {
  private final String serviceId;
  private final List<Consumer<List<InstanceInfo>>> listeners = new CopyOnWriteArrayList<>();
  private final Set<String> clients = new HashSet<>();
  private final Set<String> finishedClients = new HashSet<>();
  private List<InstanceInfo> instances = List.of();
  private Runnable onAllClientsFinished = () -> {};
  private @Nullable Function<ServiceControl.Request, CompletableFuture<ServiceStatus>> control;
  private boolean serviceAttached;

  public ServiceLink(String serviceId) {
    this.serviceId = serviceId;
  }

  String serviceId() {
    return serviceId;
  }

  /** Called by the service's enumerator: the instances now ready, replacing the previous list. */
  public void publish(List<InstanceInfo> ready) {
    List<InstanceInfo> copy = List.copyOf(ready);
    synchronized (this) {
      instances = copy;
    }
    for (Consumer<List<InstanceInfo>> listener : listeners) {
      listener.accept(copy);
    }
  }

  synchronized List<InstanceInfo> instances() {
    return instances;
  }

  /**
   * Called by a client coordinator; {@code listener} gets the current list at once. {@code
   * allClients} names every client of the service, so that the service does not finish when the
   * first of several clients does, even if the others have not listened yet.
   */
  public void listen(String clientId, Collection<String> allClients, Consumer<List<InstanceInfo>> listener) {
    synchronized (this) {
      clients.add(clientId);
      clients.addAll(allClients);
    }
    listeners.add(listener);
    listener.accept(instances());
  }

  public void stopListening(Consumer<List<InstanceInfo>> listener) {
    listeners.remove(listener);
  }

  /**
   * Called by the service's enumerator when it (re)starts: {@code action} runs once every client
   * that ever listened has finished (at once if that is already so); {@code control} answers
   * scaling and status requests from then on (it must hand them to the enumerator's thread).
   */
  public void attachService(Runnable action, Function<ServiceControl.Request, CompletableFuture<ServiceStatus>> control) {
    boolean done;
    synchronized (this) {
      serviceAttached = true;
      onAllClientsFinished = action;
      this.control = control;
      done = !clients.isEmpty() && finishedClients.containsAll(clients);
    }
    if (done) {
      action.run();
    }
  }

  public synchronized boolean serviceAttached() {
    return serviceAttached;
  }

  public synchronized void detachService() {
    serviceAttached = false;
    onAllClientsFinished = () -> {};
    control = null;
  }

  /** Hands a scaling or status request to the service's enumerator; fails if none is attached. */
  public CompletableFuture<ServiceStatus> control(ServiceControl.Request request) {
    Function<ServiceControl.Request, CompletableFuture<ServiceStatus>> c;
    synchronized (this) {
      c = control;
    }
    if (c == null) {
      return CompletableFuture.failedFuture(
          new IllegalStateException("service " + serviceId + " has not started (or is restarting); ask again later"));
    }
    return c.apply(request);
  }

  /** Called by a client coordinator when every subtask of that client has finished. */
  public void clientFinished(String clientId) {
    Runnable action = null;
    synchronized (this) {
      clients.add(clientId);
      finishedClients.add(clientId);
      if (finishedClients.containsAll(clients)) {
        action = onAllClientsFinished;
      }
    }
    if (action != null) {
      action.run();
    }
  }

  @Override
  public synchronized String toString() {
    return "link of service " + serviceId + ": " + new ArrayList<>(instances);
  }
}
