package io.ainative.multimodal.schemas;

import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.values.Row;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * What the logical types without an argument share: a URN and a fixed row as base type. Two
 * instances of one type are equal (a type is identified by its URN alone).
 */
abstract class FixedRowLogicalType<T> implements Schema.LogicalType<T, Row> {
  private static final long serialVersionUID = 1L;

  private final String identifier;
  private final Schema baseSchema;

  FixedRowLogicalType(String identifier, Schema baseSchema) {
    this.identifier = identifier;
    this.baseSchema = baseSchema;
  }

  @Override
  public final String getIdentifier() {
    return identifier;
  }

  @Override
  public final @Nullable FieldType getArgumentType() {
    return null;
  }

  @Override
  public final FieldType getBaseType() {
    return FieldType.row(baseSchema);
  }

  @Override
  public final boolean equals(@Nullable Object o) {
    return o != null && o.getClass() == getClass();
  }

  @Override
  public final int hashCode() {
    return identifier.hashCode();
  }
}
