/**
 * Models without downloads, for tests, demos and benchmarks: {@link
 * io.ainative.harness.testing.ShapeImages} draws labelled images of shapes with Java2D and {@link
 * io.ainative.harness.testing.ShapesClassifier} trains a small CNN on them with DJL in seconds,
 * saves it, and gives the {@link io.ainative.transforms.ModelSpec} that loads it; {@link
 * io.ainative.harness.testing.ShapeImageFiles} writes such images as PNG files named by their label.
 */
package io.ainative.harness.testing;
