package io.ainative.multimodal.arrow;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.junit.Assert.assertThrows;

import io.ainative.multimodal.schemas.ImageType;
import io.ainative.multimodal.schemas.TensorType;
import io.ainative.multimodal.testing.TestImages;
import io.ainative.multimodal.testing.TestRows;
import io.ainative.multimodal.types.DType;
import io.ainative.multimodal.types.Image;
import io.ainative.multimodal.types.ImageFormat;
import io.ainative.multimodal.types.Tensor;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.values.Row;
import org.junit.Test;

public class RecyclingRootAllocatorTest {
  private static final long MIB = 1 << 20;

  @Test
  public void freedLargeBlock_isReusedForTheNextRequestOfItsSizeClass() {
    try (RecyclingRootAllocator allocator = new RecyclingRootAllocator()) {
      try (ArrowBuf first = allocator.buffer(3 * MIB + 5)) {
        assertThat(allocator.getAllocatedMemory(), equalTo(first.capacity()));
        assertThat(allocator.retainedBytes(), equalTo(0L));
      }
      assertThat(allocator.getAllocatedMemory(), equalTo(0L));
      long retained = allocator.retainedBytes();
      assertThat(retained, greaterThanOrEqualTo(3 * MIB + 5));
      try (ArrowBuf second = allocator.buffer(3 * MIB + 100)) {
        assertThat(allocator.reusedBlocks(), equalTo(1L));
        assertThat(allocator.retainedBytes(), equalTo(0L));
        // the whole requested range is usable
        second.setByte(second.capacity() - 1, 7);
        assertThat(second.getByte(second.capacity() - 1), equalTo((byte) 7));
      }
    }
  }

  @Test
  public void smallRequests_areNotPooled() {
    try (RecyclingRootAllocator allocator = new RecyclingRootAllocator()) {
      allocator.buffer(4096).close();
      allocator.buffer(4096).close();
      assertThat(allocator.retainedBytes(), equalTo(0L));
      assertThat(allocator.reusedBlocks(), equalTo(0L));
    }
  }

  @Test
  public void retainedMemory_staysWithinItsBound_leastRecentlyFreedGoesFirst() {
    try (RecyclingRootAllocator allocator = new RecyclingRootAllocator(Long.MAX_VALUE, 12 * MIB)) {
      List<ArrowBuf> held = new ArrayList<>();
      for (long size : new long[] {1 * MIB, 2 * MIB, 4 * MIB, 8 * MIB}) {
        held.add(allocator.buffer(size));
      }
      for (ArrowBuf b : held) {
        b.close();
        assertThat(allocator.retainedBytes(), lessThanOrEqualTo(12 * MIB));
      }
      // freeing the 8 MiB block gave back the 1 and 2 MiB blocks (freed before it) to make room
      assertThat(allocator.retainedBytes(), equalTo(12 * MIB));
      allocator.buffer(4 * MIB).close();
      assertThat(allocator.reusedBlocks(), equalTo(1L));
      allocator.buffer(1 * MIB).close();
      assertThat(allocator.reusedBlocks(), equalTo(1L));
    }
  }

  @Test
  public void zeroRetention_keepsNothing() {
    try (RecyclingRootAllocator allocator = new RecyclingRootAllocator(Long.MAX_VALUE, 0)) {
      allocator.buffer(2 * MIB).close();
      allocator.buffer(2 * MIB).close();
      assertThat(allocator.retainedBytes(), equalTo(0L));
      assertThat(allocator.reusedBlocks(), equalTo(0L));
    }
  }

  @Test
  public void sizeClasses_areAtMostOneEighthLarger() {
    for (long size : new long[] {256 << 10, 1_052_761, 4_816_896, 33_688_352, 1L << 30}) {
      long c = BlockPool.sizeClass(size);
      assertThat(c, greaterThanOrEqualTo(size));
      assertThat((double) c, lessThanOrEqualTo(size * 1.125));
    }
    assertThat(BlockPool.sizeClass(33_688_192), equalTo(BlockPool.sizeClass(33_688_352)));
  }

  @Test
  public void leakedBuffer_isStillReportedOnClose() {
    RecyclingRootAllocator allocator = new RecyclingRootAllocator();
    ArrowBuf leaked = allocator.buffer(2 * MIB);
    IllegalStateException e = assertThrows(IllegalStateException.class, allocator::close);
    assertThat(e.getMessage(), containsString("Memory leaked"));
    assertThat(leaked.capacity(), equalTo(2 * MIB));
  }

  /**
   * Recycled blocks are not zeroed: batches of different sizes, contents and nulls are encoded and
   * decoded one after another on reused memory, and each decodes to exactly its own rows.
   */
  @Test
  public void batchesOnRecycledMemory_decodeToTheirOwnRows() throws IOException {
    Schema schema =
        Schema.builder()
            .addLogicalTypeField("t", TensorType.fixed(DType.UINT8, 64, 64, 3))
            .addNullableField("ragged", FieldType.logicalType(TensorType.any()))
            .addLogicalTypeField("image", new ImageType())
            .addNullableField("raw", FieldType.BYTES)
            .build();
    Image[] images = {
      Image.encode(TestImages.pattern(200, 180, 3, 1), ImageFormat.PNG),
      Image.encode(TestImages.pattern(90, 60, 4, 2), ImageFormat.PNG),
    };
    SplittableRandom random = new SplittableRandom(42);
    try (RecyclingRootAllocator allocator = new RecyclingRootAllocator()) {
      for (int b = 0; b < 40; b++) {
        int n = 8 + random.nextInt(40);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          byte[] px = new byte[64 * 64 * 3];
          random.nextBytes(px);
          int len = random.nextInt(5000);
          byte[] raw = new byte[len];
          random.nextBytes(raw);
          rows.add(
              Row.withSchema(schema)
                  .addValues(
                      Tensor.of(DType.UINT8, new long[] {64, 64, 3}, px),
                      random.nextInt(3) == 0 ? null : Tensor.ofInts(new long[] {len % 7}, new int[len % 7]),
                      images[random.nextInt(images.length)],
                      random.nextInt(4) == 0 ? null : raw)
                  .build());
        }
        byte[] bytes = ArrowBatchCodec.encodeRows(schema, rows, allocator);
        try (ArrowBatch batch = ArrowBatchCodec.decode(bytes, allocator)) {
          assertThat("batch " + b, batch.toRows(schema), equalTo(rows));
        }
        assertThat(allocator.getAllocatedMemory(), equalTo(0L));
      }
      assertThat("no block was recycled", allocator.reusedBlocks(), greaterThan(0L));
    }
  }

  @Test
  public void rowsWithEveryFieldKind_roundTrip_onRecycledMemory() throws IOException {
    try (RecyclingRootAllocator allocator = new RecyclingRootAllocator()) {
      for (int b = 0; b < 3; b++) {
        List<Row> rows = TestRows.rows(400 + b);
        byte[] bytes = ArrowBatchCodec.encodeRows(TestRows.SCHEMA, rows, allocator);
        assertThat(ArrowBatchCodec.decodeRows(bytes, allocator), equalTo(rows));
      }
      assertThat(allocator.reusedBlocks(), greaterThan(0L));
    }
  }
}
