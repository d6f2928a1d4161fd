package io.ainative.harness;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.Test;

/** PyTorch loads from the native jar on the classpath, with downloads switched off. */
public class DjlOfflineSmokeTest {
  @Test
  public void pytorchEngine_loadsOffline_andAddsArrays() {
    assertEquals("true", System.getProperty("ai.djl.offline"));
    try (NDManager manager = Engine.getEngine("PyTorch").newBaseManager()) {
      NDArray sum = manager.create(new float[] {1f, 2f}).add(manager.create(new float[] {3f, 4f}));
      assertArrayEquals(new float[] {4f, 6f}, sum.toFloatArray(), 0f);
    }
  }
}
