package io.ainative.multimodal.store;

import io.ainative.multimodal.types.ObjectRef;
import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;

/**
 * What every store shares: SHA-256 addressing, the check on read, counters and Beam metrics, and
 * leases. Subclasses only move bytes. Thread safe when the subclass's storage operations are.
 */
abstract class ContentAddressedStore implements ObjectStore {
  private static final Counter BYTES_WRITTEN = Metrics.counter(METRICS_NAMESPACE, "bytes_written");
  private static final Counter OBJECTS_WRITTEN =
      Metrics.counter(METRICS_NAMESPACE, "objects_written");
  private static final Counter DUPLICATE_PUTS =
      Metrics.counter(METRICS_NAMESPACE, "duplicate_puts");

  private final String jobId;
  private final Duration ttl;
  final Clock clock;
  private final ObjectStoreStats stats = new ObjectStoreStats();

  ContentAddressedStore(String jobId, Duration ttl, Clock clock) {
    if (jobId == null || jobId.isEmpty() || !jobId.matches("[A-Za-z0-9._-]+")) {
      throw new IllegalArgumentException(
          "job id must be non-empty and use only [A-Za-z0-9._-], got '" + jobId + "'");
    }
    if (ttl == null || ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("ttl must be positive, got " + ttl);
    }
    this.jobId = jobId;
    this.ttl = ttl;
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** Whether an object with this digest and size is stored for this job. */
  abstract boolean exists(String sha256Hex, long size) throws IOException;

  /** Stores the object so that readers never see it partially written. */
  abstract void write(String sha256Hex, byte[] bytes) throws IOException;

  /** Reads a stored object of this job; at most {@code ref.size() + 1} bytes need be read. */
  abstract byte[] read(ObjectRef<?> ref) throws IOException;

  /** Where the object is, as put into references. */
  abstract String location(String sha256Hex);

  abstract void writeLease(Instant expiry) throws IOException;

  /** Lease expiry of every job under this store's root. */
  abstract Map<String, Instant> leases() throws IOException;

  abstract void deleteJobObjects(String jobId) throws IOException;

  /** Deletes this job's object {@code sha256Hex}; nothing when it is not there. */
  abstract void deleteObject(String sha256Hex) throws IOException;

  @Override
  public final String jobId() {
    return jobId;
  }

  @Override
  public final <T> ObjectRef<T> put(byte[] bytes, String valueType) throws IOException {
    Objects.requireNonNull(bytes, "bytes");
    byte[] sha = sha256(bytes);
    String hex = HexFormat.of().formatHex(sha);
    if (exists(hex, bytes.length)) {
      stats.recordDuplicate();
      DUPLICATE_PUTS.inc();
    } else {
      write(hex, bytes);
      stats.recordWrite(bytes.length);
      OBJECTS_WRITTEN.inc();
      BYTES_WRITTEN.inc(bytes.length);
    }
    return ObjectRef.of(jobId, sha, bytes.length, valueType, location(hex));
  }

  @Override
  public final byte[] get(ObjectRef<?> ref) throws IOException {
    checkJob(ref);
    byte[] bytes = read(ref);
    if (bytes.length != ref.size()) {
      throw new CorruptObjectException(
          "object " + ref + " is corrupt: stored size " + bytes.length + " != " + ref.size());
    }
    byte[] actual = sha256(bytes);
    if (!MessageDigest.isEqual(actual, ref.sha256())) {
      throw new CorruptObjectException(
          "object "
              + ref
              + " is corrupt: stored bytes have sha256 "
              + HexFormat.of().formatHex(actual));
    }
    stats.recordRead(bytes.length);
    return bytes;
  }

  @Override
  public final boolean contains(ObjectRef<?> ref) throws IOException {
    checkJob(ref);
    return exists(ref.sha256Hex(), ref.size());
  }

  @Override
  public final void delete(ObjectRef<?> ref) throws IOException {
    checkJob(ref);
    deleteObject(ref.sha256Hex());
  }

  private void checkJob(ObjectRef<?> ref) throws ObjectStoreException {
    if (!ref.jobId().equals(jobId)) {
      throw new ObjectStoreException(
          "object " + ref + " belongs to job '" + ref.jobId() + "', this store serves '" + jobId + "'");
    }
  }

  @Override
  public final ObjectStoreStats stats() {
    return stats;
  }

  @Override
  public final void renewLease() throws IOException {
    writeLease(clock.instant().plus(ttl));
  }

  @Override
  public final void deleteJob() throws IOException {
    deleteJobObjects(jobId);
  }

  @Override
  public final List<String> sweepExpiredJobs() throws IOException {
    Instant now = clock.instant();
    List<String> swept = new ArrayList<>();
    for (Map.Entry<String, Instant> lease : leases().entrySet()) {
      if (!lease.getKey().equals(jobId) && lease.getValue().isBefore(now)) {
        deleteJobObjects(lease.getKey());
        swept.add(lease.getKey());
      }
    }
    return swept;
  }

  static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }
}
