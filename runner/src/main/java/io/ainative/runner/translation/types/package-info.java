/**
 * Flink type information for the records the runner's operators emit. Rule: a type-information
 * helper that translators and service planners both use lives here; it depends on no other package
 * of the runner.
 */
@Internal
package io.ainative.runner.translation.types;

import org.apache.beam.sdk.annotations.Internal;
