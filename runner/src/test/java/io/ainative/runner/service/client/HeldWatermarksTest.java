package io.ainative.runner.service.client;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.junit.Test;

public class HeldWatermarksTest {
  private final HeldWatermarks held = new HeldWatermarks();
  private final List<Long> emitted = new ArrayList<>();

  private void release(long oldest) {
    held.release(oldest, w -> emitted.add(w.getTimestamp()));
  }

  @Test
  public void aWatermark_waitsForTheElementsBeforeIt() {
    held.hold(3, new Watermark(10));
    held.hold(5, new Watermark(20));

    release(2);
    assertThat(emitted, empty());
    release(3);
    assertThat(emitted, contains(10L));
    release(Long.MAX_VALUE);
    assertThat(emitted, contains(10L, 20L));
    assertThat(held.isEmpty(), equalTo(true));
  }

  @Test
  public void aNewerWatermarkAtTheSamePosition_replacesTheOlderOne() {
    held.hold(3, new Watermark(10));
    held.hold(3, new Watermark(11));

    release(3);
    assertThat(emitted, contains(11L));
  }
}
