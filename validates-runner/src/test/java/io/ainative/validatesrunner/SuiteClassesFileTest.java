package io.ainative.validatesrunner;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.junit.Assert.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.beam.sdk.testing.ValidatesRunner;
import org.junit.Test;

/** The checked-in lists of suite classes match the tests jars on the classpath. */
public class SuiteClassesFileTest {

  private final SuiteCatalog catalog = new SuiteCatalog(getClass().getClassLoader());

  @Test
  public void catalog_findsNestedClasses_andSkipsClassesWithoutValidatesRunnerTests() {
    Set<String> classes = catalog.classesWith(catalog.suiteJars(), ValidatesRunner.class);

    assertThat(classes, hasItem("org.apache.beam.sdk.transforms.ParDoTest$StateTests"));
    assertThat(classes, hasItem("org.apache.beam.sdk.transforms.GroupByKeyTest$BasicTests"));
    assertThat(classes, hasItem("org.apache.beam.runners.core.metrics.MetricsPusherTest"));
    // a coder's unit test needs no runner
    assertThat(classes, not(hasItem("org.apache.beam.sdk.coders.VarIntCoderTest")));
    // the outer class only holds the nested ones
    assertThat(classes, not(hasItem("org.apache.beam.sdk.transforms.ParDoTest")));
  }

  @Test
  public void fastSubset_excludesEverythingTheFullSuiteExcludes() throws IOException {
    List<String> fast = Files.readAllLines(Paths.get("suite", "fast-excluded-tests.txt"));
    for (String line : Files.readAllLines(Paths.get("suite", "excluded-tests.txt"))) {
      if (!line.isBlank() && !line.startsWith("#")) {
        assertThat("suite/fast-excluded-tests.txt", fast, hasItem(line));
      }
    }
  }

  @Test
  public void classFiles_areUpToDateWithTheTestsJars() throws IOException {
    for (Map.Entry<String, Class<?>> e : ValidatesRunnerSuite.SUITE_FILES.entrySet()) {
      String expected =
          ValidatesRunnerSuite.classesFile(catalog.classesWith(catalog.suiteJars(), e.getValue()), e.getValue());
      String actual = Files.readString(Paths.get("suite", e.getKey()), StandardCharsets.UTF_8);

      assertEquals("suite/" + e.getKey() + " is stale; regenerate it (see its header)", expected, actual);
    }
  }
}
