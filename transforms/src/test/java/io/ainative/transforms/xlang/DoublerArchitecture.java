package io.ainative.transforms.xlang;

import ai.djl.nn.Block;
import io.ainative.transforms.TinyModels;

/** The test doubler, registered as a named architecture (test META-INF/services). */
public final class DoublerArchitecture implements ModelArchitecture {
  static final String NAME = "test:doubler";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Block newBlock() {
    return TinyModels.doubler();
  }
}
