package io.ainative.multimodal.schemas;

import io.ainative.multimodal.types.Embedding;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.values.Row;

/**
 * Beam logical type for {@link Embedding}: URN {@value #IDENTIFIER}.
 *
 * <p>Base representation: {@code ROW<values: ARRAY<FLOAT>, model_id: nullable STRING>}.
 *
 * <p>Argument ({@code INT32}): the dimension every value of the column has, or 0 for any. A
 * fixed dimension maps to an Arrow {@code FixedSizeList<float32>}.
 */
public final class EmbeddingType implements Schema.LogicalType<Embedding, Row> {
  public static final String IDENTIFIER = "beam:logical_type:ainative:embedding:v1";

  public static final Schema BASE_SCHEMA =
      Schema.builder()
          .addArrayField("values", FieldType.FLOAT)
          .addNullableField("model_id", FieldType.STRING)
          .build();

  private static final long serialVersionUID = 1L;

  private final int dimension;

  private EmbeddingType(int dimension) {
    this.dimension = dimension;
  }

  /** Embeddings of any dimension. */
  public static EmbeddingType any() {
    return new EmbeddingType(0);
  }

  /** Embeddings of exactly {@code dimension} values. */
  public static EmbeddingType of(int dimension) {
    if (dimension < 1) {
      throw new IllegalArgumentException("embedding dimension must be >= 1, got " + dimension);
    }
    return new EmbeddingType(dimension);
  }

  /** The fixed dimension, or 0 when any. */
  public int dimension() {
    return dimension;
  }

  @Override
  public String getIdentifier() {
    return IDENTIFIER;
  }

  @Override
  public FieldType getArgumentType() {
    return FieldType.INT32;
  }

  @Override
  @SuppressWarnings("unchecked")
  public Integer getArgument() {
    return dimension;
  }

  @Override
  public FieldType getBaseType() {
    return FieldType.row(BASE_SCHEMA);
  }

  @Override
  public Row toBaseType(Embedding input) {
    check(input);
    List<Float> values = new ArrayList<>(input.dimension());
    for (int i = 0; i < input.dimension(); i++) {
      values.add(input.get(i));
    }
    return Row.withSchema(BASE_SCHEMA).addValues(values, input.modelId().orElse(null)).build();
  }

  @Override
  public Embedding toInputType(Row base) {
    Collection<Float> list = base.getArray("values");
    if (list == null) {
      throw new IllegalArgumentException("embedding values is null");
    }
    float[] values = new float[list.size()];
    int i = 0;
    for (Float f : list) {
      if (f == null) {
        throw new IllegalArgumentException("embedding values[" + i + "] is null");
      }
      values[i++] = f;
    }
    Embedding e = Embedding.of(values, base.getString("model_id"));
    check(e);
    return e;
  }

  /** @throws IllegalArgumentException when a fixed-dimension type gets another dimension */
  public void check(Embedding e) {
    if (dimension != 0 && e.dimension() != dimension) {
      throw new IllegalArgumentException(
          "embedding of dimension " + e.dimension() + " in a column of dimension " + dimension);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof EmbeddingType && ((EmbeddingType) o).dimension == dimension;
  }

  @Override
  public int hashCode() {
    return 31 * IDENTIFIER.hashCode() + dimension;
  }
}
