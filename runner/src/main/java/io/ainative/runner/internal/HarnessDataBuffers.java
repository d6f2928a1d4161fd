package io.ainative.runner.internal;

import org.apache.beam.runners.fnexecution.provisioning.JobInfo;
import org.apache.beam.vendor.grpc.v1p60p1.com.google.protobuf.ListValue;
import org.apache.beam.vendor.grpc.v1p60p1.com.google.protobuf.Struct;
import org.apache.beam.vendor.grpc.v1p60p1.com.google.protobuf.Value;

/**
 * Sizes the data messages SDK harnesses send back to the runner.
 *
 * <p>Why: Beam 2.62's runner side ({@code SdkHarnessClient.ActiveBundle#close}) waits for the
 * harness's answer to a bundle before it reads the bundle's output, and meanwhile holds at most
 * 100 data messages of it ({@code BeamFnDataInboundObserver}'s queue); the harness answers only
 * once its output is sent. A bundle whose output needs more than 100 messages therefore hangs
 * (fixed upstream after 2.62, apache/beam#38581). With the Java harness's default of 1 MB per
 * message that is about 100 MB: one split of a bounded read of images reaches it easily
 * ({@code LargeBundleOutputITCase}). Unless the user set it, the runner asks for messages of up to
 * {@value #MESSAGE_BYTES} bytes ({@code --experiments=data_buffer_size_limit=...}), which moves the
 * limit to about 1.6 GB per bundle; the harness keeps at most one such message per output
 * while it fills.
 */
public final class HarnessDataBuffers {
  static final int MESSAGE_BYTES = 16_000_000;
  private static final String EXPERIMENTS = "beam:option:experiments:v1";
  private static final String SIZE_LIMIT = "data_buffer_size_limit=";

  private HarnessDataBuffers() {}

  /** {@code job} with the size limit added to its experiments, unless one is there already. */
  public static JobInfo withLargeMessages(JobInfo job) {
    Struct options = job.pipelineOptions();
    Value experiments = options.getFieldsMap().get(EXPERIMENTS);
    ListValue.Builder list = ListValue.newBuilder();
    if (experiments != null && experiments.hasListValue()) {
      for (Value v : experiments.getListValue().getValuesList()) {
        if (v.hasStringValue() && v.getStringValue().startsWith(SIZE_LIMIT)) {
          return job;
        }
        list.addValues(v);
      }
    }
    list.addValues(Value.newBuilder().setStringValue(SIZE_LIMIT + MESSAGE_BYTES));
    Struct withLimit = options.toBuilder().putFields(EXPERIMENTS, Value.newBuilder().setListValue(list).build()).build();
    return JobInfo.create(job.jobId(), job.jobName(), job.retrievalToken(), withLimit);
  }
}
