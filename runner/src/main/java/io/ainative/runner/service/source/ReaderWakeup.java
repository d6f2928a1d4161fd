package io.ainative.runner.service.source;

import java.net.InetAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.apache.flink.api.connector.source.SourceReaderContext;

/**
 * What the service readers ({@link RpcServiceReader}, {@link StageServiceReader}) share: the
 * availability future that wakes the task's {@code pollNext} when something happened off the task
 * thread, the host they advertise, and the cause of a failed future.
 */
final class ReaderWakeup {
  private CompletableFuture<Void> wake = new CompletableFuture<>();

  /** Something happened: the next {@link #isAvailable} is complete. Any thread. */
  synchronized void wakeUp() {
    wake.complete(null);
  }

  /** For {@code SourceReader#isAvailable}: complete once after each {@link #wakeUp}. */
  synchronized CompletableFuture<Void> isAvailable() {
    if (wake.isDone()) {
      wake = new CompletableFuture<>();
      return CompletableFuture.completedFuture(null);
    }
    return wake;
  }

  /** The TaskManager's host name, or the loopback address when it has none. */
  static String advertisedHost(SourceReaderContext context) {
    String host = context.getLocalHostName();
    return host == null || host.isBlank() ? InetAddress.getLoopbackAddress().getHostAddress() : host;
  }

  /** Why {@code failed} failed. */
  static Throwable cause(CompletableFuture<?> failed) {
    try {
      failed.join();
      return new IllegalStateException("not failed");
    } catch (CompletionException e) {
      return e.getCause() == null ? e : e.getCause();
    }
  }
}
