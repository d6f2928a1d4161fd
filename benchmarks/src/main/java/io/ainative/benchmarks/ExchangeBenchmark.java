package io.ainative.benchmarks;

import io.ainative.multimodal.coders.ImageCoder;
import io.ainative.multimodal.store.LocalObjectStore;
import io.ainative.multimodal.store.OffloadPolicy;
import io.ainative.multimodal.store.Payload;
import io.ainative.multimodal.store.PayloadCoder;
import io.ainative.multimodal.types.Image;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * A 1 MiB image passing through a 4-step pipeline: at each of the {@value #STEPS} exchanges the
 * element is encoded and decoded (what a runner does between fused stages or across the network).
 * Inline, the image bytes are serialized at every exchange; by reference, they are written once to
 * the object store and only the reference crosses the exchanges, and the last step resolves it.
 * {@link ExchangeBytesReport} counts the bytes of the same two paths.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xmx2g", "--add-opens=java.base/java.nio=ALL-UNNAMED"})
public class ExchangeBenchmark {
  static final int STEPS = 4;

  private final PayloadCoder<Image> coder = PayloadCoder.of(ImageCoder.of());
  private final ReusableOutput out = new ReusableOutput();
  private Image image;
  private LocalObjectStore store;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    image = Payloads.image(7);
    store = LocalObjectStore.builder().setJobId("bench").build();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    store.close();
  }

  @Benchmark
  public Image inline() throws IOException {
    Payload<Image> p = Payload.inline(image);
    for (int step = 0; step < STEPS; step++) {
      out.reset();
      coder.encode(p, out);
      p = coder.decode(out.asInput());
    }
    return p.inlineValue();
  }

  @Benchmark
  public Image byReference() throws IOException {
    Payload<Image> p = OffloadPolicy.defaults().withThresholdBytes(0).apply(image, ImageCoder.of(), store);
    for (int step = 0; step < STEPS; step++) {
      out.reset();
      coder.encode(p, out);
      p = coder.decode(out.asInput());
    }
    Image resolved = p.resolve(store, ImageCoder.of());
    store.deleteJob(); // so the next operation writes again instead of finding the content
    return resolved;
  }
}
