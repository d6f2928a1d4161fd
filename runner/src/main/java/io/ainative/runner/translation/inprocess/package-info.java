/**
 * Fused stages of Java pipelines that the runner executes in its own task threads, without the Fn
 * API: which stages qualify ({@link io.ainative.runner.translation.inprocess.InProcessStages}), the
 * operator and the runner of their transforms.
 */
@Internal
package io.ainative.runner.translation.inprocess;

import org.apache.beam.sdk.annotations.Internal;
