/**
 * What runs inside an inference service: {@link io.ainative.harness.ModelHost} holds one loaded,
 * warmed-up model copy and {@link io.ainative.harness.DynamicBatcher} merges the requests of many
 * callers into batches for one or more copies.
 */
package io.ainative.harness;
