package io.ainative.multimodal.arrow;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.Assert.assertThrows;

import io.ainative.multimodal.schemas.ImageType;
import io.ainative.multimodal.schemas.ObjectRefType;
import io.ainative.multimodal.schemas.TensorType;
import io.ainative.multimodal.testing.TestImages;
import io.ainative.multimodal.types.DType;
import io.ainative.multimodal.types.Image;
import io.ainative.multimodal.types.ImageFormat;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorLoader;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.values.Row;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Batches that another producer wrote (e.g. pyarrow) carrying bad values in ainative columns: the
 * receiving side fails naming the row and field, never returning a wrong value, and frees all
 * Arrow memory. The bad batches are made by writing the base rows (anything goes there) and
 * tagging the columns with the logical types, which have the same Arrow layout.
 */
public class ArrowBadInputTest {
  private BufferAllocator allocator;

  @Before
  public void setUp() {
    allocator = new RootAllocator();
  }

  @After
  public void tearDown() {
    assertThat("Arrow memory leaked", allocator.getAllocatedMemory(), equalTo(0L));
    allocator.close();
  }

  /** Writes {@code baseRows} with the base layout, sends them as a batch tagged with the logical type. */
  private byte[] taggedBatch(String field, Schema.LogicalType<?, ?> logical, List<Row> baseRows)
      throws IOException {
    Schema base = Schema.builder().addField(field, logical.getBaseType()).build();
    Schema tagged = Schema.builder().addLogicalTypeField(field, logical).build();
    List<Row> rows = new ArrayList<>();
    for (Row r : baseRows) {
      rows.add(Row.withSchema(base).addValue(r).build());
    }
    try (VectorSchemaRoot written = ArrowRows.toArrow(base, rows, allocator);
        VectorSchemaRoot root = VectorSchemaRoot.create(ArrowSchemas.toArrow(tagged), allocator);
        ArrowRecordBatch batch = new VectorUnloader(written).getRecordBatch()) {
      new VectorLoader(root).load(batch);
      return ArrowBatchCodec.encode(root);
    }
  }

  private IllegalArgumentException decodeFails(byte[] batch) {
    return assertThrows(
        IllegalArgumentException.class, () -> ArrowBatchCodec.decodeRows(batch, allocator));
  }

  private static Row tensorBase(String dtype, List<Long> shape, int dataBytes) {
    return Row.withSchema(TensorType.BASE_SCHEMA).addValues(dtype, shape, new byte[dataBytes]).build();
  }

  @Test
  public void truncatedImage_inABatch_failsNamingRowAndField() throws IOException {
    byte[] png = Image.encode(TestImages.pattern(16, 16, 3, 1), ImageFormat.PNG).toByteArray();
    List<Row> rows =
        List.of(
            Row.withSchema(ImageType.BASE_SCHEMA).addValues("png", png).build(),
            Row.withSchema(ImageType.BASE_SCHEMA)
                .addValues("png", Arrays.copyOf(png, png.length - 9))
                .build());
    IllegalArgumentException e = decodeFails(taggedBatch("photo", new ImageType(), rows));
    assertThat(e.getMessage(), containsString("row 1, field 'photo'"));
    assertThat(e.getMessage(), containsString("invalid png image"));
    assertThat(e.getMessage(), containsString("truncated"));
  }

  @Test
  public void imageOfUnknownFormat_inABatch_failsNamingIt() throws IOException {
    List<Row> rows = List.of(Row.withSchema(ImageType.BASE_SCHEMA).addValues("webp", new byte[40]).build());
    IllegalArgumentException e = decodeFails(taggedBatch("photo", new ImageType(), rows));
    assertThat(e.getMessage(), containsString("row 0, field 'photo'"));
    assertThat(e.getMessage(), containsString("image.format: unknown image format 'webp'"));
  }

  @Test
  public void tensorWhoseDataDoesNotMatchShapeTimesDtype_failsNamingRowFieldAndSizes()
      throws IOException {
    List<Row> rows =
        List.of(tensorBase("int32", List.of(2L, 3L), 24), tensorBase("int32", List.of(2L, 3L), 20));
    IllegalArgumentException e = decodeFails(taggedBatch("x", TensorType.any(), rows));
    assertThat(e.getMessage(), containsString("row 1, field 'x'"));
    assertThat(e.getMessage(), containsString("20 bytes but shape [2, 3] of int32 needs 24"));
  }

  @Test
  public void tensorWithNegativeDimension_failsNamingTheDimension() throws IOException {
    IllegalArgumentException e =
        decodeFails(taggedBatch("x", TensorType.any(), List.of(tensorBase("uint8", List.of(4L, -2L), 0))));
    assertThat(e.getMessage(), containsString("row 0, field 'x'"));
    assertThat(e.getMessage(), containsString("shape[1] = -2 is negative"));
  }

  @Test
  public void tensorWhoseShapeOverflows_failsBeforeAllocating() throws IOException {
    List<Long> huge = List.of(1L << 31, 1L << 31, 1L << 31);
    IllegalArgumentException e =
        decodeFails(taggedBatch("x", TensorType.any(), List.of(tensorBase("float64", huge, 8))));
    assertThat(e.getMessage(), containsString("row 0, field 'x'"));
    assertThat(e.getMessage(), containsString("overflows"));
  }

  @Test
  public void tensorOfUnknownDtype_failsNamingIt() throws IOException {
    IllegalArgumentException e =
        decodeFails(taggedBatch("x", TensorType.any(), List.of(tensorBase("complex64", List.of(1L), 8))));
    assertThat(e.getMessage(), containsString("row 0, field 'x'"));
    assertThat(e.getMessage(), containsString("unknown tensor dtype 'complex64'"));
  }

  @Test
  public void tensorThatDoesNotMatchAFixedColumnType_failsNamingIt() throws IOException {
    // a ragged-layout column tagged float32[2] (another producer's choice) holding an int32 [2]
    TensorType fixed = TensorType.fixed(DType.FLOAT32, 2);
    Schema base = Schema.builder().addRowField("x", TensorType.BASE_SCHEMA).build();
    Schema tagged =
        Schema.builder().addField("x", FieldType.logicalType(TensorType.any())).build();
    List<Row> rows =
        List.of(Row.withSchema(base).addValue(tensorBase("int32", List.of(2L), 8)).build());
    byte[] bytes;
    try (VectorSchemaRoot written = ArrowRows.toArrow(base, rows, allocator);
        VectorSchemaRoot root = VectorSchemaRoot.create(ArrowSchemas.toArrow(tagged), allocator);
        ArrowRecordBatch batch = new VectorUnloader(written).getRecordBatch()) {
      new VectorLoader(root).load(batch);
      bytes = ArrowBatchCodec.encode(root);
    }
    Schema readAs = Schema.builder().addLogicalTypeField("x", fixed).build();
    try (ArrowBatch batch = ArrowBatchCodec.decode(bytes, allocator)) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> batch.toRows(readAs));
      assertThat(e.getMessage(), containsString("field 'x'"));
    }
  }

  @Test
  public void objectRefWithAShortDigest_failsNamingTheField() throws IOException {
    Schema refBase = new ObjectRefType().getBaseType().getRowSchema();
    List<Row> rows =
        List.of(
            Row.withSchema(refBase)
                .addValues("job-1", new byte[31], 10L, "t", "file:///x")
                .build());
    IllegalArgumentException e = decodeFails(taggedBatch("ref", new ObjectRefType(), rows));
    assertThat(e.getMessage(), containsString("row 0, field 'ref'"));
    assertThat(e.getMessage(), containsString("sha256 must be 32 bytes, got 31"));
  }
}
