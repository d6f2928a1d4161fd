package io.ainative.multimodal.arrow;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.VectorLoader;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;

/**
 * Encodes one Arrow record batch as an Arrow IPC stream (schema message, one record batch, end
 * of stream) and decodes it back: the transport unit between the pipeline and inference services.
 * The bytes are a plain IPC stream, so {@code pyarrow.ipc.open_stream} reads them; the format
 * version is in the schema metadata ({@value ArrowSchemas#BATCH_VERSION_KEY}), and a stream with
 * another version is rejected. A stream without the key (written by another Arrow producer) is
 * accepted.
 *
 * <p><b>Memory.</b> Encoding reads the caller's root and allocates nothing that outlives the
 * call. Decoding allocates from the caller's allocator into an {@link ArrowBatch} that the caller
 * closes. Stateless and thread safe.
 */
public final class ArrowBatchCodec {
  static {
    FixedShapeTensorType.register();
  }

  private ArrowBatchCodec() {}

  /** Writes {@code root} as an IPC stream to {@code out}; {@code out} is not closed. */
  public static void encode(VectorSchemaRoot root, OutputStream out) throws IOException {
    try (ArrowStreamWriter writer = new ArrowStreamWriter(root, null, Channels.newChannel(out))) {
      writer.start();
      writer.writeBatch();
      writer.end();
    }
  }

  /**
   * The IPC stream as an exactly sized array. The stream is written twice: once to count its
   * bytes (no copying), once into the array, so the data is copied only once.
   */
  public static byte[] encode(VectorSchemaRoot root) throws IOException {
    ByteArraySink counter = ByteArraySink.counting();
    write(root, counter);
    ByteArraySink sink = new ByteArraySink(Math.toIntExact(counter.size()));
    write(root, sink);
    return sink.toByteArray();
  }

  private static void write(VectorSchemaRoot root, ByteArraySink sink) throws IOException {
    try (ArrowStreamWriter writer = new ArrowStreamWriter(root, null, sink)) {
      writer.start();
      writer.writeBatch();
      writer.end();
    }
  }

  /** Converts rows to Arrow and encodes them; all Arrow memory is freed before returning. */
  public static byte[] encodeRows(Schema schema, List<Row> rows, BufferAllocator allocator)
      throws IOException {
    try (VectorSchemaRoot root = ArrowRows.toArrow(schema, rows, allocator)) {
      return encode(root);
    }
  }

  /**
   * Decodes a stream holding exactly one record batch.
   *
   * @throws IOException when the bytes are not an Arrow IPC stream, hold no batch or more than
   *     one, or carry an unknown ainative batch version; no Arrow memory is left allocated then
   */
  public static ArrowBatch decode(InputStream in, BufferAllocator allocator) throws IOException {
    return decode(new ArrowStreamReader(in, allocator), allocator);
  }

  public static ArrowBatch decode(byte[] bytes, BufferAllocator allocator) throws IOException {
    return decode(new ArrowStreamReader(new ByteArraySource(bytes), allocator), allocator);
  }

  private static ArrowBatch decode(ArrowStreamReader streamReader, BufferAllocator allocator)
      throws IOException {
    try (ArrowStreamReader reader = streamReader) {
      VectorSchemaRoot loaded;
      try {
        loaded = reader.getVectorSchemaRoot();
      } catch (RuntimeException e) {
        throw new IOException("invalid Arrow IPC stream: " + e.getMessage(), e);
      }
      String version = loaded.getSchema().getCustomMetadata().get(ArrowSchemas.BATCH_VERSION_KEY);
      if (version != null && !version.equals(ArrowSchemas.BATCH_VERSION)) {
        throw new IOException(
            "unknown ainative Arrow batch version '"
                + version
                + "' (this reader knows "
                + ArrowSchemas.BATCH_VERSION
                + ")");
      }
      if (!reader.loadNextBatch()) {
        throw new IOException("Arrow IPC stream holds no record batch");
      }
      // Share the buffers with a root of our own (reference counted, no copy) so the reader can
      // check that no second batch follows and be closed; the batch then owns the memory alone.
      VectorSchemaRoot root = VectorSchemaRoot.create(loaded.getSchema(), allocator);
      try {
        try (ArrowRecordBatch record = new VectorUnloader(loaded).getRecordBatch()) {
          new VectorLoader(root).load(record);
        }
        if (reader.loadNextBatch()) {
          throw new IOException("Arrow IPC stream holds more than one record batch");
        }
        return new ArrowBatch(root);
      } catch (IOException e) {
        root.close();
        throw e;
      } catch (RuntimeException e) {
        root.close();
        throw new IOException("invalid Arrow IPC stream: " + e.getMessage(), e);
      }
    }
  }

  /** Decodes and copies into rows; all Arrow memory is freed before returning. */
  public static List<Row> decodeRows(byte[] bytes, BufferAllocator allocator) throws IOException {
    try (ArrowBatch batch = decode(bytes, allocator)) {
      return batch.toRows();
    }
  }
}
