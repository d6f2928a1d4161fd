package io.ainative.harness;

/**
 * An element's failure as the SDK harness reported it: the class and message of the exception
 * thrown there (the exception itself stays in the harness, as on any wire). Here, not in {@code
 * fnapi}, because the service's wire reports the harness's class for it.
 */
public final class HarnessElementException extends Exception {
  private static final long serialVersionUID = 1L;
  private final String errorClass;

  public HarnessElementException(String errorClass, String message) {
    super(message, null, false, false);
    this.errorClass = errorClass;
  }

  /** The class of the exception the harness caught. */
  public String errorClass() {
    return errorClass;
  }

  /** The class to report for {@code error}: the harness's class for one that came from there. */
  public static String classOf(Throwable error) {
    return error instanceof HarnessElementException ? ((HarnessElementException) error).errorClass : error.getClass().getName();
  }
}
