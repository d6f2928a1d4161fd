package io.ainative.multimodal.schemas;

import io.ainative.multimodal.types.ObjectRef;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;

/**
 * Beam logical type for {@link ObjectRef}: URN {@value #IDENTIFIER}, no argument.
 *
 * <p>Base representation: {@code ROW<job_id: STRING, sha256: BYTES, size: INT64, value_type:
 * STRING, location: STRING>}.
 */
public final class ObjectRefType extends FixedRowLogicalType<ObjectRef<?>> {
  public static final String IDENTIFIER = "beam:logical_type:ainative:object_ref:v1";

  public static final Schema BASE_SCHEMA =
      Schema.builder()
          .addStringField("job_id")
          .addByteArrayField("sha256")
          .addInt64Field("size")
          .addStringField("value_type")
          .addStringField("location")
          .build();

  private static final long serialVersionUID = 1L;

  public ObjectRefType() {
    super(IDENTIFIER, BASE_SCHEMA);
  }

  @Override
  public Row toBaseType(ObjectRef<?> input) {
    return Row.withSchema(BASE_SCHEMA)
        .addValues(
            input.jobId(), input.sha256(), input.size(), input.valueType(), input.location())
        .build();
  }

  @Override
  public ObjectRef<?> toInputType(Row base) {
    Long size = base.getInt64("size");
    if (size == null) {
      throw new IllegalArgumentException("object ref size is null");
    }
    return ObjectRef.of(
        base.getString("job_id"),
        base.getBytes("sha256"),
        size,
        base.getString("value_type"),
        base.getString("location"));
  }
}
