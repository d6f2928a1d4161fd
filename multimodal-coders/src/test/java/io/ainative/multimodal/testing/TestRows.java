package io.ainative.multimodal.testing;

import io.ainative.multimodal.schemas.AudioType;
import io.ainative.multimodal.schemas.EmbeddingType;
import io.ainative.multimodal.schemas.ImageType;
import io.ainative.multimodal.schemas.ObjectRefType;
import io.ainative.multimodal.schemas.TensorType;
import io.ainative.multimodal.types.Audio;
import io.ainative.multimodal.types.DType;
import io.ainative.multimodal.types.Embedding;
import io.ainative.multimodal.types.Image;
import io.ainative.multimodal.types.ImageFormat;
import io.ainative.multimodal.types.ObjectRef;
import io.ainative.multimodal.types.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Instant;

/** A schema with every supported field kind, and deterministic rows for it. */
public final class TestRows {
  private TestRows() {}

  public static final Schema NESTED = Schema.builder().addInt32Field("a").addNullableField("b", FieldType.STRING).build();

  public static final Schema SCHEMA =
      Schema.builder()
          .addInt64Field("id")
          .addStringField("name")
          .addNullableField("score", FieldType.DOUBLE)
          .addBooleanField("flag")
          .addByteField("b8")
          .addInt16Field("i16")
          .addInt32Field("i32")
          .addFloatField("f32")
          .addByteArrayField("raw")
          .addDateTimeField("ts")
          .addArrayField("tags", FieldType.STRING)
          .addRowField("nested", NESTED)
          .addLogicalTypeField("pixels", TensorType.fixed(DType.FLOAT32, 2, 3))
          .addLogicalTypeField("mask", TensorType.fixed(DType.BOOL, 5))
          .addNullableField("ragged", FieldType.logicalType(TensorType.any()))
          .addLogicalTypeField("image", new ImageType())
          .addLogicalTypeField("audio", new AudioType())
          .addLogicalTypeField("emb", EmbeddingType.of(4))
          .addNullableField("emb_any", FieldType.logicalType(EmbeddingType.any()))
          .addLogicalTypeField("ref", new ObjectRefType())
          .addArrayField("tensors", FieldType.logicalType(TensorType.any()))
          .build();

  public static List<Row> rows(int n) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      float[] px = new float[6];
      for (int k = 0; k < 6; k++) {
        px[k] = i * 10 + k + 0.5f;
      }
      boolean[] mask = {i % 2 == 0, true, false, i % 3 == 0, true};
      Tensor ragged = i % 4 == 3 ? null : Tensor.ofInts(new long[] {i % 3 + 1}, new int[i % 3 + 1]);
      float[] wave = new float[2 * (i + 1)];
      for (int k = 0; k < wave.length; k++) {
        wave[k] = (float) Math.sin(k + i);
      }
      rows.add(
          Row.withSchema(SCHEMA)
              .addValues(
                  (long) i,
                  "row-" + i,
                  i % 2 == 0 ? null : i * 1.5,
                  i % 2 == 0,
                  (byte) i,
                  (short) -i,
                  i * 1000,
                  i / 4f,
                  new byte[] {(byte) i, 2, 3},
                  new Instant(1_700_000_000_000L + i),
                  List.of("t" + i, "u"),
                  Row.withSchema(NESTED).addValues(i, i % 2 == 0 ? "x" : null).build(),
                  Tensor.ofFloats(new long[] {2, 3}, px),
                  Tensor.ofBooleans(new long[] {5}, mask),
                  ragged,
                  Image.encode(TestImages.pattern(8 + i, 6, 3, i), ImageFormat.PNG),
                  Audio.of(16000, 2, wave),
                  Embedding.of(new float[] {i, -i, 0.5f, Float.NaN}, i % 2 == 0 ? "m" : null),
                  i % 3 == 0 ? null : Embedding.of(new float[i + 1]),
                  ObjectRef.of("job", new byte[32], i, "t", "file:///x/" + i),
                  List.of(Tensor.ofLongs(new long[] {2}, i, -i), Tensor.ofDoubles(new long[] {}, 2.5 * i)))
              .build());
    }
    return rows;
  }
}
