/**
 * The runner's pipeline options ({@link io.ainative.runner.options.AiNativeFlinkPipelineOptions})
 * and the enums they expose. Public API. Rule: an options interface, or a type that appears in one
 * of its getters, lives here; nothing here depends on any other package of the runner.
 */
package io.ainative.runner.options;
