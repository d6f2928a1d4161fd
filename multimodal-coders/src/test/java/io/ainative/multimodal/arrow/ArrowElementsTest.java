package io.ainative.multimodal.arrow;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.Assert.assertThrows;

import io.ainative.multimodal.coders.ImageCoder;
import io.ainative.multimodal.coders.TensorCoder;
import io.ainative.multimodal.testing.TestImages;
import io.ainative.multimodal.testing.TestRows;
import io.ainative.multimodal.types.Image;
import io.ainative.multimodal.types.ImageFormat;
import io.ainative.multimodal.types.Tensor;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.Row;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

public class ArrowElementsTest {
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

  @Test
  public void rowsOfASchemaCoder_travelAsOneColumnPerField() throws IOException {
    ArrowElements<Row> elements = ArrowElements.of(RowCoder.of(TestRows.SCHEMA));
    assertThat(elements.layout(), equalTo(ArrowElements.Layout.SCHEMA));
    List<Row> rows = TestRows.rows(7);
    byte[] ipc = elements.encode(rows, allocator);
    try (ArrowBatch batch = ArrowBatchCodec.decode(ipc, allocator)) {
      assertThat(batch.beamSchema(), equalTo(TestRows.SCHEMA));
    }
    assertThat(elements.decode(ipc, allocator), equalTo(rows));
  }

  @Test
  public void imagesAndTensors_travelAsTheirLogicalTypeInAValueColumn() throws IOException {
    ArrowElements<Image> images = ArrowElements.of(ImageCoder.of());
    assertThat(images.layout(), equalTo(ArrowElements.Layout.VALUE));
    List<Image> in = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      in.add(Image.encode(TestImages.pattern(8 + i, 6, 3, i), ImageFormat.PNG));
    }
    List<Image> out = images.decode(images.encode(in, allocator), allocator);
    assertThat(out.size(), equalTo(4));
    for (int i = 0; i < 4; i++) {
      assertThat(out.get(i).format(), equalTo(ImageFormat.PNG));
      assertThat(out.get(i), equalTo(in.get(i)));
    }

    ArrowElements<Tensor> tensors = ArrowElements.of(TensorCoder.of());
    List<Tensor> ragged = Arrays.asList(Tensor.ofFloats(new long[] {2}, 1f, 2f), Tensor.ofInts(new long[] {1, 3}, 4, 5, 6));
    byte[] ipc = tensors.encode(ragged, allocator);
    try (ArrowBatch batch = ArrowBatchCodec.decode(ipc, allocator)) {
      assertThat(batch.root().getSchema().getFields().get(0).getName(), equalTo(ArrowElements.VALUE_FIELD));
    }
    assertThat(tensors.decode(ipc, allocator), equalTo(ragged));
  }

  @Test
  public void primitivesAndNullables_travelTyped() throws IOException {
    ArrowElements<Integer> ints = ArrowElements.of(VarIntCoder.of());
    assertThat(ints.schema().getField(0).getType(), equalTo(Schema.FieldType.INT32));
    List<Integer> values = Arrays.asList(0, -1, Integer.MAX_VALUE, 42);
    assertThat(ints.decode(ints.encode(values, allocator), allocator), equalTo(values));

    ArrowElements<String> strings = ArrowElements.of(NullableCoder.of(StringUtf8Coder.of()));
    assertThat(strings.schema().getField(0).getType().getNullable(), equalTo(true));
    List<String> withNull = Arrays.asList("a", null, "ü");
    assertThat(strings.decode(strings.encode(withNull, allocator), allocator), equalTo(withNull));
  }

  @Test
  public void otherCoders_travelAsTheirEncodingInABinaryColumn() throws IOException {
    KvCoder<String, Long> coder = KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of());
    ArrowElements<KV<String, Long>> kvs = ArrowElements.of(coder);
    assertThat(kvs.layout(), equalTo(ArrowElements.Layout.CODED_BYTES));
    List<KV<String, Long>> values = Arrays.asList(KV.of("x", 1L), KV.of("", -5L));
    assertThat(kvs.decode(kvs.encode(values, allocator), allocator), equalTo(values));
  }

  @Test
  public void aSchemaWithAFieldArrowCannotHold_travelsAsCoderBytes() throws IOException {
    Schema withMap = Schema.builder().addInt32Field("n").addMapField("m", Schema.FieldType.STRING, Schema.FieldType.INT64).build();
    ArrowElements<Row> elements = ArrowElements.of(RowCoder.of(withMap));
    assertThat(elements.layout(), equalTo(ArrowElements.Layout.CODED_BYTES));
    List<Row> rows = Arrays.asList(Row.withSchema(withMap).addValues(1, java.util.Map.of("a", 2L)).build());
    assertThat(elements.decode(elements.encode(rows, allocator), allocator), equalTo(rows));
  }

  @Test
  public void aBatchOfAnotherLayout_isRefused_namingTheColumn() throws IOException {
    byte[] ints = ArrowElements.of(VarIntCoder.of()).encode(Arrays.asList(1, 2), allocator);
    IOException wrongType =
        assertThrows(IOException.class, () -> ArrowElements.of(StringUtf8Coder.of()).decode(ints, allocator));
    assertThat(wrongType.getMessage(), containsString("value"));
    IOException wrongColumns =
        assertThrows(IOException.class, () -> ArrowElements.of(RowCoder.of(TestRows.SCHEMA)).decode(ints, allocator));
    assertThat(wrongColumns.getMessage(), containsString("column"));
    IOException garbage =
        assertThrows(IOException.class, () -> ArrowElements.of(VarIntCoder.of()).decode(new byte[] {1, 2, 3}, allocator));
    assertThat(garbage.getMessage(), containsString("Arrow"));
  }

  @Test
  public void aNullForANonNullableCoder_namesTheElement() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> ArrowElements.of(StringUtf8Coder.of()).encode(Arrays.asList("a", null), allocator));
    assertThat(e.getMessage(), containsString("element 1"));
  }

  @Test
  public void manyBatches_leaveNoArrowMemoryAllocated() throws IOException {
    ArrowElements<Image> images = ArrowElements.of(ImageCoder.of());
    List<Image> in = Arrays.asList(Image.encode(TestImages.pattern(16, 16, 3, 1), ImageFormat.PNG));
    for (int i = 0; i < 200; i++) {
      images.decode(images.encode(in, allocator), allocator);
    }
  }
}
