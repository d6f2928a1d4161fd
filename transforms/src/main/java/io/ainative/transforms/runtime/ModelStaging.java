package io.ainative.transforms.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.checkerframework.checker.nullness.qual.Nullable;

/** Copies a model from any Beam FileSystems location to a fresh local directory. */
final class ModelStaging {
  private ModelStaging() {}

  /**
   * Copies the file {@code uri}, or every file directly under the directory {@code uri}, into a
   * new temporary directory, and returns the local path that plays the role of {@code uri}.
   */
  static Path stageLocally(String uri) throws IOException {
    Path dir = Files.createTempDirectory("ainative-model-");
    try {
      MatchResult single = FileSystems.match(uri, EmptyMatchTreatment.ALLOW);
      List<MatchResult.Metadata> files = single.metadata();
      boolean isFile =
          single.status() == MatchResult.Status.OK
              && files.size() == 1
              && !files.get(0).resourceId().isDirectory()
              && files.get(0).sizeBytes() > 0;
      if (isFile) {
        return copy(files.get(0).resourceId(), dir);
      }
      String pattern = (uri.endsWith("/") ? uri : uri + "/") + "*";
      MatchResult children = FileSystems.match(pattern, EmptyMatchTreatment.DISALLOW);
      for (MatchResult.Metadata m : children.metadata()) {
        copy(m.resourceId(), dir);
      }
      return dir;
    } catch (IOException | RuntimeException e) {
      deleteQuietly(dir);
      throw e;
    }
  }

  private static Path copy(ResourceId from, Path dir) throws IOException {
    Path to = dir.resolve(from.getFilename());
    try (ReadableByteChannel channel = FileSystems.open(from);
        InputStream in = Channels.newInputStream(channel)) {
      Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
    }
    return to;
  }

  /** Deletes a staged file or directory tree; a failure only leaves a temporary file behind. */
  static void deleteQuietly(@Nullable Path path) {
    if (path == null) {
      return;
    }
    Path root = Files.isRegularFile(path) ? path.getParent() : path;
    try (Stream<Path> walk = Files.walk(root)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a leftover temporary copy is harmless; the model itself was closed
    }
  }
}
