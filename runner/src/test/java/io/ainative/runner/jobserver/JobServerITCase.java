package io.ainative.runner.jobserver;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import io.ainative.runner.CoveragePipeline;
import io.ainative.runner.UnsupportedPrimitive;
import java.util.List;
import org.apache.beam.runners.portability.PortableRunner;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.options.PortablePipelineOptions;
import org.apache.beam.sdk.transforms.Create;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * Java pipelines submitted through ainative's job server with Beam's own {@link PortableRunner}
 * (the job API a Python pipeline uses), executed by the Java SDK harness in the server's JVM.
 */
public class JobServerITCase {

  private static AiNativeJobServer server;
  private static String endpoint;

  @BeforeClass
  public static void startServer() throws Exception {
    server = AiNativeJobServer.fromArgs("--job-port=0", "--artifact-port=0", "--expansion-port=-1");
    endpoint = server.start();
  }

  @AfterClass
  public static void stopServer() {
    if (server != null) {
      server.stop();
    }
  }

  private static Pipeline pipeline() {
    PortablePipelineOptions options = PipelineOptionsFactory.create().as(PortablePipelineOptions.class);
    options.setRunner(PortableRunner.class);
    options.setJobEndpoint(endpoint);
    options.setDefaultEnvironmentType("EMBEDDED");
    // The server runs in this JVM and has these classes; nothing to stage.
    options.setFilesToStage(List.of());
    return Pipeline.create(options);
  }

  @Test
  public void byDefault_theJobApiListensOnLoopbackOnly() throws Exception {
    int port = Integer.parseInt(endpoint.substring(endpoint.lastIndexOf(':') + 1));
    try (java.net.Socket local = new java.net.Socket()) {
      local.connect(new java.net.InetSocketAddress("localhost", port), 2000);
    }
    java.util.Optional<java.net.InetAddress> other = java.util.Optional.empty();
    for (java.net.NetworkInterface nic : java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces())) {
      for (java.net.InetAddress address : java.util.Collections.list(nic.getInetAddresses())) {
        if (nic.isUp() && !address.isLoopbackAddress() && address instanceof java.net.Inet4Address) {
          other = java.util.Optional.of(address);
        }
      }
    }
    org.junit.Assume.assumeTrue("this machine has a non-loopback IPv4 address to try", other.isPresent());
    try (java.net.Socket remote = new java.net.Socket()) {
      remote.connect(new java.net.InetSocketAddress(other.get(), port), 2000);
      throw new AssertionError("the job server accepted a connection on " + other.get() + ":" + port);
    } catch (java.io.IOException refused) {
      // nothing listens there
    }
  }

  @Test
  public void pipelineThroughTheJobApi_runsItsAssertionsAndReportsMetrics() {
    Pipeline p = pipeline();
    CoveragePipeline.apply(p);
    PipelineResult result = p.run();
    assertThat(result.waitUntilFinish(), is(PipelineResult.State.DONE));
    assertThat(CoveragePipeline.countOf(result, "words"), equalTo(8L));
  }

  @Test
  public void unsupportedTransform_failsTheJob_withAMessageNamingIt() {
    Pipeline p = pipeline();
    p.apply(Create.of("x")).apply("MyOddStep", new UnsupportedPrimitive());
    PipelineResult result = p.run();
    RuntimeException e = org.junit.Assert.assertThrows(RuntimeException.class, result::waitUntilFinish);
    assertThat(
        e.getMessage(),
        org.hamcrest.Matchers.containsString("transform 'MyOddStep' has URN '" + UnsupportedPrimitive.URN + "'"));
    assertThat(result.getState(), is(PipelineResult.State.FAILED));
  }

  @Test
  public void cancelThroughTheJobApi_cancelsTheFlinkJob() throws Exception {
    Pipeline p = pipeline();
    p.apply(org.apache.beam.sdk.io.GenerateSequence.from(0).withRate(10, org.joda.time.Duration.standardSeconds(1)));
    PipelineResult result = p.run();
    assertThat(result.waitUntilFinish(org.joda.time.Duration.standardSeconds(3)), org.hamcrest.Matchers.nullValue());
    long started = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
    while (flinkTaskThreadsOf("GenerateSequence") == 0 && System.nanoTime() < started) {
      Thread.sleep(100);
    }
    assertThat("the Flink tasks run in this JVM", flinkTaskThreadsOf("GenerateSequence") > 0, is(true));
    result.cancel();
    assertThat(result.waitUntilFinish(org.joda.time.Duration.standardSeconds(60)), is(PipelineResult.State.CANCELLED));
    // The job service reports CANCELLED at once; the Flink job itself must end too, or its tasks
    // would keep running (and holding memory) inside the job server.
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
    while (flinkTaskThreadsOf("GenerateSequence") > 0 && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    assertThat(flinkTaskThreadsOf("GenerateSequence"), equalTo(0L));
  }

  private static long flinkTaskThreadsOf(String stepName) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && t.getName().contains(stepName))
        .count();
  }

  @Test
  public void badFlag_isRefusedNamingIt() {
    IllegalArgumentException e =
        org.junit.Assert.assertThrows(IllegalArgumentException.class, () -> AiNativeJobServer.fromArgs("--job-port=many"));
    assertThat(e.getMessage().contains("--job-port"), is(true));
  }
}
