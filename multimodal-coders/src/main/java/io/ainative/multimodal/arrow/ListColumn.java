package io.ainative.multimodal.arrow;

import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.beam.sdk.schemas.Schema.FieldType;

/** Beam ARRAY and ITERABLE as an Arrow List. */
final class ListColumn extends Column {
  private final Column element;

  ListColumn(String name, FieldType type, Column element) {
    super(name, type);
    this.element = element;
  }

  @Override
  Field arrowField() {
    return new Field(
        name,
        new org.apache.arrow.vector.types.pojo.FieldType(
            type.getNullable(), ArrowType.List.INSTANCE, null),
        List.of(element.arrowField()));
  }

  @Override
  void writeNonNull(FieldVector v, int i, Object value) {
    ListVector list = (ListVector) v;
    FieldVector data = list.getDataVector();
    int start = list.startNewValue(i);
    int n = 0;
    for (Object e : (Iterable<?>) value) {
      try {
        element.write(data, start + n, e);
      } catch (RuntimeException ex) {
        throw new IllegalArgumentException(
            "field '" + name + "' element " + n + ": " + ex.getMessage(), ex);
      }
      n++;
    }
    list.endValue(i, n);
  }

  @Override
  Object readNonNull(FieldVector v, int i) {
    ListVector list = (ListVector) v;
    FieldVector data = list.getDataVector();
    int start = list.getElementStartIndex(i);
    int end = list.getElementEndIndex(i);
    List<Object> out = new ArrayList<>(end - start);
    for (int k = start; k < end; k++) {
      out.add(element.read(data, k));
    }
    return out;
  }

  @Override
  void checkReadable(FieldVector vector) {
    element.checkReadable(((ListVector) vector).getDataVector());
  }
}
