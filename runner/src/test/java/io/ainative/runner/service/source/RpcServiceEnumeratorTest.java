package io.ainative.runner.service.source;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.lessThan;
import static org.junit.Assert.assertThrows;

import io.ainative.harness.InferenceServer;
import io.ainative.runner.service.ServiceStatus;
import io.ainative.runner.service.discovery.AutoscaleSettings;
import io.ainative.runner.service.discovery.InstanceInfo;
import io.ainative.runner.service.discovery.ServiceEvents;
import io.ainative.runner.service.discovery.ServiceLink;
import io.ainative.runner.service.discovery.ServiceSpec;
import io.ainative.runner.testing.FakeSplitEnumeratorContext;
import io.ainative.transforms.InferenceOptions;
import io.ainative.transforms.ModelSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.junit.Test;

/** The service registry's scaling decisions, without a cluster (a fake enumerator context). */
public class RpcServiceEnumeratorTest {
  private static final String MODEL_DIR = io.ainative.runner.testing.PlaceholderModel.directory();

  private final FakeSplitEnumeratorContext<RpcServiceSource.NoSplit> context = new FakeSplitEnumeratorContext<>(3);
  /** The membership the clients saw, in order. */
  private final List<List<String>> published = new ArrayList<>();

  private static ServiceSpec spec(int instances, int maxInstances) {
    ModelSpec<Integer, Integer> model =
        ModelSpec.<Integer, Integer>builder()
            .setModelUri(MODEL_DIR)
            .setProcessing((manager, x) -> null, output -> 0)
            .build();
    return new ServiceSpec(
        "svc", model, VarIntCoder.of(), VarIntCoder.of(), InferenceOptions.defaults().withInstances(instances),
        InferenceServer.Execution.DIRECT, List.of("Classify"), maxInstances, 1000, 0);
  }

  /** An enumerator with every reader registered (attempt 0) and a client listening. */
  private RpcServiceEnumerator started(int instances, int maxInstances) {
    return started(spec(instances, maxInstances), instances, maxInstances);
  }

  private RpcServiceEnumerator started(ServiceSpec spec, int instances, int maxInstances) {
    RpcServiceEnumerator enumerator = new RpcServiceEnumerator(spec, context, instances);
    enumerator.start();
    for (int i = 0; i < maxInstances; i++) {
      context.register(i, 0);
      enumerator.addReader(i);
    }
    ServiceLink link = new ServiceLink("svc");
    link.listen("Classify", List.of("Classify"), list -> {
      List<String> ids = list.stream().map(InstanceInfo::id).collect(Collectors.toList());
      published.add(ids);
      context.log.add("members " + ids);
    });
    enumerator.handleSourceEvent(0, new ServiceEvents.Attach(link));
    return enumerator;
  }

  private static ServiceEvents.Ready ready(int port, int generation) {
    return new ServiceEvents.Ready("localhost", port, 8, 1, 1, generation, null);
  }

  private static List<ServiceStatus.State> states(RpcServiceEnumerator enumerator) {
    return enumerator.status().tasks().stream().map(ServiceStatus.Instance::state).collect(Collectors.toList());
  }

  private List<String> lastMembers() {
    return published.get(published.size() - 1);
  }

  @Test
  public void firstInstancesStartActive_theOthersParked_andNoneIsToldAnything() {
    RpcServiceEnumerator enumerator = started(1, 3);
    assertThat(states(enumerator), equalTo(List.of(ServiceStatus.State.LOADING, ServiceStatus.State.PARKED, ServiceStatus.State.PARKED)));
    assertThat(context.log.stream().filter(l -> l.startsWith("to ")).count(), equalTo(0L));
    enumerator.handleSourceEvent(0, ready(1000, 0));
    assertThat(lastMembers(), equalTo(List.of("0#0")));
  }

  @Test
  public void scaleUp_activatesTheLowestParkedTask_andListsItOnlyWhenItsActivationIsReady() {
    RpcServiceEnumerator enumerator = started(1, 3);
    enumerator.handleSourceEvent(0, ready(1000, 0));
    enumerator.scale(2);
    assertThat(context.log.get(context.log.size() - 1), equalTo("to 1: Activate(1)"));
    assertThat(states(enumerator).get(1), equalTo(ServiceStatus.State.LOADING));

    // A Ready of an activation the enumerator no longer expects is fenced off.
    enumerator.handleSourceEvent(1, ready(1001, 0));
    assertThat(lastMembers(), equalTo(List.of("0#0")));
    enumerator.handleSourceEvent(1, ready(1002, 1));
    assertThat(lastMembers(), equalTo(List.of("0#0", "1#0.1")));
    assertThat(states(enumerator), equalTo(List.of(ServiceStatus.State.READY, ServiceStatus.State.READY, ServiceStatus.State.PARKED)));
  }

  @Test
  public void scaleDown_takesTheInstanceOutOfTheMembership_beforeTellingItToPark() {
    RpcServiceEnumerator enumerator = started(2, 2);
    enumerator.handleSourceEvent(0, ready(1000, 0));
    enumerator.handleSourceEvent(1, ready(1001, 0));
    enumerator.scale(1);
    int members = context.log.lastIndexOf("members [0#0]");
    int park = context.log.indexOf("to 1: Park(0)");
    assertThat(context.log.toString(), members, lessThan(park));
    assertThat(states(enumerator).get(1), equalTo(ServiceStatus.State.DRAINING));

    enumerator.handleSourceEvent(1, new ServiceEvents.Parked(0, 2000, false, false));
    ServiceStatus.Instance parked = enumerator.status().tasks().get(1);
    assertThat(parked.toString(), parked.state(), equalTo(ServiceStatus.State.PARKED));
    assertThat(parked.toString(), parked.modelLoaded(), equalTo(true));
    assertThat(parked.toString(), parked.lastDrainWithinBound(), equalTo(false));
    enumerator.handleSourceEvent(1, new ServiceEvents.ModelFreed(0));
    assertThat(enumerator.status().tasks().get(1).modelLoaded(), equalTo(false));
    assertThat(enumerator.status().settled(), equalTo(true));
  }

  @Test
  public void scaleDown_parksATaskStillLoadingBeforeAReadyOne() {
    RpcServiceEnumerator enumerator = started(1, 3);
    enumerator.handleSourceEvent(0, ready(1000, 0));
    enumerator.scale(3);
    enumerator.handleSourceEvent(2, ready(1002, 1));
    enumerator.scale(2);
    assertThat(context.log.get(context.log.size() - 1), equalTo("to 1: Park(1)"));
    assertThat(lastMembers(), equalTo(List.of("0#0", "2#0.1")));
  }

  @Test
  public void aRestartedTask_isToldWhetherToServe() {
    RpcServiceEnumerator enumerator = started(1, 3);
    enumerator.scale(2);
    // Subtask 1 (parked at its start, active now) fails; its new attempt starts parked.
    context.unregister(1);
    context.register(1, 1);
    enumerator.addReader(1);
    assertThat(context.log.get(context.log.size() - 1), equalTo("to 1: Activate(1)"));
    enumerator.handleSourceEvent(1, ready(1003, 1));
    assertThat(lastMembers(), equalTo(List.of("1#1.1")));

    // Subtask 0 (active at its start) is parked, fails, and its new attempt starts active.
    enumerator.scale(1);
    assertThat(context.log.get(context.log.size() - 1), equalTo("to 0: Park(0)"));
    context.unregister(0);
    context.register(0, 1);
    enumerator.addReader(0);
    assertThat(context.log.get(context.log.size() - 1), equalTo("to 0: Park(0)"));
  }

  @Test
  public void scaleOutOfBounds_isRefused_namingTheServiceAndTheBounds() {
    RpcServiceEnumerator enumerator = started(1, 3);
    for (int n : new int[] {0, 4, -1}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> enumerator.scale(n));
      assertThat(e.getMessage(), containsString("service svc"));
      assertThat(e.getMessage(), containsString("to " + n + " instance(s)"));
      assertThat(e.getMessage(), containsString("between 1 and 3"));
    }
    assertThat(enumerator.status().activeInstances(), equalTo(1));
  }

  @Test
  public void checkpoint_isTheActiveCount_andARestoreKeepsIt() throws Exception {
    RpcServiceEnumerator enumerator = started(1, 3);
    enumerator.scale(3);
    int checkpoint = enumerator.snapshotState(7);
    assertThat(checkpoint, equalTo(3));
    RpcServiceSource source = new RpcServiceSource(spec(1, 3));
    RpcServiceEnumerator restored =
        (RpcServiceEnumerator) source.restoreEnumerator(new FakeSplitEnumeratorContext<>(3), checkpoint);
    assertThat(restored.status().activeInstances(), equalTo(3));
  }

  @Test
  public void byLoad_scalesUpWhenInstancesHoldMoreThanTheTarget_andDownWhenTheyHoldLess_untilPinnedByHand() {
    ServiceSpec autoscaled = spec(1, 3).withAutoscale(new AutoscaleSettings(1, 3, 10, 0, 0));
    RpcServiceEnumerator enumerator = started(autoscaled, 1, 3);
    enumerator.handleSourceEvent(0, ready(1000, 0));
    enumerator.handleSourceEvent(0, new ServiceEvents.Served(4, 25));

    enumerator.tick();
    assertThat(enumerator.status().activeInstances(), equalTo(3));
    assertThat(context.log.subList(context.log.size() - 2, context.log.size()), equalTo(List.of("to 1: Activate(1)", "to 2: Activate(1)")));

    enumerator.tick(); // loading: nothing decided
    assertThat(enumerator.status().activeInstances(), equalTo(3));
    enumerator.handleSourceEvent(1, ready(1001, 1));
    enumerator.handleSourceEvent(2, ready(1002, 1));
    for (int subtask = 0; subtask < 3; subtask++) {
      enumerator.handleSourceEvent(subtask, new ServiceEvents.Served(9, 3));
    }
    enumerator.tick();
    assertThat(enumerator.status().activeInstances(), equalTo(1));
    assertThat(lastMembers(), equalTo(List.of("0#0")));

    enumerator.handleSourceEvent(1, new ServiceEvents.Parked(1, 5, true, true));
    enumerator.handleSourceEvent(2, new ServiceEvents.Parked(1, 5, true, true));
    enumerator.scaleByHand(2);
    enumerator.handleSourceEvent(1, ready(1003, 2));
    enumerator.handleSourceEvent(0, new ServiceEvents.Served(12, 0));
    enumerator.tick();
    assertThat("pinned by hand", enumerator.status().activeInstances(), equalTo(2));
    enumerator.releaseScale();
    enumerator.tick();
    assertThat("released", enumerator.status().activeInstances(), equalTo(1));
  }

  @Test
  public void releasingTheScale_ofAServiceThatDoesNotScaleByLoad_isRefused() {
    RpcServiceEnumerator enumerator = started(1, 3);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, enumerator::releaseScale);
    assertThat(e.getMessage(), containsString("--inferenceAutoscaleTargetOngoing"));
  }
}
