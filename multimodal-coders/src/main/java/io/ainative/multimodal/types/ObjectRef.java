package io.ainative.multimodal.types;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * A reference to a value of type {@code T} stored once in an object store
 * ({@code io.ainative.multimodal.store.ObjectStore}) instead of travelling inline.
 *
 * <p>The reference is content-addressed: {@link #sha256()} is the SHA-256 of the stored bytes (the
 * value encoded with its coder), and it is both the address and the checksum that a reader
 * verifies. {@link #size()} is the byte length. {@link #jobId()} scopes the object to the job that
 * wrote it (objects are deleted when that job ends). {@link #location()} is where the bytes are,
 * as a URI string that the store which wrote them understands (a Beam {@code FileSystems} path
 * such as {@code file:///...} or {@code gs://...}, or {@code ainative-local://...} for the
 * in-process store). {@link #valueType()} names what the bytes are (for our types, the logical
 * type URN, e.g. {@code beam:logical_type:ainative:image:v1}).
 *
 * <p>{@code T} is only a compile-time tag: a reference holds no value. Immutable and thread safe.
 *
 * @param <T> the type of the referenced value
 */
public final class ObjectRef<T> {
  /** Length of a SHA-256 digest. */
  public static final int SHA256_BYTES = 32;

  private final String jobId;
  private final byte[] sha256;
  private final long size;
  private final String valueType;
  private final String location;

  private ObjectRef(String jobId, byte[] sha256, long size, String valueType, String location) {
    this.jobId = jobId;
    this.sha256 = sha256;
    this.size = size;
    this.valueType = valueType;
    this.location = location;
  }

  /**
   * A reference.
   *
   * @throws IllegalArgumentException naming the field when the job id or location is empty, the
   *     digest is not 32 bytes, or the size is negative
   */
  public static <T> ObjectRef<T> of(
      String jobId, byte[] sha256, long size, String valueType, String location) {
    requireNonEmpty(jobId, "job_id");
    requireNonEmpty(location, "location");
    Objects.requireNonNull(valueType, "value_type");
    Objects.requireNonNull(sha256, "sha256");
    if (sha256.length != SHA256_BYTES) {
      throw new IllegalArgumentException(
          "object ref sha256 must be " + SHA256_BYTES + " bytes, got " + sha256.length);
    }
    if (size < 0) {
      throw new IllegalArgumentException("object ref size must be >= 0, got " + size);
    }
    return new ObjectRef<>(jobId, sha256.clone(), size, valueType, location);
  }

  private static void requireNonEmpty(String s, String field) {
    if (s == null || s.isEmpty()) {
      throw new IllegalArgumentException("object ref " + field + " must be non-empty");
    }
  }

  public String jobId() {
    return jobId;
  }

  /** A copy of the SHA-256 digest of the stored bytes. */
  public byte[] sha256() {
    return sha256.clone();
  }

  /** The digest as lower-case hex. */
  public String sha256Hex() {
    return HexFormat.of().formatHex(sha256);
  }

  public long size() {
    return size;
  }

  public String valueType() {
    return valueType;
  }

  public String location() {
    return location;
  }

  /** This reference with another compile-time value type (the bytes are unchanged). */
  @SuppressWarnings("unchecked")
  public <U> ObjectRef<U> cast() {
    return (ObjectRef<U>) this;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof ObjectRef)) {
      return false;
    }
    ObjectRef<?> r = (ObjectRef<?>) o;
    return size == r.size
        && Arrays.equals(sha256, r.sha256)
        && jobId.equals(r.jobId)
        && valueType.equals(r.valueType)
        && location.equals(r.location);
  }

  @Override
  public int hashCode() {
    return Objects.hash(jobId, Arrays.hashCode(sha256), size, valueType, location);
  }

  /** Names the reference in error messages: job, digest prefix, size and location. */
  @Override
  public String toString() {
    return "ObjectRef{job="
        + jobId
        + ", sha256="
        + sha256Hex().substring(0, 16)
        + "..., size="
        + size
        + ", type="
        + valueType
        + ", at="
        + location
        + "}";
  }
}
