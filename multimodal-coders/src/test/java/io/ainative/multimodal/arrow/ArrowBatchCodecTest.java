package io.ainative.multimodal.arrow;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.Assert.assertThrows;

import io.ainative.multimodal.schemas.TensorType;
import io.ainative.multimodal.testing.TestRows;
import io.ainative.multimodal.types.DType;
import io.ainative.multimodal.types.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

public class ArrowBatchCodecTest {
  private BufferAllocator allocator;

  @Before
  public void setUp() {
    allocator = new RootAllocator();
  }

  @After
  public void tearDown() {
    assertThat("Arrow memory leaked", allocator.getAllocatedMemory(), equalTo(0L));
    allocator.close(); // throws IllegalStateException on outstanding buffers
  }

  @Test
  public void rowsRoundTripThroughIpcBytes_withSchemaFromTheStream() throws IOException {
    List<Row> rows = TestRows.rows(5);
    byte[] bytes = ArrowBatchCodec.encodeRows(TestRows.SCHEMA, rows, allocator);
    try (ArrowBatch batch = ArrowBatchCodec.decode(bytes, allocator)) {
      assertThat(batch.rowCount(), equalTo(5));
      assertThat(batch.beamSchema(), equalTo(TestRows.SCHEMA));
      assertThat(batch.toRows(), equalTo(rows));
    }
  }

  @Test
  public void manyBatches_encodeAndDecode_leaveNoArrowMemoryAllocated() throws IOException {
    Schema schema =
        Schema.builder().addLogicalTypeField("t", TensorType.fixed(DType.UINT8, 16, 16, 3)).build();
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      byte[] px = new byte[16 * 16 * 3];
      Arrays.fill(px, (byte) i);
      rows.add(Row.withSchema(schema).addValue(Tensor.of(DType.UINT8, new long[] {16, 16, 3}, px)).build());
    }
    long peak = 0;
    for (int b = 0; b < 500; b++) {
      try (BufferAllocator child = allocator.newChildAllocator("batch-" + b, 0, Long.MAX_VALUE)) {
        byte[] bytes = ArrowBatchCodec.encodeRows(schema, rows, child);
        assertThat(child.getAllocatedMemory(), equalTo(0L));
        try (ArrowBatch batch = ArrowBatchCodec.decode(bytes, child)) {
          peak = Math.max(peak, child.getAllocatedMemory());
          assertThat(batch.toRows(schema), equalTo(rows));
        }
        assertThat(child.getAllocatedMemory(), equalTo(0L));
      }
      rows.set(0, rows.get(b % rows.size()));
    }
    assertThat("batches did allocate", peak > 0, equalTo(true));
  }

  @Test
  public void decode_ofCorruptBytes_failsCleanlyWithoutLeaking() throws IOException {
    byte[] bytes = ArrowBatchCodec.encodeRows(TestRows.SCHEMA, TestRows.rows(3), allocator);
    byte[] cut = Arrays.copyOf(bytes, bytes.length / 2);
    assertThrows(IOException.class, () -> ArrowBatchCodec.decode(cut, allocator).close());
    assertThrows(IOException.class, () -> ArrowBatchCodec.decode(new byte[] {1, 2, 3}, allocator));
  }

  @Test
  public void decode_rejectsUnknownBatchVersion() throws IOException {
    byte[] bytes = streamOf(Map.of(ArrowSchemas.BATCH_VERSION_KEY, "7"), 1);
    IOException e =
        assertThrows(IOException.class, () -> ArrowBatchCodec.decode(bytes, allocator));
    assertThat(e.getMessage(), containsString("unknown ainative Arrow batch version '7'"));
  }

  @Test
  public void decode_rejectsStreamWithTwoBatches() throws IOException {
    byte[] bytes = streamOf(Map.of(), 2);
    IOException e =
        assertThrows(IOException.class, () -> ArrowBatchCodec.decode(bytes, allocator));
    assertThat(e.getMessage(), containsString("more than one record batch"));
  }

  @Test
  public void decode_acceptsStreamFromAnotherProducer_withoutVersionKey() throws IOException {
    try (ArrowBatch batch = ArrowBatchCodec.decode(streamOf(Map.of(), 1), allocator)) {
      assertThat(batch.toRows().get(0).getInt32("x"), equalTo(41));
    }
  }

  /** A hand-made stream of {@code batches} one-row int32 batches. */
  private byte[] streamOf(Map<String, String> metadata, int batches) throws IOException {
    org.apache.arrow.vector.types.pojo.Schema schema =
        new org.apache.arrow.vector.types.pojo.Schema(
            List.of(new Field("x", FieldType.notNullable(new ArrowType.Int(32, true)), null)),
            metadata);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (VectorSchemaRoot root = VectorSchemaRoot.create(schema, allocator);
        ArrowStreamWriter writer = new ArrowStreamWriter(root, null, Channels.newChannel(out))) {
      writer.start();
      for (int b = 0; b < batches; b++) {
        IntVector x = (IntVector) root.getVector("x");
        x.allocateNew(1);
        x.set(0, 41 + b);
        root.setRowCount(1);
        writer.writeBatch();
      }
      writer.end();
    }
    return out.toByteArray();
  }
}
