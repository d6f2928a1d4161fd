package io.ainative.multimodal.arrow;

import io.ainative.multimodal.schemas.MultimodalLogicalTypes;
import io.ainative.multimodal.schemas.TensorType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.TimeUnit;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;

/**
 * Maps Beam schemas to Arrow schemas and back. The mapping is documented in the module README;
 * ainative logical types are tagged in Arrow field metadata ({@code beam:logical_type} and
 * {@code beam:logical_type:argument}) so {@link #toBeam} restores them. An {@code
 * arrow.fixed_shape_tensor} column without that metadata (e.g. written by pyarrow) becomes a
 * fixed-shape {@link TensorType}. Stateless and thread safe.
 */
public final class ArrowSchemas {
  /** Schema metadata key carrying the ainative batch format version. */
  public static final String BATCH_VERSION_KEY = "ainative:batch_version";

  /** The batch format version this build writes and reads. */
  public static final String BATCH_VERSION = "1";

  static {
    FixedShapeTensorType.register();
  }

  private ArrowSchemas() {}

  /**
   * The Arrow schema for a Beam schema.
   *
   * @throws IllegalArgumentException naming the field whose type has no mapping
   */
  public static org.apache.arrow.vector.types.pojo.Schema toArrow(Schema schema) {
    List<Field> fields = new ArrayList<>();
    for (Column c : columns(schema)) {
      fields.add(c.arrowField());
    }
    return new org.apache.arrow.vector.types.pojo.Schema(
        fields, Map.of(BATCH_VERSION_KEY, BATCH_VERSION));
  }

  static List<Column> columns(Schema schema) {
    List<Column> columns = new ArrayList<>();
    for (Schema.Field f : schema.getFields()) {
      columns.add(Column.of(f.getName(), f.getType()));
    }
    return columns;
  }

  /**
   * The Beam schema for an Arrow schema.
   *
   * @throws IllegalArgumentException naming the field whose Arrow type has no mapping
   */
  public static Schema toBeam(org.apache.arrow.vector.types.pojo.Schema schema) {
    Schema.Builder b = Schema.builder();
    for (Field f : schema.getFields()) {
      b.addField(f.getName(), fieldType(f, f.getName()));
    }
    return b.build();
  }

  private static FieldType fieldType(Field f, String path) {
    Map<String, String> md = f.getMetadata();
    String urn = md == null ? null : md.get(Column.URN_KEY);
    if (urn != null) {
      Optional<Schema.LogicalType<?, ?>> logical =
          MultimodalLogicalTypes.forIdentifier(urn, md.get(Column.ARGUMENT_KEY));
      if (logical.isPresent()) {
        return FieldType.logicalType(logical.get()).withNullable(f.isNullable());
      }
    }
    ArrowType t = f.getType();
    FieldType beam;
    if (t instanceof FixedShapeTensorType) {
      Field item = f.getChildren().get(0);
      beam =
          FieldType.logicalType(
              TensorType.fixed(
                  FixedWidthLists.dtypeOf(item.getType(), path),
                  ((FixedShapeTensorType) t).shape()));
    } else if (t instanceof ArrowType.Int && ((ArrowType.Int) t).getIsSigned()) {
      switch (((ArrowType.Int) t).getBitWidth()) {
        case 8:
          beam = FieldType.BYTE;
          break;
        case 16:
          beam = FieldType.INT16;
          break;
        case 32:
          beam = FieldType.INT32;
          break;
        default:
          beam = FieldType.INT64;
      }
    } else if (t instanceof ArrowType.FloatingPoint
        && ((ArrowType.FloatingPoint) t).getPrecision() == FloatingPointPrecision.SINGLE) {
      beam = FieldType.FLOAT;
    } else if (t instanceof ArrowType.FloatingPoint
        && ((ArrowType.FloatingPoint) t).getPrecision() == FloatingPointPrecision.DOUBLE) {
      beam = FieldType.DOUBLE;
    } else if (t instanceof ArrowType.Bool) {
      beam = FieldType.BOOLEAN;
    } else if (t instanceof ArrowType.Utf8) {
      beam = FieldType.STRING;
    } else if (t instanceof ArrowType.Binary) {
      beam = FieldType.BYTES;
    } else if (t instanceof ArrowType.Timestamp
        && ((ArrowType.Timestamp) t).getUnit() == TimeUnit.MILLISECOND
        && "UTC".equals(((ArrowType.Timestamp) t).getTimezone())) {
      beam = FieldType.DATETIME;
    } else if (t instanceof ArrowType.List) {
      Field item = f.getChildren().get(0);
      beam = FieldType.array(fieldType(item, path + "[]"));
    } else if (t instanceof ArrowType.Struct) {
      Schema.Builder b = Schema.builder();
      for (Field c : f.getChildren()) {
        b.addField(c.getName(), fieldType(c, path + "." + c.getName()));
      }
      beam = FieldType.row(b.build());
    } else {
      throw new IllegalArgumentException(
          "field '" + path + "' has Arrow type " + t + ", which has no Beam mapping here");
    }
    return beam.withNullable(f.isNullable());
  }
}
