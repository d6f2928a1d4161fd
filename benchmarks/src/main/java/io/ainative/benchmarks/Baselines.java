package io.ainative.benchmarks;

import io.ainative.multimodal.types.Embedding;
import io.ainative.multimodal.types.Image;
import io.ainative.multimodal.types.Tensor;
import java.io.Serializable;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;

/**
 * What users write without ainative's types: a {@link Serializable} holder (for Beam's {@code
 * SerializableCoder}) and a {@link Row} with a bytes field (for {@code RowCoder}).
 */
final class Baselines {
  private Baselines() {}

  /** A plain Java object holding the payload, as users commonly write for SerializableCoder. */
  static final class Holder implements Serializable {
    private static final long serialVersionUID = 1L;
    final String kind;
    final long[] shape;
    final byte[] bytes;
    final float[] floats;

    Holder(String kind, long[] shape, byte[] bytes, float[] floats) {
      this.kind = kind;
      this.shape = shape;
      this.bytes = bytes;
      this.floats = floats;
    }
  }

  static final Schema ROW_SCHEMA =
      Schema.builder()
          .addStringField("kind")
          .addArrayField("shape", Schema.FieldType.INT64)
          .addByteArrayField("data")
          .build();

  static Holder holder(Object value) {
    if (value instanceof Tensor) {
      Tensor t = (Tensor) value;
      return new Holder("tensor", t.shape(), t.toByteArray(), null);
    }
    if (value instanceof Image) {
      Image i = (Image) value;
      return new Holder("png", new long[] {i.height(), i.width(), i.channels()}, i.toByteArray(), null);
    }
    Embedding e = (Embedding) value;
    return new Holder("embedding", new long[] {e.dimension()}, null, e.toFloatArray());
  }

  static Row row(Object value) {
    if (value instanceof Tensor) {
      Tensor t = (Tensor) value;
      return Row.withSchema(ROW_SCHEMA)
          .addValues("tensor", java.util.List.of(224L, 224L, 3L), t.toByteArray())
          .build();
    }
    if (value instanceof Image) {
      Image i = (Image) value;
      return Row.withSchema(ROW_SCHEMA)
          .addValues("png", java.util.List.of((long) i.height(), (long) i.width()), i.toByteArray())
          .build();
    }
    Embedding e = (Embedding) value;
    return Row.withSchema(ROW_SCHEMA)
        .addValues("embedding", java.util.List.of((long) e.dimension()), e.toLittleEndianBytes())
        .build();
  }
}
