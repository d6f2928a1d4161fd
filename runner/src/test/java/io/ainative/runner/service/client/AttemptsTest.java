package io.ainative.runner.service.client;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.sameInstance;

import io.ainative.transforms.RetryPolicy;
import java.util.concurrent.TimeUnit;
import org.joda.time.Duration;
import org.junit.Test;

public class AttemptsTest {
  private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

  private final Attempts<String, Attempts.Attempt<String>> attempts = new Attempts<>();

  private static Attempts.Attempt<String> request(long id) {
    return new Attempts.Attempt<>(id);
  }

  private static Attempts.Attempt<String> suspect(long id) {
    Attempts.Attempt<String> r = request(id);
    r.suspect = true;
    return r;
  }

  @Test
  public void anAnswer_takesItsRequestOutOfFlight_onceAndOnlyFromItsInstance() {
    Attempts.Attempt<String> r = request(1);
    attempts.sent(r, "a", 0);

    assertThat("an answer from another instance", attempts.answered(1, "b"), nullValue());
    assertThat(attempts.answered(1, "a"), sameInstance(r));
    assertThat("a second answer", attempts.answered(1, "a"), nullValue());
    assertThat(attempts.hasTimedWork(), equalTo(false));
  }

  @Test
  public void aLostInstance_givesBackItsRequestsInTheOrderTheyWereSent() {
    Attempts.Attempt<String> r1 = request(1);
    Attempts.Attempt<String> r2 = request(2);
    Attempts.Attempt<String> r3 = request(3);
    attempts.sent(r1, "a", 0);
    attempts.sent(r2, "b", 0);
    attempts.sent(r3, "a", 0);

    assertThat(attempts.lostWith("a"), contains(r1, r3));
    assertThat(attempts.lostWith("a"), empty());
    assertThat(attempts.answered(2, "b"), sameInstance(r2));
  }

  @Test
  public void onlyRequestsInFlightLongerThanTheTimeout_expire() {
    Attempts.Attempt<String> old = request(1);
    Attempts.Attempt<String> fresh = request(2);
    attempts.sent(old, "a", 0);
    attempts.sent(fresh, "a", 50 * MS);

    assertThat(attempts.expired(100 * MS, 100 * MS), empty());
    assertThat(attempts.expired(101 * MS, 100 * MS), contains(old));
    assertThat(attempts.answered(2, "a"), sameInstance(fresh));
  }

  @Test
  public void aFailedAttempt_isRetriedAfterTheBackoff_untilTheAttemptsAreSpent() {
    RetryPolicy policy = RetryPolicy.exponential(3, Duration.millis(10), Duration.millis(10));
    Attempts.Attempt<String> r = request(1);
    attempts.sent(r, "a", 0);
    attempts.answered(1, "a");

    assertThat(attempts.retryLater(r, policy, 0), equalTo(true));
    assertThat(r.instance, nullValue());
    assertThat(attempts.hasTimedWork(), equalTo(true));
    assertThat("before the backoff", attempts.dueRetries(9 * MS), empty());
    assertThat(attempts.dueRetries(10 * MS), contains(r));

    assertThat(attempts.retryLater(r, policy, 10 * MS), equalTo(true));
    assertThat(attempts.dueRetries(20 * MS), contains(r));
    assertThat("the third attempt was the last", attempts.retryLater(r, policy, 20 * MS), equalTo(false));
    assertThat(r.attempts, equalTo(3));
    assertThat(attempts.dueRetries(Long.MAX_VALUE), empty());
  }

  @Test
  public void dueRetries_comeOutEarliestFirst() {
    RetryPolicy policy = RetryPolicy.exponential(5, Duration.millis(10), Duration.millis(10));
    Attempts.Attempt<String> late = request(1);
    Attempts.Attempt<String> early = request(2);
    attempts.retryLater(late, policy, 5 * MS);
    attempts.retryLater(early, policy, 0);

    assertThat(attempts.dueRetries(15 * MS), contains(early, late));
  }

  @Test
  public void suspects_travelOneAtATime_inTheOrderTheyCame() {
    Attempts.Attempt<String> s1 = suspect(1);
    Attempts.Attempt<String> s2 = suspect(2);
    Attempts.Attempt<String> s3 = suspect(3);
    Attempts.Attempt<String> plain = request(4);

    assertThat(attempts.holdBack(s1), equalTo(false));
    attempts.sent(s1, "a", 0);
    assertThat(attempts.holdBack(s2), equalTo(true));
    assertThat(attempts.holdBack(s3), equalTo(true));
    assertThat("a request that is no suspect", attempts.holdBack(plain), equalTo(false));
    assertThat("the suspect in flight itself", attempts.holdBack(s1), equalTo(false));

    assertThat("a request that is not the suspect in flight", attempts.leftFlight(plain), nullValue());
    assertThat(attempts.leftFlight(s1), sameInstance(s2));
    attempts.sent(s2, "b", 0);
    assertThat(attempts.leftFlight(s2), sameInstance(s3));
    assertThat(attempts.leftFlight(s3), nullValue());
  }
}
