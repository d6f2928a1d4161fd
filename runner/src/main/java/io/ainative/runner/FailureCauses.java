package io.ainative.runner;

import org.apache.beam.sdk.util.UserCodeException;
import org.apache.flink.runtime.client.JobExecutionException;
import org.checkerframework.checker.nullness.qual.Nullable;

/** Finds, in the exception chain of a failed Flink job, the cause a pipeline author can act on. */
final class FailureCauses {

  /** What the SDK harness reports instead of an exception object: its stack trace as text. */
  static final String HARNESS_ERROR = "Error received from SDK harness";

  private static final String ASSERTION_ERROR = "java.lang.AssertionError";

  private FailureCauses() {}

  /**
   * The user's exception when user code threw in this JVM, else the SDK harness's error report,
   * else the first cause below Flink's job-level wrappers.
   */
  static Throwable userFacingCause(Throwable failure) {
    Throwable userCode = null;
    Throwable harness = null;
    Throwable belowJobWrappers = null;
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof UserCodeException) {
        userCode = t;
      }
      if (harness == null && t.getMessage() != null && t.getMessage().contains(HARNESS_ERROR)) {
        harness = t;
      }
      if (belowJobWrappers == null && !(t instanceof JobExecutionException) && t != failure) {
        belowJobWrappers = t;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    if (userCode != null) {
      return userCode.getCause() == null ? userCode : userCode.getCause();
    }
    if (harness != null) {
      return harness;
    }
    return belowJobWrappers == null ? failure : belowJobWrappers;
  }

  /**
   * An {@link AssertionError} thrown by user code (PAssert) in this JVM, or re-created from the
   * SDK harness's text report of one; {@code null} when the failure was something else.
   */
  static @Nullable AssertionError assertionError(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof AssertionError) {
        return (AssertionError) t;
      }
      String message = t.getMessage();
      if (message != null && message.contains(HARNESS_ERROR)) {
        int at = message.indexOf(ASSERTION_ERROR);
        if (at >= 0) {
          String rest = message.substring(at + ASSERTION_ERROR.length());
          if (rest.startsWith(":")) {
            rest = rest.substring(1).trim();
          }
          int stack = rest.indexOf("\n\tat ");
          AssertionError error = new AssertionError(stack >= 0 ? rest.substring(0, stack) : rest);
          error.initCause(t);
          return error;
        }
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return null;
  }
}
