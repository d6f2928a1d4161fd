package io.ainative.validatesrunner;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.SAXException;

/**
 * The test results of one Surefire run, read from the {@code TEST-*.xml} files of its reports
 * directory.
 */
final class SurefireResults {

  enum Outcome {
    PASSED,
    FAILED,
    SKIPPED
  }

  /** One test case. {@code message} is the failure's or skip's first line, or empty. */
  record TestCase(String className, String method, Outcome outcome, String message, double seconds) {
    String id() {
      return className + "#" + method;
    }
  }

  /**
   * One test class's report. {@code ended} is when its report was written (Surefire 3.2's XML has
   * no timestamp of its own).
   */
  record Suite(String className, Instant ended, double seconds, List<TestCase> cases) {}

  private final String name;
  private final List<Suite> suites;

  private SurefireResults(String name, List<Suite> suites) {
    this.name = name;
    this.suites = Collections.unmodifiableList(suites);
  }

  /** Reads every {@code TEST-*.xml} in {@code dir}; the run is named after the directory. */
  static SurefireResults read(Path dir) {
    List<Suite> suites = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "TEST-*.xml")) {
      DocumentBuilder parser = DocumentBuilderFactory.newInstance().newDocumentBuilder();
      for (Path file : files) {
        suites.add(parseSuite(parser, file));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Reading the reports in " + dir + " failed", e);
    } catch (ParserConfigurationException e) {
      throw new IllegalStateException(e);
    }
    suites.sort((a, b) -> a.className().compareTo(b.className()));
    return new SurefireResults(dir.getFileName().toString(), suites);
  }

  private static Suite parseSuite(DocumentBuilder parser, Path file) throws IOException {
    Document doc;
    try {
      doc = parser.parse(file.toFile());
    } catch (SAXException e) {
      throw new IllegalArgumentException("Not a Surefire XML report: " + file + " (" + e.getMessage() + ")", e);
    }
    Element root = doc.getDocumentElement();
    List<TestCase> cases = new ArrayList<>();
    NodeList testcases = root.getElementsByTagName("testcase");
    for (int i = 0; i < testcases.getLength(); i++) {
      Element tc = (Element) testcases.item(i);
      Outcome outcome = Outcome.PASSED;
      String message = "";
      for (Node child = tc.getFirstChild(); child != null; child = child.getNextSibling()) {
        if (!(child instanceof Element)) {
          continue;
        }
        String tag = ((Element) child).getTagName();
        if (tag.equals("failure") || tag.equals("error")) {
          outcome = Outcome.FAILED;
          message = firstLine((Element) child);
          break;
        }
        if (tag.equals("skipped")) {
          outcome = Outcome.SKIPPED;
          message = firstLine((Element) child);
        }
      }
      cases.add(new TestCase(tc.getAttribute("classname"), tc.getAttribute("name"), outcome, message, seconds(tc)));
    }
    Instant ended = Files.getLastModifiedTime(file).toInstant();
    return new Suite(root.getAttribute("name"), ended, seconds(root), cases);
  }

  private static String firstLine(Element problem) {
    String text = problem.getAttribute("message");
    if (text.isBlank()) {
      text = problem.getAttribute("type");
    }
    if (text.isBlank()) {
      text = problem.getTextContent() == null ? "" : problem.getTextContent().strip();
    }
    // Hamcrest's messages start with a line break ("\nExpected: ...").
    text = text.strip();
    int newline = text.indexOf('\n');
    String line = (newline >= 0 ? text.substring(0, newline) : text).strip();
    return line.length() > 240 ? line.substring(0, 237) + "..." : line;
  }

  private static double seconds(Element element) {
    String time = element.getAttribute("time").replace(",", "");
    return time.isEmpty() ? 0 : Double.parseDouble(time);
  }

  String name() {
    return name;
  }

  List<Suite> suites() {
    return suites;
  }

  List<TestCase> cases() {
    List<TestCase> all = new ArrayList<>();
    suites.forEach(s -> all.addAll(s.cases()));
    return all;
  }

  long count(Outcome outcome) {
    return cases().stream().filter(c -> c.outcome() == outcome).count();
  }

  /**
   * From the start of the first test class to the end of the last: the JVM starts between classes
   * are included, the first one's and Maven's are not. {@link Duration#ZERO} without reports.
   */
  Duration wallTime() {
    Instant first = null;
    Instant last = null;
    for (Suite suite : suites) {
      Instant start = suite.ended().minusMillis((long) (suite.seconds() * 1000));
      first = first == null || start.isBefore(first) ? start : first;
      last = last == null || suite.ended().isAfter(last) ? suite.ended() : last;
    }
    return first == null ? Duration.ZERO : Duration.between(first, last);
  }
}
