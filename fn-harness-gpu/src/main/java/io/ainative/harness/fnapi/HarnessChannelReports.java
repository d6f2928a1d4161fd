package io.ainative.harness.fnapi;

import java.util.logging.Filter;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Keeps gRPC's report of an orphaned channel ({@code *~*~*~ Previous channel ... was not shutdown
 * properly!!!}, SEVERE, with the channel's allocation site) quiet for the channels that Beam's
 * in-process SDK harness opens itself, and only for those.
 *
 * <p>Beam 2.62's {@code FnHarness} shuts its logging channel down, but not its control channel nor
 * the channels of its data and state clients, and keeps them where the runner cannot reach them.
 * gRPC reports each of them once the garbage collector has taken it. By then the channel is gone,
 * and an in-process channel holds no socket or thread of its own, so the report points at a
 * harmless Beam defect, in front of every user, once per harness. A report about any other channel
 * (one allocated outside the harness's own classes: the runner's, a user's) is still logged.
 *
 * <p>The filter sits on gRPC's java.util.logging logger itself, so it applies whichever handlers the
 * harness installs on the root logger while it runs ({@code LogManager.reset} keeps filters).
 */
final class HarnessChannelReports implements Filter {
  static final String ORPHAN_LOGGER = "org.apache.beam.vendor.grpc.v1p60p1.io.grpc.internal.ManagedChannelOrphanWrapper";

  private static final String HARNESS_PACKAGE = "org.apache.beam.fn.harness.";
  private static final String GRPC_PACKAGE = "org.apache.beam.vendor.grpc.";
  private static final String CHANNEL_FACTORY_PACKAGE = "org.apache.beam.sdk.fn.channel.";
  /** Held here: java.util.logging keeps loggers, and with them their filter, only weakly. */
  private static final Logger ORPHANS = Logger.getLogger(ORPHAN_LOGGER);

  private final Filter previous;

  private HarnessChannelReports(Filter previous) {
    this.previous = previous;
  }

  /** Installs the filter on gRPC's logger, once; a filter already there still applies after it. */
  static synchronized void install() {
    Filter current = ORPHANS.getFilter();
    if (!(current instanceof HarnessChannelReports)) {
      ORPHANS.setFilter(new HarnessChannelReports(current));
    }
  }

  @Override
  public boolean isLoggable(LogRecord record) {
    if (allocatedByHarness(record.getThrown())) {
      return false;
    }
    return previous == null || previous.isLoggable(record);
  }

  /**
   * Whether the channel of an allocation site was built by the harness's own code: the first frame
   * past gRPC's builders and Beam's channel factory is in the harness's package.
   */
  static boolean allocatedByHarness(Throwable allocationSite) {
    if (allocationSite == null) {
      return false;
    }
    for (StackTraceElement frame : allocationSite.getStackTrace()) {
      String type = frame.getClassName();
      if (type.startsWith(GRPC_PACKAGE) || type.startsWith(CHANNEL_FACTORY_PACKAGE)) {
        continue;
      }
      return type.startsWith(HARNESS_PACKAGE);
    }
    return false;
  }
}
