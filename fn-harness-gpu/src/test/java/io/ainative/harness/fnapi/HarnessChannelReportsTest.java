package io.ainative.harness.fnapi;

import static org.junit.Assert.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/** gRPC's orphaned-channel reports: quiet for the channels of Beam's harness, shown for any other. */
public class HarnessChannelReportsTest {
  private final Logger orphans = Logger.getLogger(HarnessChannelReports.ORPHAN_LOGGER);
  private final List<LogRecord> published = new ArrayList<>();
  private final Handler capture =
      new Handler() {
        @Override
        public void publish(LogRecord record) {
          published.add(record);
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };

  @Before
  public void listen() {
    HarnessChannelReports.install();
    orphans.addHandler(capture);
    orphans.setUseParentHandlers(false);
  }

  @After
  public void stopListening() {
    orphans.removeHandler(capture);
    orphans.setUseParentHandlers(true);
  }

  /** An allocation site as gRPC records it: its builders, Beam's channel factory, then the caller. */
  private static RuntimeException allocatedBy(String caller) {
    RuntimeException site = new RuntimeException("ManagedChannel allocation site");
    site.setStackTrace(
        new StackTraceElement[] {
          new StackTraceElement("org.apache.beam.vendor.grpc.v1p60p1.io.grpc.internal.ManagedChannelOrphanWrapper$ManagedChannelReference", "<init>", null, 102),
          new StackTraceElement("org.apache.beam.vendor.grpc.v1p60p1.io.grpc.internal.ManagedChannelImplBuilder", "build", null, 668),
          new StackTraceElement("org.apache.beam.sdk.fn.channel.ManagedChannelFactory", "forDescriptor", null, 101),
          new StackTraceElement(caller, "open", null, 1),
          new StackTraceElement("org.apache.beam.fn.harness.control.ProcessBundleHandler", "processBundle", null, 509),
        });
    return site;
  }

  private void report(Throwable allocationSite) {
    LogRecord record = new LogRecord(Level.SEVERE, "*~*~*~ Previous channel {0} was not shutdown properly!!! ~*~*~*");
    record.setLoggerName(HarnessChannelReports.ORPHAN_LOGGER);
    record.setThrown(allocationSite);
    orphans.log(record);
  }

  @Test
  public void aChannelTheHarnessOpened_isNotReported() {
    report(allocatedBy("org.apache.beam.fn.harness.data.BeamFnDataGrpcClient"));
    report(allocatedBy("org.apache.beam.fn.harness.FnHarness"));

    assertEquals(0, published.size());
  }

  @Test
  public void aChannelOpenedElsewhere_isStillReported_evenFromAHarnessThread() {
    report(allocatedBy("io.ainative.user.MyDoFn"));
    report(new RuntimeException("no allocation site frames"));

    assertEquals(2, published.size());
  }

  @Test
  public void installingTwice_keepsOneFilter() {
    HarnessChannelReports.install();

    assertEquals(HarnessChannelReports.class, orphans.getFilter().getClass());
  }
}
