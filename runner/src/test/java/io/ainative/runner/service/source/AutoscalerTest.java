package io.ainative.runner.service.source;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.Assert.assertThrows;

import io.ainative.runner.service.discovery.AutoscaleSettings;
import org.junit.Test;

public class AutoscalerTest {

  /** min 1, max 4, 10 elements per instance, up after 1 s, down after 5 s. */
  private final Autoscaler autoscaler = new Autoscaler(new AutoscaleSettings(1, 4, 10, 1_000, 5_000), 4);

  @Test
  public void desired_isTheLoadOverTheTarget_roundedUp_withinMinAndMax() {
    assertThat(autoscaler.desired(0), equalTo(1));
    assertThat(autoscaler.desired(10), equalTo(1));
    assertThat(autoscaler.desired(11), equalTo(2));
    assertThat(autoscaler.desired(35), equalTo(4));
    assertThat(autoscaler.desired(1_000), equalTo(4));
  }

  @Test
  public void upscales_onlyOnceTheLoadAskedForMore_forTheUpscaleDelay() {
    assertThat(autoscaler.decide(0, 1, true, 30), equalTo(1));
    assertThat(autoscaler.decide(999, 1, true, 30), equalTo(1));
    assertThat(autoscaler.decide(1_000, 1, true, 30), equalTo(3));
  }

  @Test
  public void aBreakInTheLoad_restartsTheDelay() {
    autoscaler.decide(0, 1, true, 30);
    autoscaler.decide(600, 1, true, 5); // enough for one instance again
    assertThat(autoscaler.decide(1_200, 1, true, 30), equalTo(1));
    assertThat(autoscaler.decide(2_199, 1, true, 30), equalTo(1));
    assertThat(autoscaler.decide(2_200, 1, true, 30), equalTo(3));
  }

  @Test
  public void downscales_onlyAfterTheDownscaleDelay_andNotBelowTheMinimum() {
    assertThat(autoscaler.decide(0, 4, true, 0), equalTo(4));
    assertThat(autoscaler.decide(4_999, 4, true, 0), equalTo(4));
    assertThat(autoscaler.decide(5_000, 4, true, 0), equalTo(1));
  }

  @Test
  public void decidesNothing_whileInstancesLoadOrDrain() {
    autoscaler.decide(0, 1, true, 30);
    assertThat(autoscaler.decide(1_000, 1, false, 30), equalTo(1));
    // the delay starts again once the service has settled
    assertThat(autoscaler.decide(1_500, 1, true, 30), equalTo(1));
    assertThat(autoscaler.decide(2_500, 1, true, 30), equalTo(3));
  }

  @Test
  public void badSettings_areRefused_namingTheOption() {
    assertThat(
        assertThrows(IllegalArgumentException.class, () -> new AutoscaleSettings(1, 4, 0, 0, 0)).getMessage(),
        containsString("--inferenceAutoscaleTargetOngoing"));
    assertThat(
        assertThrows(IllegalArgumentException.class, () -> new AutoscaleSettings(0, 4, 1, 0, 0)).getMessage(),
        containsString("--inferenceAutoscaleMinInstances"));
    assertThat(
        assertThrows(IllegalArgumentException.class, () -> new AutoscaleSettings(5, 4, 1, 0, 0)).getMessage(),
        containsString("maxInstances (4"));
    assertThat(
        assertThrows(IllegalArgumentException.class, () -> new AutoscaleSettings(1, 4, 1, -1, 0)).getMessage(),
        containsString("--inferenceAutoscaleUpscaleDelayMillis"));
    assertThat(
        assertThrows(IllegalArgumentException.class, () -> new AutoscaleSettings(1, 4, 1, 0, -1)).getMessage(),
        containsString("--inferenceAutoscaleDownscaleDelayMillis"));
  }
}
