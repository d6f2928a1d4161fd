package io.ainative.multimodal.schemas;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.Assert.assertThrows;

import io.ainative.multimodal.testing.TestImages;
import io.ainative.multimodal.testing.TestRows;
import io.ainative.multimodal.types.DType;
import io.ainative.multimodal.types.Image;
import io.ainative.multimodal.types.ImageFormat;
import io.ainative.multimodal.types.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.beam.model.pipeline.v1.SchemaApi;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.SchemaTranslation;
import org.apache.beam.sdk.testing.CoderProperties;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.apache.beam.sdk.values.Row;
import org.junit.Rule;
import org.junit.Test;

public class LogicalTypesTest implements java.io.Serializable {
  private static final List<Schema.LogicalType<?, ?>> ALL =
      List.of(
          TensorType.any(),
          TensorType.fixed(DType.UINT8, 224, 224, 3),
          new ImageType(),
          new AudioType(),
          EmbeddingType.of(512),
          EmbeddingType.any(),
          new ObjectRefType());

  @Test
  public void urns_followTheAinativePattern() {
    List<String> urns = new ArrayList<>();
    for (Schema.LogicalType<?, ?> t : ALL) {
      urns.add(t.getIdentifier());
    }
    assertThat(
        urns,
        equalTo(
            List.of(
                "beam:logical_type:ainative:tensor:v1",
                "beam:logical_type:ainative:tensor:v1",
                "beam:logical_type:ainative:image:v1",
                "beam:logical_type:ainative:audio:v1",
                "beam:logical_type:ainative:embedding:v1",
                "beam:logical_type:ainative:embedding:v1",
                "beam:logical_type:ainative:object_ref:v1")));
  }

  @Test
  public void baseRepresentations_usePortableTypesOnly() {
    for (Schema.LogicalType<?, ?> t : ALL) {
      assertPortable(t.getBaseType(), t.getIdentifier());
    }
  }

  private static void assertPortable(Schema.FieldType type, String where) {
    switch (type.getTypeName()) {
      case ROW:
        for (Schema.Field f : type.getRowSchema().getFields()) {
          assertPortable(f.getType(), where + "." + f.getName());
        }
        break;
      case ARRAY:
        assertPortable(type.getCollectionElementType(), where + "[]");
        break;
      case STRING:
      case BYTES:
      case INT32:
      case INT64:
      case FLOAT:
        break;
      default:
        throw new AssertionError(where + " uses non-portable type " + type);
    }
  }

  @Rule public final transient TestPipeline pipeline = TestPipeline.create();

  @Test
  public void rowsWithLogicalTypes_flowThroughAPipeline() {
    List<Row> rows = TestRows.rows(3);
    PCollection<Row> out =
        pipeline
            .apply(Create.of(rows).withRowSchema(TestRows.SCHEMA))
            .apply(MapElements.into(TypeDescriptors.rows()).via((Row r) -> r))
            .setRowSchema(TestRows.SCHEMA);
    PAssert.that(out).containsInAnyOrder(rows);
    pipeline.run().waitUntilFinish();
  }

  @Test
  public void rowsWithLogicalTypes_roundTripThroughRowCoder() throws Exception {
    RowCoder coder = RowCoder.of(TestRows.SCHEMA);
    for (Row row : TestRows.rows(4)) {
      CoderProperties.coderDecodeEncodeEqual(coder, row);
    }
  }

  @Test
  public void schemaWithLogicalTypes_translatesToThePortableProto_withUrnsAndArguments() {
    SchemaApi.Schema proto = SchemaTranslation.schemaToProto(TestRows.SCHEMA, true);
    SchemaApi.FieldType pixels = field(proto, "pixels");
    assertThat(pixels.getLogicalType().getUrn(), equalTo(TensorType.IDENTIFIER));
    assertThat(pixels.getLogicalType().getArgument().getAtomicValue().getString(), equalTo("float32[2,3]"));
    assertThat(
        pixels.getLogicalType().getRepresentation().getRowType().getSchema().getFields(2).getType().getAtomicType(),
        equalTo(SchemaApi.AtomicType.BYTES));
    assertThat(field(proto, "image").getLogicalType().getUrn(), equalTo(ImageType.IDENTIFIER));
    Schema back = SchemaTranslation.schemaFromProto(proto);
    assertThat(back.getField("pixels").getType().getLogicalType(), equalTo(TensorType.fixed(DType.FLOAT32, 2, 3)));
  }

  private static SchemaApi.FieldType field(SchemaApi.Schema proto, String name) {
    for (SchemaApi.Field f : proto.getFieldsList()) {
      if (f.getName().equals(name)) {
        return f.getType();
      }
    }
    throw new AssertionError(name);
  }

  @Test
  public void tensorBase_roundTrips_andFixedTypeRejectsOtherShapes() {
    TensorType fixed = TensorType.fixed(DType.INT32, 2);
    Tensor t = Tensor.ofInts(new long[] {2}, 5, 6);
    Row base = fixed.toBaseType(t);
    assertThat(base.getString("dtype"), equalTo("int32"));
    assertThat(fixed.toInputType(base), equalTo(t));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> fixed.toBaseType(Tensor.ofInts(new long[] {3}, 1, 2, 3)));
    assertThat(e.getMessage(), containsString("does not match the column type int32[2]"));
  }

  @Test
  public void tensorArgument_parsesAndRejectsGarbage() {
    assertThat(TensorType.fromArgument("float16[1, 2]"), equalTo(TensorType.fixed(DType.FLOAT16, 1, 2)));
    assertThat(TensorType.fromArgument("").isFixedShape(), equalTo(false));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> TensorType.fromArgument("float32"));
    assertThat(e.getMessage(), containsString("'float32'"));
  }

  @Test
  public void tensorBase_withUnknownDtype_isRejected_namingIt() {
    Row base =
        Row.withSchema(TensorType.BASE_SCHEMA).addValues("complex64", List.of(1L), new byte[8]).build();
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> TensorType.any().toInputType(base));
    assertThat(e.getMessage(), containsString("unknown tensor dtype 'complex64'"));
  }

  @Test
  public void audioBase_withPartialFrame_isRejected() {
    Row base = Row.withSchema(AudioType.BASE_SCHEMA).addValues(8000, 2, new byte[12]).build();
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new AudioType().toInputType(base));
    assertThat(e.getMessage(), containsString("not whole float32 frames of 2 channels"));
  }

  /**
   * Rows as another SDK (Beam Python) would send them, bad in the logical type's base row: the
   * RowCoder decode fails with the base field named. (Beam's RowCoder does not add the schema
   * field's name; the Arrow path does, see ArrowBadInputTest.)
   */
  private static IllegalArgumentException decodeAs(
      Schema.LogicalType<?, ?> logical, Row badBase) throws Exception {
    Schema base = Schema.builder().addInt64Field("id").addRowField("v", badBase.getSchema()).build();
    Schema typed = Schema.builder().addInt64Field("id").addLogicalTypeField("v", logical).build();
    byte[] bytes =
        CoderUtils.encodeToByteArray(
            RowCoder.of(base), Row.withSchema(base).addValues(7L, badBase).build());
    return assertThrows(
        IllegalArgumentException.class,
        () -> CoderUtils.decodeFromByteArray(RowCoder.of(typed), bytes));
  }

  @Test
  public void rowCoder_ofTruncatedImage_fails_namingTheBaseField() throws Exception {
    byte[] png =
        Image.encode(TestImages.pattern(8, 8, 3, 0), ImageFormat.PNG)
            .toByteArray();
    Row bad =
        Row.withSchema(ImageType.BASE_SCHEMA)
            .addValues("png", Arrays.copyOf(png, png.length - 5))
            .build();
    IllegalArgumentException e = decodeAs(new ImageType(), bad);
    assertThat(e.getMessage(), containsString("image.data: invalid png image"));
    assertThat(e.getMessage(), containsString("truncated"));
  }

  @Test
  public void rowCoder_ofTensorWithMismatchedData_negativeOrOverflowingShape_failsNamingIt()
      throws Exception {
    assertThat(
        decodeAs(TensorType.any(), tensorBase("float32", List.of(2L, 2L), 12)).getMessage(),
        containsString("tensor data has 12 bytes but shape [2, 2] of float32 needs 16"));
    assertThat(
        decodeAs(TensorType.any(), tensorBase("float32", List.of(-1L), 0)).getMessage(),
        containsString("tensor shape[0] = -1 is negative"));
    assertThat(
        decodeAs(TensorType.any(), tensorBase("int64", List.of(1L << 40, 1L << 40), 0)).getMessage(),
        containsString("overflows"));
    assertThat(
        decodeAs(TensorType.any(), tensorBase("bfloat16", List.of(1L), 2)).getMessage(),
        containsString("unknown tensor dtype 'bfloat16'"));
  }

  @Test
  public void rowCoder_ofObjectRefWithShortDigest_failsNamingIt() throws Exception {
    Row bad =
        Row.withSchema(new ObjectRefType().getBaseType().getRowSchema())
            .addValues("job", new byte[16], 3L, "t", "file:///x")
            .build();
    assertThat(
        decodeAs(new ObjectRefType(), bad).getMessage(),
        containsString("sha256 must be 32 bytes, got 16"));
  }

  private static Row tensorBase(String dtype, List<Long> shape, int bytes) {
    return Row.withSchema(TensorType.BASE_SCHEMA).addValues(dtype, shape, new byte[bytes]).build();
  }

  @Test
  public void registry_resolvesEveryUrnWithItsArgument() {
    for (Schema.LogicalType<?, ?> t : ALL) {
      assertThat(
          MultimodalLogicalTypes.forIdentifier(t.getIdentifier(), MultimodalLogicalTypes.argumentString(t))
              .orElseThrow(),
          equalTo(t));
    }
    assertThat(MultimodalLogicalTypes.forIdentifier("beam:logical_type:other:v1", "").isPresent(), equalTo(false));
  }
}
