package io.ainative.multimodal.coders;

import io.ainative.multimodal.internal.Wire;
import io.ainative.multimodal.types.ObjectRef;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.apache.beam.sdk.util.VarInt;

/**
 * Coder for {@link ObjectRef}; it encodes the reference, never the referenced bytes. Wire format
 * version 1:
 *
 * <pre>
 * u8      version = 1
 * string  job id            (string = varint length + UTF-8)
 * bytes   32-byte SHA-256
 * varint  size
 * string  value type
 * string  location
 * </pre>
 *
 * @param <T> the referenced value type (a compile-time tag only)
 */
public final class ObjectRefCoder<T> extends VersionedCoder<ObjectRef<T>> {
  @SuppressWarnings("rawtypes")
  private static final ObjectRefCoder INSTANCE = new ObjectRefCoder();

  private ObjectRefCoder() {
    super("object ref", 1);
  }

  @SuppressWarnings("unchecked")
  public static <T> ObjectRefCoder<T> of() {
    return (ObjectRefCoder<T>) INSTANCE;
  }

  @Override
  void encodeBody(ObjectRef<T> ref, OutputStream out) throws IOException {
    Wire.writeString(ref.jobId(), out);
    out.write(ref.sha256());
    VarInt.encode(ref.size(), out);
    Wire.writeString(ref.valueType(), out);
    Wire.writeString(ref.location(), out);
  }

  @Override
  ObjectRef<T> decodeBody(InputStream in) throws IOException {
    String job = Wire.readString(in, "object_ref.job_id");
    byte[] sha = Wire.readBytes(in, ObjectRef.SHA256_BYTES, "object_ref.sha256");
    long size = Wire.readVarLong(in, "object_ref.size");
    String type = Wire.readString(in, "object_ref.value_type");
    String location = Wire.readString(in, "object_ref.location");
    return ObjectRef.of(job, sha, size, type, location);
  }

  @Override
  long bodySize(ObjectRef<T> ref) {
    return stringSize(ref.jobId())
        + ObjectRef.SHA256_BYTES
        + VarInt.getLength(ref.size())
        + stringSize(ref.valueType())
        + stringSize(ref.location());
  }

  private static long stringSize(String s) {
    int n = s.getBytes(StandardCharsets.UTF_8).length;
    return VarInt.getLength(n) + n;
  }
}
