package io.ainative.runner.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A model directory for tests that build a {@code ModelSpec} but never load its model: a fresh
 * directory under {@code java.io.tmpdir} holding an empty TorchScript file, which passes the spec's
 * checks. Deleted when the JVM exits.
 */
public final class PlaceholderModel {
  private PlaceholderModel() {}

  /** A new directory that {@code ModelSpec} accepts as a TorchScript model directory. */
  public static String directory() {
    try {
      Path dir = Files.createTempDirectory("placeholder-model-");
      Path file = Files.createFile(dir.resolve("never-loaded.pt"));
      file.toFile().deleteOnExit();
      dir.toFile().deleteOnExit();
      return dir.toString();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot create a placeholder model directory under java.io.tmpdir", e);
    }
  }
}
