package io.ainative.multimodal.arrow;

import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;

/**
 * Converts Beam {@link Row}s, including ainative logical types, to an Arrow {@link
 * VectorSchemaRoot} and back (Beam itself only converts Arrow to Row).
 *
 * <p><b>Memory.</b> {@link #toArrow} allocates the root from the caller's allocator and hands it
 * over: the caller closes it. If conversion fails the root is closed before the exception leaves,
 * so nothing leaks. {@link #toRows} copies everything it reads: the rows stay valid after the root
 * is closed. Stateless and thread safe; a root must not be used by two threads at once.
 */
public final class ArrowRows {
  static {
    FixedShapeTensorType.register();
  }

  private ArrowRows() {}

  /**
   * Writes rows into a new root with {@link ArrowSchemas#toArrow(Schema) schema}'s Arrow layout.
   *
   * @throws IllegalArgumentException naming the row index and field when a value cannot be
   *     written (null in a non-nullable field, tensor of the wrong shape, unsupported type)
   */
  public static VectorSchemaRoot toArrow(Schema schema, List<Row> rows, BufferAllocator allocator) {
    List<Column> columns = ArrowSchemas.columns(schema);
    VectorSchemaRoot root = VectorSchemaRoot.create(ArrowSchemas.toArrow(schema), allocator);
    try {
      List<FieldVector> vectors = root.getFieldVectors();
      for (FieldVector v : vectors) {
        v.setInitialCapacity(Math.max(rows.size(), 1));
        v.allocateNew();
      }
      for (int c = 0; c < columns.size(); c++) {
        long bytes = 0;
        for (Row row : rows) {
          Object value = valueOf(row, schema, c, columns.get(c).name);
          bytes += value == null ? 0 : columns.get(c).variableBytes(value);
        }
        columns.get(c).reserve(vectors.get(c), bytes);
      }
      for (int r = 0; r < rows.size(); r++) {
        Row row = rows.get(r);
        for (int c = 0; c < columns.size(); c++) {
          try {
            columns.get(c).write(vectors.get(c), r, valueOf(row, schema, c, columns.get(c).name));
          } catch (RuntimeException e) {
            throw new IllegalArgumentException(
                "row " + r + ", field '" + columns.get(c).name + "': " + e.getMessage(), e);
          }
        }
      }
      root.setRowCount(rows.size());
      return root;
    } catch (RuntimeException e) {
      root.close();
      throw e;
    }
  }

  /** Rows of an equal schema are read by position, others by field name. */
  private static Object valueOf(Row row, Schema schema, int index, String name) {
    return row.getSchema() == schema || row.getSchema().equals(schema)
        ? row.getValue(index)
        : row.getValue(name);
  }

  /** Reads all rows, with the Beam schema derived from the root's Arrow schema. */
  public static List<Row> toRows(VectorSchemaRoot root) {
    return toRows(root, ArrowSchemas.toBeam(root.getSchema()));
  }

  /**
   * Reads all rows with the given Beam schema, which must map to the root's layout.
   *
   * @throws IllegalArgumentException naming the row index and field when a value is invalid
   */
  public static List<Row> toRows(VectorSchemaRoot root, Schema schema) {
    List<Column> columns = ArrowSchemas.columns(schema);
    List<FieldVector> vectors = root.getFieldVectors();
    if (vectors.size() != columns.size()) {
      throw new IllegalArgumentException(
          "Arrow batch has " + vectors.size() + " columns, schema has " + columns.size());
    }
    for (int c = 0; c < columns.size(); c++) {
      try {
        columns.get(c).checkReadable(vectors.get(c));
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(
            "field '" + columns.get(c).name + "': " + e.getMessage(), e);
      }
    }
    List<Row> rows = new ArrayList<>(root.getRowCount());
    for (int r = 0; r < root.getRowCount(); r++) {
      List<Object> values = new ArrayList<>(columns.size());
      for (int c = 0; c < columns.size(); c++) {
        try {
          Object v = columns.get(c).read(vectors.get(c), r);
          if (v == null && !schema.getField(c).getType().getNullable()) {
            throw new IllegalArgumentException("null in a non-nullable field");
          }
          values.add(v);
        } catch (RuntimeException e) {
          throw new IllegalArgumentException(
              "row " + r + ", field '" + columns.get(c).name + "': " + e.getMessage(), e);
        }
      }
      rows.add(Row.withSchema(schema).attachValues(values));
    }
    return rows;
  }
}
