package io.ainative.runner.service.client;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.Test;

public class OrderedEmitterTest {
  private final Set<Integer> finished = new HashSet<>();
  private final List<Integer> emitted = new ArrayList<>();

  private OrderedEmitter<Integer> emitter(boolean ordered, int... elements) {
    OrderedEmitter<Integer> e = new OrderedEmitter<>(ordered, finished::contains);
    for (int element : elements) {
      e.add(element);
    }
    return e;
  }

  @Test
  public void ordered_aFinishedElementWaitsForEveryEarlierOne() {
    OrderedEmitter<Integer> e = emitter(true, 1, 2, 3, 4);
    finished.addAll(List.of(2, 4));
    e.emitReady(emitted::add);
    assertThat(emitted, empty());
    assertThat(e.size(), equalTo(4));

    finished.add(1);
    e.emitReady(emitted::add);
    assertThat(emitted, contains(1, 2));
    assertThat(e.oldest(), equalTo(3));

    finished.add(3);
    e.emitReady(emitted::add);
    assertThat(emitted, contains(1, 2, 3, 4));
    assertThat(e.oldest(), nullValue());
  }

  @Test
  public void unordered_everyFinishedElementLeaves_theRestKeepTheirOrder() {
    OrderedEmitter<Integer> e = emitter(false, 1, 2, 3, 4);
    finished.addAll(List.of(2, 4));
    e.emitReady(emitted::add);
    assertThat(emitted, contains(2, 4));
    assertThat(e.pending(), contains(1, 3));
    assertThat(e.oldest(), equalTo(1));
  }

  @Test
  public void emittedElements_leaveAndAreNotEmittedTwice() {
    OrderedEmitter<Integer> e = emitter(true, 1);
    finished.add(1);
    e.emitReady(emitted::add);
    e.emitReady(emitted::add);
    e.add(2);
    assertThat(emitted, contains(1));
    assertThat(e.pending(), contains(2));
  }
}
