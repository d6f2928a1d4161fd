/**
 * RunInference for Beam Java: {@link io.ainative.transforms.RunInference} is the entry point,
 * {@link io.ainative.transforms.ModelSpec} says which model runs and how its inputs and outputs
 * are converted, and {@link io.ainative.transforms.RunInferencePayload} is the portable form
 * ({@code beam:transform:ainative:run_inference:v1}) that runners read.
 */
package io.ainative.transforms;
