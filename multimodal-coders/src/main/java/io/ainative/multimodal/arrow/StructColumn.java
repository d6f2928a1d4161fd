package io.ainative.multimodal.arrow;

import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.complex.StructVector;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.values.Row;

/** A Beam ROW as an Arrow Struct, fields in schema order. */
final class StructColumn extends Column {
  private final Schema schema;
  private final List<Column> children = new ArrayList<>();

  StructColumn(String name, FieldType type, Schema schema) {
    super(name, type);
    this.schema = schema;
    for (Schema.Field f : schema.getFields()) {
      children.add(Column.of(f.getName(), f.getType()));
    }
  }

  @Override
  Field arrowField() {
    List<Field> fields = new ArrayList<>();
    for (Column c : children) {
      fields.add(c.arrowField());
    }
    return new Field(
        name,
        new org.apache.arrow.vector.types.pojo.FieldType(
            type.getNullable(), ArrowType.Struct.INSTANCE, null),
        fields);
  }

  @Override
  void writeNonNull(FieldVector v, int i, Object value) {
    StructVector struct = (StructVector) v;
    Row row = (Row) value;
    struct.setIndexDefined(i);
    for (int k = 0; k < children.size(); k++) {
      children.get(k).write((FieldVector) struct.getChildByOrdinal(k), i, row.getValue(k));
    }
  }

  @Override
  Object readNonNull(FieldVector v, int i) {
    StructVector struct = (StructVector) v;
    List<Object> values = new ArrayList<>(children.size());
    for (int k = 0; k < children.size(); k++) {
      values.add(children.get(k).read((FieldVector) struct.getChildByOrdinal(k), i));
    }
    return Row.withSchema(schema).attachValues(values);
  }

  @Override
  void checkReadable(FieldVector vector) {
    StructVector struct = (StructVector) vector;
    for (int k = 0; k < children.size(); k++) {
      children.get(k).checkReadable((FieldVector) struct.getChildByOrdinal(k));
    }
  }
}
