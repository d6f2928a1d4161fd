package io.ainative.validatesrunner;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.not;
import static org.junit.Assert.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.apache.beam.sdk.testing.UsesStatefulParDo;
import org.apache.beam.sdk.testing.UsesTimersInParDo;
import org.apache.beam.sdk.testing.ValidatesRunner;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** Reading Surefire's XML reports and rendering the suite's tables from them. */
public class SuiteReportTest {

  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  private static final String STATE_TESTS = "org.apache.beam.sdk.transforms.ParDoTest$StateTests";

  private Path run(String name, String... testcases) throws IOException {
    Path dir = tmp.newFolder(name).toPath();
    String xml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"" + STATE_TESTS
            + "\" time=\"12.5\" tests=\"" + testcases.length + "\">\n" + String.join("\n", testcases)
            + "\n</testsuite>\n";
    Files.writeString(dir.resolve("TEST-" + STATE_TESTS + ".xml"), xml, StandardCharsets.UTF_8);
    return dir;
  }

  private static String passed(String method) {
    return "<testcase name=\"" + method + "\" classname=\"" + STATE_TESTS + "\" time=\"1.5\"/>";
  }

  private static String failed(String method, String message) {
    return "<testcase name=\"" + method + "\" classname=\"" + STATE_TESTS + "\" time=\"2\">"
        + "<failure message=\"" + message + "\" type=\"java.lang.AssertionError\">stack</failure></testcase>";
  }

  private static String skipped(String method) {
    return "<testcase name=\"" + method + "\" classname=\"" + STATE_TESTS + "\" time=\"0\">"
        + "<skipped message=\"assumption\"/></testcase>";
  }

  @Test
  public void read_countsPassedFailedAndSkipped_andKeepsTheFirstLineOfAFailure() throws IOException {
    SurefireResults results =
        SurefireResults.read(run("ainative-streaming",
            passed("testValueState"), failed("testBagState", "&#10;expected 3&#10;but was 2"), skipped("testSetState")));

    assertEquals("ainative-streaming", results.name());
    assertEquals(1, results.count(SurefireResults.Outcome.PASSED));
    assertEquals(1, results.count(SurefireResults.Outcome.FAILED));
    assertEquals(1, results.count(SurefireResults.Outcome.SKIPPED));
    SurefireResults.TestCase bag = results.cases().stream()
        .filter(c -> c.method().equals("testBagState")).findFirst().orElseThrow();
    assertEquals("expected 3", bag.message());
  }

  @Test
  public void render_countsByCategory_andComparesWithBeamInTheSameMode() throws IOException {
    SurefireResults ours = SurefireResults.read(run("ainative-streaming",
        passed("testValueState"), failed("testBagState", "bag lost an element")));
    SurefireResults beam = SurefireResults.read(run("beam-portable-streaming",
        passed("testValueState"), passed("testBagState")));
    SuiteReport.Categories categories = (className, method) ->
        method.equals("testBagState")
            ? Set.of(ValidatesRunner.class, UsesStatefulParDo.class, UsesTimersInParDo.class)
            : Set.of(ValidatesRunner.class, UsesStatefulParDo.class);

    String md = new SuiteReport(List.of(ours, beam), categories).render();

    assertThat(md, containsString("| ainative-streaming | 2 | 1 | 1 | 0 |"));
    assertThat(md, containsString("| UsesStatefulParDo | 1 / 1 / 0 | 2 / 0 / 0 |"));
    assertThat(md, containsString("| UsesTimersInParDo | 0 / 1 / 0 | 1 / 0 / 0 |"));
    // every test is in ValidatesRunner: no row of its own
    assertThat(md, not(containsString("| ValidatesRunner |")));
    assertThat(md, not(containsString("| " + SuiteReport.NO_OTHER_CATEGORY)));
    assertThat(md, containsString("| sdk.transforms.ParDoTest$StateTests | 1 / 1 / 0 | 2 / 0 / 0 |"));
    assertThat(md, containsString("ainative passes 1, Beam passes 2; both pass 1."));
    assertThat(md, containsString("`org.apache.beam.sdk.transforms.ParDoTest$StateTests#testBagState` (ainative: FAILED)"));
    assertThat(md, containsString("- `sdk.transforms.ParDoTest$StateTests#testBagState`: bag lost an element"));
  }

  @Test
  public void render_countsATestWithoutOtherCategoriesInItsOwnRow() throws IOException {
    SurefireResults ours = SurefireResults.read(run("ainative-batch", passed("testValueState")));

    String md = new SuiteReport(List.of(ours), (c, m) -> Set.of(ValidatesRunner.class)).render();

    assertThat(md, containsString("| " + SuiteReport.NO_OTHER_CATEGORY + " | 1 / 0 / 0 |"));
  }

  @Test
  public void replaceGenerated_keepsTheHandWrittenText() {
    String readme = "# Title\n\nhand written\n\n" + ValidatesRunnerSuite.BEGIN + "\nold\n" + ValidatesRunnerSuite.END
        + "\n\n## After\n";

    String updated = ValidatesRunnerSuite.replaceGenerated(readme, "new tables");

    assertEquals("# Title\n\nhand written\n\n" + ValidatesRunnerSuite.BEGIN + "\n\nnew tables\n\n"
        + ValidatesRunnerSuite.END + "\n\n## After\n", updated);
  }
}
