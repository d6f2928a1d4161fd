package io.ainative.transforms.xlang;

import ai.djl.nn.Block;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.TreeSet;
import org.apache.beam.sdk.util.SerializableSupplier;

/**
 * A network architecture known by name, for models saved as DJL parameters ({@code .params}),
 * which DJL can only load into a {@link Block} built in Java. A pipeline in another language
 * names the architecture ({@code architecture="..."} in the cross-language configuration); the
 * Java side finds it among the implementations registered with {@link ServiceLoader} ({@code
 * META-INF/services/io.ainative.transforms.xlang.ModelArchitecture}) on the expansion service's
 * and the runner's classpath. TorchScript models need none.
 */
public interface ModelArchitecture {

  /** The name a configuration gives; unique on a classpath. */
  String name();

  /** A new, uninitialized block of this architecture. */
  Block newBlock();

  /**
   * A serializable factory of the named architecture's blocks; the name is looked up again where
   * the factory runs (the runner's inference instances).
   *
   * @throws IllegalArgumentException naming the architecture and the known ones, when none on
   *     this classpath has that name
   */
  static SerializableSupplier<Block> named(String name) {
    find(name);
    return () -> find(name).newBlock();
  }

  /** The registered architecture called {@code name}. */
  static ModelArchitecture find(String name) {
    List<ModelArchitecture> matches = new ArrayList<>();
    TreeSet<String> known = new TreeSet<>();
    for (ModelArchitecture architecture : ServiceLoader.load(ModelArchitecture.class, classLoader())) {
      known.add(architecture.name());
      if (architecture.name().equals(name)) {
        matches.add(architecture);
      }
    }
    if (matches.isEmpty()) {
      throw new IllegalArgumentException(
          "architecture: no model architecture named '" + name + "' on the classpath; known: " + known
              + " (register one through META-INF/services/" + ModelArchitecture.class.getName() + ")");
    }
    if (matches.size() > 1) {
      throw new IllegalArgumentException(
          "architecture: " + matches.size() + " model architectures are named '" + name + "': " + matches);
    }
    return matches.get(0);
  }

  private static ClassLoader classLoader() {
    ClassLoader context = Thread.currentThread().getContextClassLoader();
    return context != null ? context : ModelArchitecture.class.getClassLoader();
  }
}
