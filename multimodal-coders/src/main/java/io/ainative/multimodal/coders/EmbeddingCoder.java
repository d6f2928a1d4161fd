package io.ainative.multimodal.coders;

import io.ainative.multimodal.internal.Wire;
import io.ainative.multimodal.types.Embedding;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.util.VarInt;

/**
 * Coder for {@link Embedding}. Wire format version 1:
 *
 * <pre>
 * u8      version = 1
 * varint  dimension (>= 1)
 * bytes   dimension x float32, little-endian
 * u8      0 = no model id, 1 = a model id follows
 * [varint length, UTF-8 bytes]  the model id
 * </pre>
 */
public final class EmbeddingCoder extends VersionedCoder<Embedding> {
  /** Largest dimension accepted when decoding. */
  public static final int MAX_DIMENSION = 1 << 26;

  private static final EmbeddingCoder INSTANCE = new EmbeddingCoder();

  private EmbeddingCoder() {
    super("embedding", 1);
  }

  public static EmbeddingCoder of() {
    return INSTANCE;
  }

  @Override
  void encodeBody(Embedding e, OutputStream out) throws IOException {
    VarInt.encode(e.dimension(), out);
    e.writeLittleEndianTo(out);
    if (e.modelId().isPresent()) {
      out.write(1);
      Wire.writeString(e.modelId().get(), out);
    } else {
      out.write(0);
    }
  }

  @Override
  Embedding decodeBody(InputStream in) throws IOException {
    int dim = Wire.readVarInt(in, "embedding.dimension", MAX_DIMENSION);
    if (dim == 0) {
      throw new CoderException("embedding.dimension must be >= 1, got 0");
    }
    byte[] values = Wire.readBytes(in, dim * 4, "embedding.values");
    int flag = Wire.readUnsignedByte(in, "embedding.model_id flag");
    String modelId;
    if (flag == 0) {
      modelId = null;
    } else if (flag == 1) {
      modelId = Wire.readString(in, "embedding.model_id");
    } else {
      throw new CoderException("embedding.model_id flag must be 0 or 1, got " + flag);
    }
    return Embedding.wrapLittleEndian(values, modelId);
  }

  @Override
  long bodySize(Embedding e) {
    long n = VarInt.getLength(e.dimension()) + 4L * e.dimension() + 1;
    if (e.modelId().isPresent()) {
      int len = e.modelId().get().getBytes(StandardCharsets.UTF_8).length;
      n += VarInt.getLength(len) + len;
    }
    return n;
  }
}
