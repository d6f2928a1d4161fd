package io.ainative.benchmarks;

import io.ainative.multimodal.arrow.ArrowBatch;
import io.ainative.multimodal.arrow.ArrowBatchCodec;
import io.ainative.multimodal.arrow.RecyclingRootAllocator;
import io.ainative.multimodal.coders.EmbeddingCoder;
import io.ainative.multimodal.coders.ImageCoder;
import io.ainative.multimodal.coders.TensorCoder;
import io.ainative.multimodal.schemas.EmbeddingType;
import io.ainative.multimodal.schemas.ImageType;
import io.ainative.multimodal.schemas.TensorType;
import io.ainative.multimodal.types.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Encode + decode of one element (one operation = one element, also for the Arrow batch, which
 * moves {@value #BATCH} elements per invocation). Single-threaded, so the numbers are per core.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xmx2g", "--add-opens=java.base/java.nio=ALL-UNNAMED"})
public class CoderThroughputBenchmark {
  static final int BATCH = 32;

  @Param({Payloads.TENSOR, Payloads.IMAGE, Payloads.EMBEDDING})
  public String payload;

  private Object value;
  private Coder<Object> ainativeCoder;
  private final Coder<Baselines.Holder> serializableCoder =
      SerializableCoder.of(Baselines.Holder.class);
  private final RowCoder rowCoder = RowCoder.of(Baselines.ROW_SCHEMA);
  private Baselines.Holder holder;
  private Row row;
  private Schema batchSchema;
  private List<Row> batchRows;
  private BufferAllocator allocator;
  private BufferAllocator plainAllocator;
  private byte[] raw;
  private final ReusableOutput out = new ReusableOutput();

  @Setup(Level.Trial)
  @SuppressWarnings("unchecked")
  public void setUp() {
    Schema.FieldType arrowField;
    switch (payload) {
      case Payloads.TENSOR:
        value = Payloads.tensor(1);
        ainativeCoder = (Coder<Object>) (Coder<?>) TensorCoder.of();
        arrowField = Schema.FieldType.logicalType(TensorType.fixed(DType.UINT8, 224, 224, 3));
        break;
      case Payloads.IMAGE:
        value = Payloads.image(1);
        ainativeCoder = (Coder<Object>) (Coder<?>) ImageCoder.of();
        arrowField = Schema.FieldType.logicalType(new ImageType());
        break;
      default:
        value = Payloads.embedding(1);
        ainativeCoder = (Coder<Object>) (Coder<?>) EmbeddingCoder.of();
        arrowField = Schema.FieldType.logicalType(EmbeddingType.of(4096));
    }
    holder = Baselines.holder(value);
    row = Baselines.row(value);
    raw = (byte[]) row.getValue("data");
    batchSchema = Schema.builder().addField("x", arrowField).build();
    batchRows = new ArrayList<>();
    for (int i = 0; i < BATCH; i++) {
      batchRows.add(Row.withSchema(batchSchema).addValue(value).build());
    }
    allocator = new RecyclingRootAllocator();
    plainAllocator = new RootAllocator();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    allocator.close();
    plainAllocator.close();
  }

  private <T> T roundTrip(Coder<T> coder, T v) throws Exception {
    out.reset();
    coder.encode(v, out);
    return coder.decode(out.asInput());
  }

  @Benchmark
  public Object ainativeCoder() throws Exception {
    return roundTrip(ainativeCoder, value);
  }

  @Benchmark
  public Object serializableCoder() throws Exception {
    return roundTrip(serializableCoder, holder);
  }

  @Benchmark
  public Object rowCoderBytesField() throws Exception {
    return roundTrip(rowCoder, row);
  }

  /**
   * Rows -> Arrow -> IPC bytes -> Arrow -> rows, for a batch of {@value #BATCH} elements, with the
   * {@link RecyclingRootAllocator} that a loop of batches should use.
   */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public void arrowBatchCodec(Blackhole bh) throws Exception {
    arrowRoundTrip(allocator, bh);
  }

  /**
   * The same with a plain {@link RootAllocator}: every buffer comes from {@code malloc} and goes
   * back on release (multi-MiB ones as fresh memory mappings).
   */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public void arrowBatchCodecPlainAllocator(Blackhole bh) throws Exception {
    arrowRoundTrip(plainAllocator, bh);
  }

  private void arrowRoundTrip(BufferAllocator a, Blackhole bh) throws Exception {
    byte[] bytes = ArrowBatchCodec.encodeRows(batchSchema, batchRows, a);
    try (ArrowBatch batch = ArrowBatchCodec.decode(bytes, a)) {
      bh.consume(batch.toRows(batchSchema));
    }
  }

  /** The floor: copy the payload bytes out and back into a new array (two memory copies). */
  @Benchmark
  public byte[] memcpyFloor() {
    out.reset();
    out.write(raw, 0, raw.length);
    byte[] back = new byte[out.size()];
    System.arraycopy(out.buffer(), 0, back, 0, back.length);
    return back;
  }
}
