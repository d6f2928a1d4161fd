package io.ainative.transforms;

import java.io.Serializable;
import java.util.Objects;
import org.joda.time.Duration;

/**
 * How RunInference batches and serves requests. Immutable: every {@code withX} returns a checked
 * copy, and an impossible value fails at the call that sets it, naming the field.
 *
 * <p>Which expansion honours what: the inline expansion (any runner) uses the batch sizes, the
 * batching delay (checked when an element arrives), model copies (per JVM) and the retry policy;
 * it always emits in input order. Instances, the request timeout and ordering are read by a runner
 * that serves the model from a service (ainative's runner); they are carried in the payload.
 */
public final class InferenceOptions implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Whether results must leave in the order their inputs arrived (per runner partition). */
  public enum Ordering {
    ORDERED,
    UNORDERED
  }

  private final int minBatchSize;
  private final int maxBatchSize;
  private final Duration maxBatchingDelay;
  private final int instances;
  private final int modelCopies;
  private final Duration requestTimeout;
  private final RetryPolicy retryPolicy;
  private final Ordering ordering;

  private InferenceOptions(
      int minBatchSize,
      int maxBatchSize,
      Duration maxBatchingDelay,
      int instances,
      int modelCopies,
      Duration requestTimeout,
      RetryPolicy retryPolicy,
      Ordering ordering) {
    if (minBatchSize < 1) {
      throw new IllegalArgumentException("minBatchSize must be >= 1, was " + minBatchSize);
    }
    if (maxBatchSize < 1) {
      throw new IllegalArgumentException("maxBatchSize must be >= 1, was " + maxBatchSize);
    }
    if (minBatchSize > maxBatchSize) {
      throw new IllegalArgumentException(
          "minBatchSize (" + minBatchSize + ") must be <= maxBatchSize (" + maxBatchSize + ")");
    }
    Objects.requireNonNull(maxBatchingDelay, "maxBatchingDelay");
    if (maxBatchingDelay.getMillis() < 0) {
      throw new IllegalArgumentException("maxBatchingDelay must be >= 0, was " + maxBatchingDelay);
    }
    if (instances < 1) {
      throw new IllegalArgumentException("instances must be >= 1, was " + instances);
    }
    if (modelCopies < 1) {
      throw new IllegalArgumentException("modelCopies must be >= 1, was " + modelCopies);
    }
    Objects.requireNonNull(requestTimeout, "requestTimeout");
    if (requestTimeout.getMillis() <= 0) {
      throw new IllegalArgumentException("requestTimeout must be > 0, was " + requestTimeout);
    }
    this.minBatchSize = minBatchSize;
    this.maxBatchSize = maxBatchSize;
    this.maxBatchingDelay = maxBatchingDelay;
    this.instances = instances;
    this.modelCopies = modelCopies;
    this.requestTimeout = requestTimeout;
    this.retryPolicy = Objects.requireNonNull(retryPolicy, "retryPolicy");
    this.ordering = Objects.requireNonNull(ordering, "ordering");
  }

  /**
   * Batches of 1 to 32, at most 10 ms of batching delay, 1 instance with 1 model copy, 60 s request
   * timeout, {@link RetryPolicy#defaultPolicy()}, unordered output.
   */
  public static InferenceOptions defaults() {
    return new InferenceOptions(
        1,
        32,
        Duration.millis(10),
        1,
        1,
        Duration.standardSeconds(60),
        RetryPolicy.defaultPolicy(),
        Ordering.UNORDERED);
  }

  public InferenceOptions withBatchSize(int min, int max) {
    return new InferenceOptions(
        min, max, maxBatchingDelay, instances, modelCopies, requestTimeout, retryPolicy, ordering);
  }

  public InferenceOptions withMinBatchSize(int min) {
    return withBatchSize(min, maxBatchSize);
  }

  public InferenceOptions withMaxBatchSize(int max) {
    return withBatchSize(minBatchSize, max);
  }

  public InferenceOptions withMaxBatchingDelay(Duration delay) {
    return new InferenceOptions(
        minBatchSize, maxBatchSize, delay, instances, modelCopies, requestTimeout, retryPolicy,
        ordering);
  }

  public InferenceOptions withInstances(int n) {
    return new InferenceOptions(
        minBatchSize, maxBatchSize, maxBatchingDelay, n, modelCopies, requestTimeout, retryPolicy,
        ordering);
  }

  public InferenceOptions withModelCopies(int n) {
    return new InferenceOptions(
        minBatchSize, maxBatchSize, maxBatchingDelay, instances, n, requestTimeout, retryPolicy,
        ordering);
  }

  public InferenceOptions withRequestTimeout(Duration timeout) {
    return new InferenceOptions(
        minBatchSize, maxBatchSize, maxBatchingDelay, instances, modelCopies, timeout, retryPolicy,
        ordering);
  }

  public InferenceOptions withRetryPolicy(RetryPolicy policy) {
    return new InferenceOptions(
        minBatchSize, maxBatchSize, maxBatchingDelay, instances, modelCopies, requestTimeout, policy,
        ordering);
  }

  public InferenceOptions withOrdering(Ordering order) {
    return new InferenceOptions(
        minBatchSize, maxBatchSize, maxBatchingDelay, instances, modelCopies, requestTimeout,
        retryPolicy, order);
  }

  /** The batch size a runner aims not to go below, waiting up to the batching delay for it. */
  public int minBatchSize() {
    return minBatchSize;
  }

  /** No model call gets more elements than this. */
  public int maxBatchSize() {
    return maxBatchSize;
  }

  /** The longest an element waits for its batch to fill. */
  public Duration maxBatchingDelay() {
    return maxBatchingDelay;
  }

  /** Service instances that serve the model (service runners only). */
  public int instances() {
    return instances;
  }

  /** Copies of the model per instance (per JVM in the inline expansion). */
  public int modelCopies() {
    return modelCopies;
  }

  /** How long a request to a service instance may take before it counts as failed. */
  public Duration requestTimeout() {
    return requestTimeout;
  }

  public RetryPolicy retryPolicy() {
    return retryPolicy;
  }

  public Ordering ordering() {
    return ordering;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof InferenceOptions)) {
      return false;
    }
    InferenceOptions that = (InferenceOptions) o;
    return minBatchSize == that.minBatchSize
        && maxBatchSize == that.maxBatchSize
        && maxBatchingDelay.equals(that.maxBatchingDelay)
        && instances == that.instances
        && modelCopies == that.modelCopies
        && requestTimeout.equals(that.requestTimeout)
        && retryPolicy.equals(that.retryPolicy)
        && ordering == that.ordering;
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        minBatchSize, maxBatchSize, maxBatchingDelay, instances, modelCopies, requestTimeout,
        retryPolicy, ordering);
  }

  @Override
  public String toString() {
    return "InferenceOptions{batch=" + minBatchSize + ".." + maxBatchSize + ", maxBatchingDelay="
        + maxBatchingDelay + ", instances=" + instances + ", modelCopies=" + modelCopies
        + ", requestTimeout=" + requestTimeout + ", " + retryPolicy + ", " + ordering + "}";
  }
}
