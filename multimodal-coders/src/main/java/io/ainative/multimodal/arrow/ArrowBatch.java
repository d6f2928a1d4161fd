package io.ainative.multimodal.arrow;

import java.util.List;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;

/**
 * One decoded Arrow record batch. It owns the Arrow memory of {@link #root()} until {@link
 * #close()}; close it in try-with-resources. Not thread safe.
 */
public final class ArrowBatch implements AutoCloseable {
  private final VectorSchemaRoot root;

  ArrowBatch(VectorSchemaRoot root) {
    this.root = root;
  }

  /** The batch's vectors; valid until {@link #close()}. Do not close the root yourself. */
  public VectorSchemaRoot root() {
    return root;
  }

  public int rowCount() {
    return root.getRowCount();
  }

  /** The Beam schema of the batch, from its Arrow schema and field metadata. */
  public Schema beamSchema() {
    return ArrowSchemas.toBeam(root.getSchema());
  }

  /** Copies the batch into rows that stay valid after {@link #close()}. */
  public List<Row> toRows() {
    return ArrowRows.toRows(root);
  }

  /** Copies the batch into rows of the given schema. */
  public List<Row> toRows(Schema schema) {
    return ArrowRows.toRows(root, schema);
  }

  /** Frees the batch's Arrow memory. */
  @Override
  public void close() {
    root.close();
  }
}
