package io.ainative.examples;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.lessThan;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.Test;

public class LatencyHistogramTest {

  @Test
  public void everyLatency_fallsInsideItsBucket() {
    for (long millis = 0; millis < 2_000_000; millis = millis < 100 ? millis + 1 : millis * 101 / 100) {
      int bucket = LatencyHistogram.bucket(millis);
      assertThat(millis + " ms above its bucket's lower bound", (double) millis, greaterThanOrEqualTo(LatencyHistogram.lowerBound(bucket) - 1e-9));
      assertThat(millis + " ms below its bucket's upper bound", (double) millis, lessThan(LatencyHistogram.upperBound(bucket)));
    }
  }

  @Test
  public void quantiles_areExactBelowTwentyMillis_andWithinTwoAndAHalfPercentAbove() {
    Random random = new Random(42);
    long[] values = new long[10_001];
    Map<Integer, Long> histogram = new HashMap<>();
    for (int i = 0; i < values.length; i++) {
      values[i] = (long) Math.exp(random.nextDouble() * Math.log(60_000));
      histogram.merge(LatencyHistogram.bucket(values[i]), 1L, Long::sum);
    }
    Arrays.sort(values);
    for (double q : new double[] {0.01, 0.10, 0.50, 0.90, 0.99, 1.0}) {
      long exact = values[(int) Math.ceil(q * values.length) - 1];
      double read = LatencyHistogram.quantile(histogram, q);
      if (exact < LatencyHistogram.EXACT_MS) {
        assertThat("q=" + q, read, equalTo((double) exact));
      } else {
        assertThat("q=" + q, read, closeTo(exact, exact * 0.025));
      }
    }
  }

  @Test
  public void anEmptyHistogram_hasNoQuantile() {
    assertThat(LatencyHistogram.quantile(Map.of(), 0.5), equalTo(Double.NaN));
  }
}
