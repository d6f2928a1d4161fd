package io.ainative.multimodal.arrow;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.instanceOf;
import static org.junit.Assert.assertThrows;

import io.ainative.multimodal.schemas.TensorType;
import io.ainative.multimodal.testing.TestRows;
import io.ainative.multimodal.types.DType;
import io.ainative.multimodal.types.Tensor;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

public class ArrowRowsTest {
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
  public void rowsWithEveryFieldKind_roundTripThroughArrow() {
    List<Row> rows = TestRows.rows(7);
    try (VectorSchemaRoot root = ArrowRows.toArrow(TestRows.SCHEMA, rows, allocator)) {
      assertThat(root.getRowCount(), equalTo(7));
      assertThat(ArrowRows.toRows(root, TestRows.SCHEMA), equalTo(rows));
      assertThat(ArrowRows.toRows(root), equalTo(rows));
    }
  }

  @Test
  public void emptyBatch_roundTrips() {
    try (VectorSchemaRoot root = ArrowRows.toArrow(TestRows.SCHEMA, List.of(), allocator)) {
      assertThat(ArrowRows.toRows(root), equalTo(List.of()));
    }
  }

  @Test
  public void fixedShapeTensor_usesCanonicalExtensionType() {
    Field pixels = ArrowSchemas.toArrow(TestRows.SCHEMA).findField("pixels");
    assertThat(pixels.getType(), instanceOf(FixedShapeTensorType.class));
    FixedShapeTensorType t = (FixedShapeTensorType) pixels.getType();
    assertThat(t.extensionName(), equalTo("arrow.fixed_shape_tensor"));
    assertThat(t.serialize(), equalTo("{\"shape\":[2,3]}"));
    assertThat(t.storageType(), equalTo(new ArrowType.FixedSizeList(6)));
    assertThat(
        pixels.getChildren().get(0).getType(),
        equalTo(new ArrowType.FloatingPoint(org.apache.arrow.vector.types.FloatingPointPrecision.SINGLE)));
  }

  @Test
  public void arrowSchema_mapsBackToTheSameBeamSchema() {
    Schema back = ArrowSchemas.toBeam(ArrowSchemas.toArrow(TestRows.SCHEMA));
    assertThat(back, equalTo(TestRows.SCHEMA));
  }

  @Test
  public void fixedShapeTensorWithoutBeamMetadata_isReadAsFixedTensorType() {
    FixedShapeTensorType type = new FixedShapeTensorType(3, 4);
    String serialized = type.serialize();
    FixedShapeTensorType back =
        (FixedShapeTensorType) type.deserialize(new ArrowType.FixedSizeList(12), serialized);
    assertThat(back.shape(), equalTo(new long[] {3, 4}));
    Field f =
        new Field(
            "t",
            org.apache.arrow.vector.types.pojo.FieldType.nullable(back),
            List.of(
                new Field(
                    "item",
                    org.apache.arrow.vector.types.pojo.FieldType.nullable(new ArrowType.Int(8, false)),
                    null)));
    Schema beam = ArrowSchemas.toBeam(new org.apache.arrow.vector.types.pojo.Schema(List.of(f)));
    TensorType tt = (TensorType) beam.getField("t").getType().getLogicalType();
    assertThat(tt.fixedDType(), equalTo(DType.UINT8));
    assertThat(tt.fixedShape(), equalTo(new long[] {3, 4}));
  }

  @Test
  public void extensionMetadata_rejectsMismatchedStorageSize() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new FixedShapeTensorType().deserialize(new ArrowType.FixedSizeList(5), "{\"shape\":[2,3]}"));
    assertThat(e.getMessage(), containsString("has 6 elements but its storage lists have 5"));
  }

  @Test
  public void toArrow_rejectsTensorOfWrongShape_namingRowAndField() {
    Schema schema =
        Schema.builder().addLogicalTypeField("t", TensorType.fixed(DType.FLOAT32, 2)).build();
    Row good = Row.withSchema(schema).addValue(Tensor.ofFloats(new long[] {2}, 1, 2)).build();
    Row bad = Row.withSchema(schema).attachValues(Tensor.ofFloats(new long[] {3}, 1, 2, 3));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> ArrowRows.toArrow(schema, List.of(good, bad), allocator));
    assertThat(e.getMessage(), containsString("row 1, field 't'"));
    assertThat(e.getMessage(), containsString("does not match the column type float32[2]"));
  }

  @Test
  public void toArrow_rejectsNullInNonNullableField() {
    Schema schema = Schema.builder().addStringField("s").build();
    Row bad = Row.withSchema(schema).attachValues((Object) null);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> ArrowRows.toArrow(schema, List.of(bad), allocator));
    assertThat(e.getMessage(), containsString("row 0, field 's'"));
    assertThat(e.getMessage(), containsString("null but not nullable"));
  }

  @Test
  public void toArrow_rejectsUnsupportedBeamType_namingTheField() {
    Schema schema =
        Schema.builder()
            .addMapField("m", Schema.FieldType.STRING, Schema.FieldType.INT32)
            .build();
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ArrowSchemas.toArrow(schema));
    assertThat(e.getMessage(), containsString("field 'm'"));
  }

  @Test
  public void fixedTensorColumn_storesElementsContiguouslyInRowMajorOrder() {
    List<Row> rows = TestRows.rows(3);
    try (VectorSchemaRoot root = ArrowRows.toArrow(TestRows.SCHEMA, rows, allocator)) {
      FixedShapeTensorType.Vector v = (FixedShapeTensorType.Vector) root.getVector("pixels");
      org.apache.arrow.vector.Float4Vector values =
          (org.apache.arrow.vector.Float4Vector) v.getUnderlyingVector().getDataVector();
      assertThat(values.getValueCount(), equalTo(18));
      assertThat(values.get(6 * 2 + 4), equalTo(24.5f)); // row 2, element [1, 1]
      assertThat(values.getNullCount(), equalTo(0));
    }
  }
}
