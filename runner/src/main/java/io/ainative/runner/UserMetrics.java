package io.ainative.runner;

import java.util.ArrayList;
import java.util.List;
import org.apache.beam.model.pipeline.v1.MetricsApi.MonitoringInfo;
import org.apache.beam.runners.core.metrics.DefaultMetricResults;
import org.apache.beam.runners.core.metrics.MonitoringInfoConstants;
import org.apache.beam.runners.core.metrics.MonitoringInfoEncodings;
import org.apache.beam.sdk.metrics.DistributionResult;
import org.apache.beam.sdk.metrics.GaugeResult;
import org.apache.beam.sdk.metrics.MetricKey;
import org.apache.beam.sdk.metrics.MetricName;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricResults;
import org.apache.beam.sdk.metrics.StringSetResult;

/**
 * The user metrics among the monitoring infos an SDK harness reports, keyed as the pipeline
 * author wrote them: the step ({@code PTRANSFORM} label), namespace and name. (The accumulator's
 * own keys are the fused stages, which a query by step would not find.)
 */
final class UserMetrics {

  private UserMetrics() {}

  static MetricResults of(Iterable<MonitoringInfo> infos) {
    List<MetricResult<Long>> counters = new ArrayList<>();
    List<MetricResult<DistributionResult>> distributions = new ArrayList<>();
    List<MetricResult<GaugeResult>> gauges = new ArrayList<>();
    List<MetricResult<StringSetResult>> stringSets = new ArrayList<>();
    for (MonitoringInfo info : infos) {
      String urn = info.getUrn();
      if (urn.equals(MonitoringInfoConstants.Urns.USER_SUM_INT64)) {
        counters.add(MetricResult.attempted(key(info), MonitoringInfoEncodings.decodeInt64Counter(info.getPayload())));
      } else if (urn.equals(MonitoringInfoConstants.Urns.USER_DISTRIBUTION_INT64)) {
        distributions.add(
            MetricResult.attempted(key(info), MonitoringInfoEncodings.decodeInt64Distribution(info.getPayload()).extractResult()));
      } else if (urn.equals(MonitoringInfoConstants.Urns.USER_LATEST_INT64)) {
        gauges.add(MetricResult.attempted(key(info), MonitoringInfoEncodings.decodeInt64Gauge(info.getPayload()).extractResult()));
      } else if (urn.equals(MonitoringInfoConstants.Urns.USER_SET_STRING)) {
        stringSets.add(
            MetricResult.attempted(key(info), MonitoringInfoEncodings.decodeStringSet(info.getPayload()).extractResult()));
      }
    }
    return new DefaultMetricResults(counters, distributions, gauges, stringSets);
  }

  private static MetricKey key(MonitoringInfo info) {
    return MetricKey.create(
        info.getLabelsOrDefault(MonitoringInfoConstants.Labels.PTRANSFORM, ""),
        MetricName.named(
            info.getLabelsOrDefault(MonitoringInfoConstants.Labels.NAMESPACE, ""),
            info.getLabelsOrDefault(MonitoringInfoConstants.Labels.NAME, "")));
  }
}
