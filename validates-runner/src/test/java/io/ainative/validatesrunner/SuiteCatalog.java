package io.ainative.validatesrunner;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.junit.Test;
import org.junit.experimental.categories.Category;

/**
 * What Beam's tests jars hold of the ValidatesRunner suite, read from their JUnit categories the
 * way JUnit's {@code Categories} filter reads them: a test's categories are those on its method
 * plus those on its class ({@code @Category} is inherited), and a category matches a group when it
 * is the group or a subtype of it.
 *
 * <p>Classes are loaded without initialising them, from the class loader given.
 */
final class SuiteCatalog {

  /** A class in each tests jar that the suite scans; their jars are where the suite lives. */
  static final List<String> ANCHOR_CLASSES =
      List.of(
          "org.apache.beam.sdk.transforms.ParDoTest",
          "org.apache.beam.runners.core.metrics.MetricsPusherTest");

  private final ClassLoader loader;

  SuiteCatalog(ClassLoader loader) {
    this.loader = loader;
  }

  /** The jars of {@link #ANCHOR_CLASSES}, as found on this class loader. */
  List<Path> suiteJars() {
    List<Path> jars = new ArrayList<>();
    for (String anchor : ANCHOR_CLASSES) {
      Class<?> type = load(anchor);
      try {
        jars.add(Paths.get(type.getProtectionDomain().getCodeSource().getLocation().toURI()));
      } catch (URISyntaxException e) {
        throw new IllegalStateException("Cannot locate the jar of " + anchor, e);
      }
    }
    return jars;
  }

  /**
   * The concrete test classes in {@code jars} with at least one test in category {@code group} (or
   * a subtype of it), by binary name (nested classes as {@code Outer$Inner}), sorted.
   */
  Set<String> classesWith(List<Path> jars, Class<?> group) {
    Set<String> found = new TreeSet<>();
    for (Path jar : jars) {
      try (JarFile file = new JarFile(jar.toFile())) {
        Enumeration<JarEntry> entries = file.entries();
        while (entries.hasMoreElements()) {
          String entry = entries.nextElement().getName();
          if (!entry.endsWith(".class") || entry.contains("/repackaged/") || entry.startsWith("META-INF/")) {
            continue;
          }
          String name = entry.substring(0, entry.length() - ".class".length()).replace('/', '.');
          Class<?> type = tryLoad(name);
          if (type != null && hasTestIn(type, group)) {
            found.add(name);
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException("Reading " + jar + " failed", e);
      }
    }
    return found;
  }

  /** Whether JUnit would run {@code type} and at least one of its tests is in {@code group}. */
  static boolean hasTestIn(Class<?> type, Class<?> group) {
    if (!Modifier.isPublic(type.getModifiers()) || Modifier.isAbstract(type.getModifiers()) || type.isInterface()) {
      return false;
    }
    try {
      for (Method method : type.getMethods()) {
        if (method.isAnnotationPresent(Test.class)
            && matches(categories(type, method), group)) {
          return true;
        }
      }
    } catch (LinkageError e) {
      // A test class whose signatures need a library that is not on the classpath cannot run
      // anyway; it is not part of the suite here.
      return false;
    }
    return false;
  }

  /**
   * The categories of test {@code methodName} of {@code testClass}, as JUnit's filter sees them.
   * A parameterized test's name ({@code name[3]}) is reduced to its method. Empty when no such
   * method exists.
   */
  Set<Class<?>> categories(String testClass, String methodName) {
    Class<?> type = tryLoad(testClass);
    if (type == null) {
      return Set.of();
    }
    int bracket = methodName.indexOf('[');
    String bare = bracket >= 0 ? methodName.substring(0, bracket) : methodName;
    for (Method method : type.getMethods()) {
      if (method.getName().equals(bare) && method.isAnnotationPresent(Test.class)) {
        return categories(type, method);
      }
    }
    return Set.of();
  }

  static Set<Class<?>> categories(Class<?> type, Method method) {
    Set<Class<?>> all = new LinkedHashSet<>();
    Category onClass = type.getAnnotation(Category.class);
    if (onClass != null) {
      all.addAll(Arrays.asList(onClass.value()));
    }
    Category onMethod = method.getAnnotation(Category.class);
    if (onMethod != null) {
      all.addAll(Arrays.asList(onMethod.value()));
    }
    return all;
  }

  /** Whether any of {@code categories} is {@code group} or a subtype of it. */
  static boolean matches(Set<Class<?>> categories, Class<?> group) {
    return categories.stream().anyMatch(group::isAssignableFrom);
  }

  private Class<?> load(String name) {
    try {
      return Class.forName(name, false, loader);
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException(name + " is not on the classpath; is the tests jar a dependency?", e);
    }
  }

  private Class<?> tryLoad(String name) {
    try {
      return Class.forName(name, false, loader);
    } catch (ClassNotFoundException | LinkageError e) {
      return null;
    }
  }
}
