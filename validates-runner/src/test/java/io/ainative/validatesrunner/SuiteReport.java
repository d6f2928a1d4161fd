package io.ainative.validatesrunner;

import io.ainative.validatesrunner.SurefireResults.Outcome;
import io.ainative.validatesrunner.SurefireResults.TestCase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import org.apache.beam.sdk.testing.NeedsRunner;
import org.apache.beam.sdk.testing.ValidatesRunner;

/**
 * Renders the results of several Surefire runs of the suite as Markdown: totals per run, per
 * category, per test class, the failures, and how each ainative run compares with Beam's runner
 * in the same mode.
 *
 * <p>Runs are named after their reports directories. A run named {@code ainative-X} is compared
 * with the run named {@code beam-portable-X} or {@code beam-classic-X}, when there is one.
 */
final class SuiteReport {

  static final String AINATIVE_PREFIX = "ainative-";
  /** The row of tests that carry no category but ValidatesRunner (and NeedsRunner). */
  static final String NO_OTHER_CATEGORY = "(ValidatesRunner only)";
  static final List<String> BEAM_PREFIXES = List.of("beam-portable-", "beam-classic-");

  /** The prefixes that name a run's runner; what follows is its mode. */
  static List<String> runnerPrefixes() {
    List<String> all = new ArrayList<>(BEAM_PREFIXES);
    all.add(0, AINATIVE_PREFIX);
    return all;
  }

  /** The categories of a test case, by class and method; empty when unknown. */
  interface Categories {
    Set<Class<?>> of(String className, String method);
  }

  private final List<SurefireResults> runs;
  private final Categories categories;

  SuiteReport(List<SurefireResults> runs, Categories categories) {
    this.runs = runs;
    this.categories = categories;
  }

  /** A cell: passed/failed/skipped. */
  private static final class Counts {
    long passed;
    long failed;
    long skipped;

    void add(Outcome outcome) {
      switch (outcome) {
        case PASSED -> passed++;
        case FAILED -> failed++;
        case SKIPPED -> skipped++;
      }
    }

    @Override
    public String toString() {
      return passed + " / " + failed + " / " + skipped;
    }
  }

  String render() {
    StringBuilder md = new StringBuilder();
    md.append("### Totals\n\n");
    md.append("| run | tests | passed | failed | skipped | wall time |\n");
    md.append("| --- | ---: | ---: | ---: | ---: | ---: |\n");
    for (SurefireResults run : runs) {
      md.append(String.format("| %s | %d | %d | %d | %d | %s |%n",
          run.name(), run.cases().size(), run.count(Outcome.PASSED), run.count(Outcome.FAILED),
          run.count(Outcome.SKIPPED), minutes(run.wallTime())));
    }
    md.append("\nWall time: from the first test class's start to the last one's end, read from the reports"
        + " (the JVM starts between classes included, Maven's own start not).\n");

    appendComparison(md);
    appendTable(md, "Per category (passed / failed / skipped)",
        "A test counts in every category it carries (its method's and its class's). ValidatesRunner"
            + " and NeedsRunner, which every test carries, are left out; a test with no other category"
            + " counts in the row " + NO_OTHER_CATEGORY + ".",
        this::byCategory);
    appendTable(md, "Per test class (passed / failed / skipped)", null, this::byClass);
    appendFailures(md);
    return md.toString();
  }

  private void appendComparison(StringBuilder md) {
    List<String> lines = new ArrayList<>();
    for (SurefireResults ours : runs) {
      if (!ours.name().startsWith(AINATIVE_PREFIX)) {
        continue;
      }
      String mode = ours.name().substring(AINATIVE_PREFIX.length());
      for (String prefix : BEAM_PREFIXES) {
        SurefireResults beam = find(prefix + mode);
        if (beam == null) {
          continue;
        }
        Map<String, Outcome> theirs = outcomes(beam);
        Map<String, Outcome> mine = outcomes(ours);
        Set<String> onlyBeam = new TreeSet<>();
        Set<String> onlyOurs = new TreeSet<>();
        for (Map.Entry<String, Outcome> e : theirs.entrySet()) {
          if (e.getValue() == Outcome.PASSED && mine.get(e.getKey()) != Outcome.PASSED) {
            onlyBeam.add(e.getKey() + " (ainative: " + (mine.containsKey(e.getKey()) ? mine.get(e.getKey()) : "not run") + ")");
          }
        }
        for (Map.Entry<String, Outcome> e : mine.entrySet()) {
          if (e.getValue() == Outcome.PASSED && theirs.get(e.getKey()) != Outcome.PASSED) {
            onlyOurs.add(e.getKey() + " (Beam: " + (theirs.containsKey(e.getKey()) ? theirs.get(e.getKey()) : "not run") + ")");
          }
        }
        lines.add(String.format("- **%s vs %s**: ainative passes %d, Beam passes %d; both pass %d.",
            ours.name(), beam.name(), count(mine, Outcome.PASSED), count(theirs, Outcome.PASSED),
            theirs.entrySet().stream()
                .filter(e -> e.getValue() == Outcome.PASSED && mine.get(e.getKey()) == Outcome.PASSED)
                .count()));
        appendList(lines, "Passed by Beam, not by ainative", onlyBeam);
        appendList(lines, "Passed by ainative, not by Beam", onlyOurs);
      }
    }
    if (!lines.isEmpty()) {
      md.append("\n### ainative compared with Beam's runners, per test (same classes and options; beam-classic with its own exclusions)\n\n");
      lines.forEach(l -> md.append(l).append('\n'));
    }
  }

  private static void appendList(List<String> lines, String title, Set<String> items) {
    if (items.isEmpty()) {
      lines.add("  - " + title + ": none.");
      return;
    }
    lines.add("  - " + title + " (" + items.size() + "):");
    items.forEach(i -> lines.add("    - `" + i.replace(" (", "` (")));
  }

  private void appendTable(
      StringBuilder md, String title, String note, Function<SurefireResults, Map<String, Counts>> rows) {
    Map<String, Map<String, Counts>> byRun = new LinkedHashMap<>();
    Set<String> keys = new TreeSet<>();
    for (SurefireResults run : runs) {
      Map<String, Counts> r = rows.apply(run);
      byRun.put(run.name(), r);
      keys.addAll(r.keySet());
    }
    md.append("\n### ").append(title).append("\n\n");
    if (note != null) {
      md.append(note).append("\n\n");
    }
    md.append("| |");
    runs.forEach(r -> md.append(' ').append(r.name()).append(" |"));
    md.append("\n| --- |");
    runs.forEach(r -> md.append(" ---: |"));
    md.append('\n');
    for (String key : keys) {
      md.append("| ").append(key).append(" |");
      for (SurefireResults run : runs) {
        Counts c = byRun.get(run.name()).get(key);
        md.append(' ').append(c == null ? "" : c.toString()).append(" |");
      }
      md.append('\n');
    }
  }

  private Map<String, Counts> byCategory(SurefireResults run) {
    Map<String, Counts> rows = new TreeMap<>();
    for (TestCase tc : run.cases()) {
      boolean counted = false;
      for (Class<?> category : categories.of(tc.className(), tc.method())) {
        if (category == ValidatesRunner.class || category == NeedsRunner.class) {
          continue;
        }
        rows.computeIfAbsent(category.getName().substring(category.getPackageName().length() + 1), k -> new Counts())
            .add(tc.outcome());
        counted = true;
      }
      if (!counted) {
        rows.computeIfAbsent(NO_OTHER_CATEGORY, k -> new Counts()).add(tc.outcome());
      }
    }
    return rows;
  }

  private Map<String, Counts> byClass(SurefireResults run) {
    Map<String, Counts> rows = new TreeMap<>();
    for (TestCase tc : run.cases()) {
      rows.computeIfAbsent(shortName(tc.className()), k -> new Counts()).add(tc.outcome());
    }
    return rows;
  }

  private void appendFailures(StringBuilder md) {
    md.append("\n### Failures\n\n");
    boolean any = false;
    for (SurefireResults run : runs) {
      List<TestCase> failed = run.cases().stream().filter(c -> c.outcome() == Outcome.FAILED).toList();
      if (failed.isEmpty()) {
        continue;
      }
      any = true;
      md.append("**").append(run.name()).append("** (").append(failed.size()).append(")\n\n");
      for (TestCase tc : failed) {
        md.append("- `").append(shortName(tc.className())).append('#').append(tc.method()).append("`: ")
            .append(tc.message().replace("|", "\\|").replace("`", "'")).append('\n');
      }
      md.append('\n');
    }
    if (!any) {
      md.append("None.\n");
    }
  }

  private SurefireResults find(String name) {
    return runs.stream().filter(r -> r.name().equals(name)).findFirst().orElse(null);
  }

  private static Map<String, Outcome> outcomes(SurefireResults run) {
    Map<String, Outcome> map = new TreeMap<>();
    run.cases().forEach(c -> map.put(c.id(), c.outcome()));
    return map;
  }

  private static long count(Map<String, Outcome> outcomes, Outcome outcome) {
    return outcomes.values().stream().filter(o -> o == outcome).count();
  }

  static String shortName(String className) {
    return className.startsWith("org.apache.beam.") ? className.substring("org.apache.beam.".length()) : className;
  }

  static String minutes(Duration d) {
    long seconds = d.getSeconds();
    return String.format("%d min %02d s", seconds / 60, seconds % 60);
  }
}
