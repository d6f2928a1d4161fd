package io.ainative.benchmarks;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;

/**
 * Runs the JMH benchmarks (accepts JMH's command-line options) and then prints the summary
 * tables of {@code benchmarks/README.md}: coder throughput in MB/s per core with the ratio to
 * SerializableCoder, and the exchange byte counts.
 */
public final class BenchmarkMain {
  private BenchmarkMain() {}

  public static void main(String[] args) throws Exception {
    Collection<RunResult> results = new Runner(new CommandLineOptions(args)).run();
    printThroughput(results);
    ExchangeBytesReport.print(System.out);
  }

  private static void printThroughput(Collection<RunResult> results) {
    Map<String, Long> payloadBytes = new HashMap<>();
    Map<String, Double> serializable = new HashMap<>();
    List<String[]> rows = new ArrayList<>();
    for (RunResult r : results) {
      String bench = r.getParams().getBenchmark();
      String method = bench.substring(bench.lastIndexOf('.') + 1);
      String payload = r.getParams().getParam("payload");
      double ops = r.getPrimaryResult().getScore();
      if (payload == null) {
        rows.add(new String[] {method, "-", fmt(ops), "-", "-"});
        continue;
      }
      long bytes = payloadBytes.computeIfAbsent(payload, Payloads::payloadBytes);
      if (method.equals("serializableCoder")) {
        serializable.put(payload, ops);
      }
      rows.add(new String[] {method, payload, fmt(ops), fmt(ops * bytes / 1e6), null});
    }
    System.out.printf("%n| benchmark | payload | elements/s | MB/s | vs SerializableCoder |%n");
    System.out.printf("| --- | --- | ---: | ---: | ---: |%n");
    for (String[] row : rows) {
      String ratio = row[4];
      if (ratio == null) {
        Double base = serializable.get(row[1]);
        ratio = base == null ? "-" : String.format("%.1fx", Double.parseDouble(row[2].replace(",", "")) / base);
      }
      System.out.printf("| %s | %s | %s | %s | %s |%n", row[0], row[1], row[2], row[3], ratio);
    }
  }

  private static String fmt(double v) {
    return String.format("%,.0f", v);
  }
}
