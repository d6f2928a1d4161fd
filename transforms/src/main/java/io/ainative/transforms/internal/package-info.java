/**
 * Implementation of RunInference shared with the model host in {@code fn-harness-gpu}: loading,
 * per-thread inference sessions with failure isolation, the per-JVM model cache, and the inline
 * DoFn. Not a user API: it may change without notice.
 */
@Internal
package io.ainative.transforms.internal;

import org.apache.beam.sdk.annotations.Internal;
