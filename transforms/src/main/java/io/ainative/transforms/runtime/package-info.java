/**
 * The inference runtime: what loads a model and runs batches through it, shared by RunInference's
 * inline DoFn and the model host in {@code fn-harness-gpu}. It holds loading and staging ({@code
 * LoadedModel}), per-thread sessions with failure isolation ({@code InferenceSession}), per-element
 * results ({@code Outcome}), the per-JVM model cache ({@code SharedModels}) and the DoFn itself.
 * Named for that role rather than "internal": other modules depend on it, but users should not;
 * every public type is {@link org.apache.beam.sdk.annotations.Internal} and may change without
 * notice.
 */
@Internal
package io.ainative.transforms.runtime;

import org.apache.beam.sdk.annotations.Internal;
