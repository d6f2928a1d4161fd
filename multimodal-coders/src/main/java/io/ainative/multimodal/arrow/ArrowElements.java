package io.ainative.multimodal.arrow;

import io.ainative.multimodal.coders.AudioCoder;
import io.ainative.multimodal.coders.EmbeddingCoder;
import io.ainative.multimodal.coders.ImageCoder;
import io.ainative.multimodal.coders.TensorCoder;
import io.ainative.multimodal.schemas.AudioType;
import io.ainative.multimodal.schemas.EmbeddingType;
import io.ainative.multimodal.schemas.ImageType;
import io.ainative.multimodal.schemas.TensorType;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VarBinaryVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.beam.sdk.coders.BigEndianIntegerCoder;
import org.apache.beam.sdk.coders.BigEndianLongCoder;
import org.apache.beam.sdk.coders.BigEndianShortCoder;
import org.apache.beam.sdk.coders.BooleanCoder;
import org.apache.beam.sdk.coders.ByteArrayCoder;
import org.apache.beam.sdk.coders.ByteCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.coders.DoubleCoder;
import org.apache.beam.sdk.coders.FloatCoder;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.schemas.SchemaCoder;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.values.Row;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * How a list of elements of one {@link Coder} travels as one Arrow record batch ({@link
 * ArrowBatchCodec}'s IPC stream, one row per element, in order), chosen from the coder:
 *
 * <ul>
 *   <li>{@link Layout#SCHEMA}: a {@link SchemaCoder} (including {@code RowCoder}, and the coders
 *       Beam infers for {@code @DefaultSchema} classes) whose fields all have an Arrow layout here:
 *       one column per schema field, with the layouts of {@link ArrowRows} (tensors of one shape as
 *       {@code arrow.fixed_shape_tensor}, images, audio and embeddings as their documented
 *       structs). A schema with a field that has none (a map, for one) is a coder like any other.
 *   <li>{@link Layout#VALUE}: a coder of one value type with a portable field type (the
 *       ainative tensor, image, audio and embedding coders; Beam's coders of bytes, strings,
 *       integers, floating point numbers and booleans; any of them inside {@link NullableCoder}):
 *       one column named {@value #VALUE_FIELD} of that type.
 *   <li>{@link Layout#CODED_BYTES}: any other coder: one binary column named {@value
 *       #CODED_FIELD} holding each element encoded with the coder (so the batch is still an Arrow
 *       batch, but its values are opaque to other Arrow readers).
 * </ul>
 *
 * <p>Decoding checks that the batch has this layout's columns and types and reports the row and
 * field of a value it cannot read; it never returns a silently wrong value. Immutable and thread
 * safe; the caller owns the allocator, and no Arrow memory outlives a call.
 */
public final class ArrowElements<T> {
  /** The column of a {@link Layout#VALUE} batch. */
  public static final String VALUE_FIELD = "value";
  /** The column of a {@link Layout#CODED_BYTES} batch. */
  public static final String CODED_FIELD = "coded_value";

  /** How the elements map to columns. */
  public enum Layout {
    SCHEMA,
    VALUE,
    CODED_BYTES
  }

  private final Coder<T> coder;
  private final Layout layout;
  private final Schema schema;
  /** The batch's Arrow schema, made once (the coded-bytes path writes its root from it). */
  private final org.apache.arrow.vector.types.pojo.Schema arrowSchema;
  /** Null for CODED_BYTES. */
  private final @Nullable SerializableFunction<T, Row> toRow;

  private final @Nullable SerializableFunction<Row, T> fromRow;

  private ArrowElements(
      Coder<T> coder,
      Layout layout,
      Schema schema,
      @Nullable SerializableFunction<T, Row> toRow,
      @Nullable SerializableFunction<Row, T> fromRow) {
    this.coder = coder;
    this.layout = layout;
    this.schema = schema;
    this.arrowSchema = ArrowSchemas.toArrow(schema);
    this.toRow = toRow;
    this.fromRow = fromRow;
  }

  /** The layout for {@code coder}'s elements; every coder has one. */
  public static <T> ArrowElements<T> of(Coder<T> coder) {
    if (coder instanceof SchemaCoder && hasArrowLayout(((SchemaCoder<T>) coder).getSchema())) {
      SchemaCoder<T> schemaCoder = (SchemaCoder<T>) coder;
      return new ArrowElements<>(
          coder,
          Layout.SCHEMA,
          schemaCoder.getSchema(),
          schemaCoder.getToRowFunction(),
          schemaCoder.getFromRowFunction());
    }
    FieldType type = valueType(coder);
    Schema valueSchema = type == null ? null : Schema.builder().addField(VALUE_FIELD, type).build();
    if (valueSchema != null && hasArrowLayout(valueSchema)) {
      Schema schema = valueSchema;
      return new ArrowElements<>(
          coder, Layout.VALUE, schema, v -> Row.withSchema(schema).addValue(v).build(), ArrowElements::firstValue);
    }
    Schema schema = Schema.builder().addByteArrayField(CODED_FIELD).build();
    // Written and read straight from the binary column (encodeCoded, decodeCoded), no rows.
    return new ArrowElements<>(coder, Layout.CODED_BYTES, schema, null, null);
  }

  /** Whether every field of {@code schema} has an Arrow layout here (maps, for one, have none). */
  private static boolean hasArrowLayout(Schema schema) {
    try {
      ArrowSchemas.toArrow(schema);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  @SuppressWarnings("unchecked")
  private static <T> T firstValue(Row row) {
    return (T) row.getValue(0);
  }

  /** The field type of a single value of {@code coder}, or null when it has none here. */
  private static @Nullable FieldType valueType(Coder<?> coder) {
    if (coder instanceof NullableCoder) {
      FieldType inner = valueType(((NullableCoder<?>) coder).getValueCoder());
      return inner == null ? null : inner.withNullable(true);
    }
    if (coder instanceof TensorCoder) {
      return FieldType.logicalType(TensorType.any());
    }
    if (coder instanceof ImageCoder) {
      return FieldType.logicalType(new ImageType());
    }
    if (coder instanceof AudioCoder) {
      return FieldType.logicalType(new AudioType());
    }
    if (coder instanceof EmbeddingCoder) {
      return FieldType.logicalType(EmbeddingType.any());
    }
    if (coder instanceof ByteArrayCoder) {
      return FieldType.BYTES;
    }
    if (coder instanceof StringUtf8Coder) {
      return FieldType.STRING;
    }
    if (coder instanceof VarIntCoder || coder instanceof BigEndianIntegerCoder) {
      return FieldType.INT32;
    }
    if (coder instanceof VarLongCoder || coder instanceof BigEndianLongCoder) {
      return FieldType.INT64;
    }
    if (coder instanceof BigEndianShortCoder) {
      return FieldType.INT16;
    }
    if (coder instanceof ByteCoder) {
      return FieldType.BYTE;
    }
    if (coder instanceof DoubleCoder) {
      return FieldType.DOUBLE;
    }
    if (coder instanceof FloatCoder) {
      return FieldType.FLOAT;
    }
    if (coder instanceof BooleanCoder) {
      return FieldType.BOOLEAN;
    }
    return null;
  }

  public Layout layout() {
    return layout;
  }

  /** The Beam schema of the batch's rows. */
  public Schema schema() {
    return schema;
  }

  public Coder<T> coder() {
    return coder;
  }

  /**
   * Encodes {@code values} as one IPC stream.
   *
   * @throws IllegalArgumentException naming the element index (and field) that cannot be written
   */
  public byte[] encode(List<T> values, BufferAllocator allocator) throws IOException {
    if (layout == Layout.CODED_BYTES) {
      return encodeCoded(values, allocator);
    }
    List<Row> rows = new ArrayList<>(values.size());
    for (int i = 0; i < values.size(); i++) {
      try {
        rows.add(toRow.apply(values.get(i)));
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("element " + i + ": " + e.getMessage(), e);
      }
    }
    return ArrowBatchCodec.encodeRows(schema, rows, allocator);
  }

  /** Coder bytes straight into the binary column: no row per element. */
  private byte[] encodeCoded(List<T> values, BufferAllocator allocator) throws IOException {
    byte[][] encoded = new byte[values.size()][];
    long total = 0;
    for (int i = 0; i < values.size(); i++) {
      try {
        encoded[i] = CoderUtils.encodeToByteArray(coder, values.get(i));
      } catch (CoderException | RuntimeException e) {
        throw new IllegalArgumentException("element " + i + ": cannot encode with " + coder + ": " + e.getMessage(), e);
      }
      total += encoded[i].length;
    }
    try (VectorSchemaRoot root = VectorSchemaRoot.create(arrowSchema, allocator)) {
      VarBinaryVector column = (VarBinaryVector) root.getVector(0);
      column.allocateNew(Math.max(total, 1), Math.max(values.size(), 1));
      for (int i = 0; i < encoded.length; i++) {
        column.set(i, encoded[i]);
      }
      column.setValueCount(encoded.length);
      root.setRowCount(encoded.length);
      return ArrowBatchCodec.encode(root);
    }
  }

  /**
   * Decodes an IPC stream written by {@link #encode} (or by any Arrow producer with the same
   * columns).
   *
   * @throws IOException when the bytes are not one Arrow record batch with this layout's columns,
   *     or a value cannot be read; the message names the row and field
   */
  public List<T> decode(byte[] ipc, BufferAllocator allocator) throws IOException {
    List<Row> rows;
    try (ArrowBatch batch = ArrowBatchCodec.decode(ipc, allocator)) {
      checkColumns(batch);
      if (layout == Layout.CODED_BYTES) {
        return decodeCoded(batch);
      }
      rows = batch.toRows(schema);
    } catch (IllegalArgumentException | IOException e) {
      throw new IOException("Arrow batch for " + coder + ": " + e.getMessage(), e);
    }
    List<T> values = new ArrayList<>(rows.size());
    for (int i = 0; i < rows.size(); i++) {
      try {
        values.add(fromRow.apply(rows.get(i)));
      } catch (RuntimeException e) {
        throw new IOException("Arrow batch for " + coder + ", row " + i + ": " + e.getMessage(), e);
      }
    }
    return values;
  }

  private List<T> decodeCoded(ArrowBatch batch) throws IOException {
    if (!(batch.root().getVector(0) instanceof VarBinaryVector)) {
      throw new IllegalArgumentException(
          "field '" + CODED_FIELD + "': expected binary values, got " + batch.root().getVector(0).getField().getType());
    }
    VarBinaryVector column = (VarBinaryVector) batch.root().getVector(0);
    List<T> values = new ArrayList<>(batch.rowCount());
    for (int i = 0; i < batch.rowCount(); i++) {
      byte[] bytes = column.get(i);
      if (bytes == null) {
        throw new IllegalArgumentException("row " + i + ", field '" + CODED_FIELD + "': null");
      }
      try {
        values.add(CoderUtils.decodeFromByteArray(coder, bytes));
      } catch (CoderException | RuntimeException e) {
        throw new IllegalArgumentException("row " + i + ", field '" + CODED_FIELD + "': cannot decode with " + coder + ": " + e.getMessage(), e);
      }
    }
    return values;
  }

  private void checkColumns(ArrowBatch batch) {
    List<org.apache.arrow.vector.types.pojo.Field> fields = batch.root().getSchema().getFields();
    if (fields.size() != schema.getFieldCount()) {
      throw new IllegalArgumentException(
          "expected " + schema.getFieldCount() + " column(s) " + schema.getFieldNames() + ", got " + fields.size());
    }
    for (int c = 0; c < fields.size(); c++) {
      String expected = schema.getField(c).getName();
      if (!fields.get(c).getName().equals(expected)) {
        throw new IllegalArgumentException(
            "column " + c + " is '" + fields.get(c).getName() + "', expected '" + expected + "'");
      }
    }
  }

  @Override
  public String toString() {
    return "ArrowElements{" + layout + ", " + schema.getFieldNames() + ", " + coder + "}";
  }
}
