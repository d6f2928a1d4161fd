package io.ainative.transforms;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Objects;

/**
 * An element that could not be inferred, the step where it failed, and the error. The error is
 * carried as text (class, message, stack trace) so that it can be encoded and read by any SDK.
 *
 * @param <ElementT> the element as it arrived at RunInference (for the keyed variant, the
 *     {@code KV} of key and input)
 */
public final class InferenceFailure<ElementT> {
  private final ElementT element;
  private final InferenceStep step;
  private final String errorClass;
  private final String errorMessage;
  private final String stackTrace;

  private InferenceFailure(
      ElementT element,
      InferenceStep step,
      String errorClass,
      String errorMessage,
      String stackTrace) {
    this.element = element;
    this.step = Objects.requireNonNull(step, "step");
    this.errorClass = Objects.requireNonNull(errorClass, "errorClass");
    this.errorMessage = errorMessage == null ? "" : errorMessage;
    this.stackTrace = stackTrace == null ? "" : stackTrace;
  }

  public static <ElementT> InferenceFailure<ElementT> of(
      ElementT element, InferenceStep step, Throwable error) {
    StringWriter trace = new StringWriter();
    error.printStackTrace(new PrintWriter(trace));
    return new InferenceFailure<>(
        element, step, error.getClass().getName(), error.getMessage(), trace.toString());
  }

  /** For coders: rebuilds a failure from its encoded parts. */
  public static <ElementT> InferenceFailure<ElementT> of(
      ElementT element,
      InferenceStep step,
      String errorClass,
      String errorMessage,
      String stackTrace) {
    return new InferenceFailure<>(element, step, errorClass, errorMessage, stackTrace);
  }

  public ElementT getElement() {
    return element;
  }

  public InferenceStep getStep() {
    return step;
  }

  /** The fully qualified class name of the error. */
  public String getErrorClass() {
    return errorClass;
  }

  /** The error's message; empty when it had none. */
  public String getErrorMessage() {
    return errorMessage;
  }

  /** The error's stack trace as printed by the JVM; empty when not known. */
  public String getStackTrace() {
    return stackTrace;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof InferenceFailure)) {
      return false;
    }
    InferenceFailure<?> that = (InferenceFailure<?>) o;
    return Objects.deepEquals(element, that.element)
        && step == that.step
        && errorClass.equals(that.errorClass)
        && errorMessage.equals(that.errorMessage)
        && stackTrace.equals(that.stackTrace);
  }

  @Override
  public int hashCode() {
    return Objects.hash(element, step, errorClass, errorMessage);
  }

  @Override
  public String toString() {
    return "InferenceFailure{step="
        + step.label()
        + ", element="
        + element
        + ", error="
        + errorClass
        + ": "
        + errorMessage
        + "}";
  }
}
