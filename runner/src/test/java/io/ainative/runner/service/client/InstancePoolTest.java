package io.ainative.runner.service.client;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.sameInstance;

import io.ainative.runner.service.discovery.InstanceInfo;
import io.ainative.runner.service.discovery.LocalEndpoints;
import java.util.ArrayList;
import java.util.List;
import org.junit.After;
import org.junit.Test;
import org.slf4j.LoggerFactory;

/** The client's view of its service's instances, without a service: channels are never used. */
public class InstancePoolTest {
  private final List<InstancePool.Instance> made = new ArrayList<>();
  private final InstancePool<InstancePool.Instance> pool = pool(true);

  /** A pool whose connections are recorded in {@link #made}. */
  private InstancePool<InstancePool.Instance> pool(boolean inProcess) {
    return new InstancePool<>(
        (info, channel) -> {
          InstancePool.Instance c = new InstancePool.Instance(info, channel);
          made.add(c);
          return c;
        },
        inProcess,
        "test-token",
        null,
        LoggerFactory.getLogger(InstancePoolTest.class),
        "test client");
  }

  @After
  public void closeChannels() {
    pool.closeAll();
    for (InstancePool.Instance c : made) {
      c.channel.shutdownNow();
    }
  }

  private static ClientEvents.Membership membership(long version, int... subtasks) {
    List<InstanceInfo> infos = new ArrayList<>();
    for (int s : subtasks) {
      infos.add(new InstanceInfo(s, 0, "127.0.0.1", 40_000 + s, 64, 1, 1));
    }
    return new ClientEvents.Membership(version, infos);
  }

  @Test
  public void anInstanceServingInThisJvm_isReachedInProcess_anyOtherByItsPort() {
    String name = LocalEndpoints.newName(0);
    LocalEndpoints.serving(name);
    try {
      List<InstanceInfo> infos = new ArrayList<>();
      infos.add(new InstanceInfo(0, 0, "127.0.0.1", 40_000, 64, 1, 1).withLocalName(name));
      // listed with a name that nobody serves here: another JVM's instance
      infos.add(new InstanceInfo(1, 0, "127.0.0.1", 40_001, 64, 1, 1).withLocalName(LocalEndpoints.newName(1)));
      infos.add(new InstanceInfo(2, 0, "127.0.0.1", 40_002, 64, 1, 1));
      pool.apply(new ClientEvents.Membership(1, infos));
      // gRPC's in-process channels name the authority "localhost"; TCP ones host:port
      assertThat(made.get(0).channel.authority(), equalTo("localhost"));
      assertThat(made.get(1).channel.authority(), equalTo("127.0.0.1:40001"));
      assertThat(made.get(2).channel.authority(), equalTo("127.0.0.1:40002"));

      InstancePool<InstancePool.Instance> tcpOnly = pool(false);
      tcpOnly.apply(new ClientEvents.Membership(1, infos.subList(0, 1)));
      assertThat("--inferenceInProcess=false", made.get(3).channel.authority(), equalTo("127.0.0.1:40000"));
      tcpOnly.closeAll();
    } finally {
      LocalEndpoints.stopped(name);
    }
  }

  @Test
  public void pick_takesTheLeastOutstanding_andRotatesOnTies() {
    pool.apply(membership(1, 0, 1, 2));
    assertThat(pool.routable(), equalTo(3));
    made.get(0).outstanding = 5;
    made.get(1).outstanding = 2;
    made.get(2).outstanding = 2;
    InstancePool.Instance first = pool.pick();
    InstancePool.Instance second = pool.pick();
    assertThat("a tie goes to the one picked longest ago", first == made.get(1) && second == made.get(2) || first == made.get(2) && second == made.get(1), is(true));
    made.get(1).outstanding = 0;
    assertThat(pool.pick(), sameInstance(made.get(1)));
  }

  @Test
  public void anInstanceThatLeavesTheMembership_getsNothingNew_andIsLetGoAfterItsLastAnswer() {
    pool.apply(membership(1, 0, 1));
    made.get(1).outstanding = 3;
    pool.apply(membership(2, 0));

    assertThat("retired, with answers still to come", made.get(1).retired && !made.get(1).dead, is(true));
    assertThat(pool.routable(), equalTo(1));
    for (int i = 0; i < 5; i++) {
      assertThat(pool.pick(), sameInstance(made.get(0)));
    }
    made.get(1).outstanding = 0;
    pool.closeIfIdle(made.get(1));
    assertThat(made.get(1).dead, is(true));
    assertThat("the channel is shut down", made.get(1).channel.isShutdown(), is(true));
  }

  @Test
  public void anOlderMembership_isIgnored_andABackedOffInstanceIsNotRoutable() {
    pool.apply(membership(5, 0, 1, 2));
    assertThat(pool.apply(membership(4, 0)), is(false));
    assertThat(pool.routable(), equalTo(3));
    made.get(2).backOff();
    assertThat(pool.routable(), equalTo(2));
  }

  @Test
  public void clientCapacity_growsWithRoutableInstances_neverBelowItsFloor() {
    // 4 batches of 64 per instance, a floor of 256 (the service's starting instance)
    assertThat(RpcClientOperator.capacity(256, 256, 0), equalTo(256));
    assertThat(RpcClientOperator.capacity(256, 256, 1), equalTo(256));
    assertThat(RpcClientOperator.capacity(256, 256, 3), equalTo(768));
    // --inferenceClientCapacity fixes it: nothing per instance
    assertThat(RpcClientOperator.capacity(100, 0, 3), equalTo(100));
  }
}
