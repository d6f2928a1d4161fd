/**
 * A served stage's server: one SDK environment that runs a bundle per request ({@link
 * io.ainative.harness.stage.StageServer}) and the wire both it and the runner's client speak
 * ({@link io.ainative.harness.stage.StageCalls}). Rule: no Flink here; what the server needs of
 * the stage comes through {@link io.ainative.harness.stage.StageServer.Stage}.
 */
@Internal
package io.ainative.harness.stage;

import org.apache.beam.sdk.annotations.Internal;
