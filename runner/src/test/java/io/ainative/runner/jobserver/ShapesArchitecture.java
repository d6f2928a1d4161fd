package io.ainative.runner.jobserver;

import ai.djl.nn.Block;
import io.ainative.harness.testing.ShapesClassifier;
import io.ainative.transforms.xlang.ModelArchitecture;

/**
 * The test shapes CNN as a named architecture, so a Python pipeline can load its DJL parameters
 * (registered in the runner's test {@code META-INF/services}).
 */
public final class ShapesArchitecture implements ModelArchitecture {
  public static final String NAME = "ainative-test:shapes-cnn";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Block newBlock() {
    return ShapesClassifier.newBlock();
  }
}
