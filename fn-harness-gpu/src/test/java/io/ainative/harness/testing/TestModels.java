package io.ainative.harness.testing;

import java.nio.file.Path;
import java.nio.file.Paths;

/** The shapes model for this module's tests: trained once, cached under {@code target/}. */
public final class TestModels {
  public static final int SIZE = 32;
  public static final int CHANNELS = 1;

  private TestModels() {}

  public static Path shapesModelDir() {
    return ShapesClassifier.trainedModel(
        Paths.get(System.getProperty("basedir", "."), "target", "test-models"), SIZE, CHANNELS);
  }
}
