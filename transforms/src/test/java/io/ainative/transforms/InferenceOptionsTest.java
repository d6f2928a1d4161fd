package io.ainative.transforms;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;

import org.joda.time.Duration;
import org.junit.Test;

public class InferenceOptionsTest {

  @Test
  public void minBatchLargerThanMax_isRejected_namingBothValues() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> InferenceOptions.defaults().withBatchSize(64, 8));
    assertThat(e.getMessage(), containsString("minBatchSize (64) must be <= maxBatchSize (8)"));
  }

  @Test
  public void impossibleValues_areRejected_namingTheField() {
    InferenceOptions o = InferenceOptions.defaults();
    assertThat(
        assertThrows(IllegalArgumentException.class, () -> o.withMaxBatchSize(0)).getMessage(),
        containsString("maxBatchSize"));
    assertThat(
        assertThrows(IllegalArgumentException.class, () -> o.withInstances(0)).getMessage(),
        containsString("instances"));
    assertThat(
        assertThrows(IllegalArgumentException.class, () -> o.withModelCopies(0)).getMessage(),
        containsString("modelCopies"));
    assertThat(
        assertThrows(
                IllegalArgumentException.class,
                () -> o.withMaxBatchingDelay(Duration.millis(-1)))
            .getMessage(),
        containsString("maxBatchingDelay"));
    assertThat(
        assertThrows(IllegalArgumentException.class, () -> o.withRequestTimeout(Duration.ZERO))
            .getMessage(),
        containsString("requestTimeout"));
  }

  @Test
  public void withCopies_leaveTheOriginalUnchanged() {
    InferenceOptions o = InferenceOptions.defaults();
    InferenceOptions changed = o.withBatchSize(4, 128).withModelCopies(2);
    assertEquals(32, o.maxBatchSize());
    assertEquals(128, changed.maxBatchSize());
    assertEquals(4, changed.minBatchSize());
    assertEquals(2, changed.modelCopies());
  }

  @Test
  public void retryBackoff_doublesUpToTheCap() {
    RetryPolicy p = RetryPolicy.exponential(5, Duration.millis(100), Duration.millis(350));
    assertEquals(Duration.millis(100), p.backoffAfter(1));
    assertEquals(Duration.millis(200), p.backoffAfter(2));
    assertEquals(Duration.millis(350), p.backoffAfter(3));
    assertThrows(
        IllegalArgumentException.class,
        () -> RetryPolicy.exponential(0, Duration.ZERO, Duration.ZERO));
  }
}
