package io.ainative.multimodal.store;

import io.ainative.multimodal.types.ObjectRef;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.util.CoderUtils;

/**
 * Stores large values once and hands out {@link ObjectRef}s to them.
 *
 * <p><b>Content addressed.</b> An object's address is the SHA-256 of its bytes: putting the same
 * bytes twice stores them once and returns equal references. Every read checks the size and
 * SHA-256 against the reference and fails with {@link CorruptObjectException} on a mismatch, or
 * {@link ObjectNotFoundException} when the object is gone; both name the reference.
 *
 * <p><b>Job scope.</b> A store instance belongs to one job ({@link #jobId()}); its objects live
 * until {@link #deleteJob()} (called when the job ends) or, if the job crashed and never called
 * it, until another store's {@link #sweepExpiredJobs()} finds the job's lease older than its TTL.
 * A running job keeps its lease fresh with {@link #renewLease()}.
 *
 * <p><b>Threads.</b> Implementations are safe for concurrent use. {@link #close()} releases the
 * instance's resources; it does not delete the job's objects (other tasks of the job may still
 * read them) unless the implementation says so.
 */
public interface ObjectStore extends AutoCloseable {
  /**
   * Beam metrics namespace of the stores' counters {@code bytes_written}, {@code objects_written}
   * and {@code duplicate_puts}, reported when a store is used inside a running DoFn.
   */
  String METRICS_NAMESPACE = "ainative.object_store";

  String jobId();

  /**
   * Stores {@code bytes} (not copied; the caller must not modify them afterwards) and returns a
   * reference; if the same bytes are already stored, nothing is written.
   *
   * @param valueType what the bytes are (e.g. a logical type URN), carried in the reference
   */
  <T> ObjectRef<T> put(byte[] bytes, String valueType) throws IOException;

  /**
   * The bytes of a reference, after checking size and SHA-256. The returned array is the
   * caller's.
   *
   * @throws ObjectNotFoundException when the object does not exist
   * @throws CorruptObjectException when the stored bytes do not match the reference
   */
  byte[] get(ObjectRef<?> ref) throws IOException;

  /**
   * Deletes one object of this job, if it is there. Content addressing makes equal bytes one
   * object: a caller that put the same bytes for several uses deletes after the last one.
   *
   * @throws ObjectStoreException when the reference belongs to another job
   */
  void delete(ObjectRef<?> ref) throws IOException;

  /** Whether the object exists (without reading or checking it). */
  boolean contains(ObjectRef<?> ref) throws IOException;

  /** Counters of this instance. */
  ObjectStoreStats stats();

  /** Extends this job's lease to now + TTL. */
  void renewLease() throws IOException;

  /** Deletes every object of this job; later reads of its references fail as not found. */
  void deleteJob() throws IOException;

  /**
   * Deletes the objects of other jobs whose lease has expired (jobs that crashed before {@link
   * #deleteJob()}), and returns their ids.
   */
  List<String> sweepExpiredJobs() throws IOException;

  @Override
  void close() throws IOException;

  /** Encodes {@code value} with {@code coder} (outer context) and stores the bytes. */
  default <T> ObjectRef<T> put(T value, Coder<T> coder, String valueType) throws IOException {
    return put(CoderUtils.encodeToByteArray(coder, value), valueType);
  }

  /**
   * Reads and decodes a referenced value.
   *
   * @throws ObjectStoreException naming the reference when the bytes do not decode
   */
  default <T> T get(ObjectRef<T> ref, Coder<T> coder) throws IOException {
    byte[] bytes = get(ref);
    try {
      return coder.decode(new ByteArrayInputStream(bytes), Coder.Context.OUTER);
    } catch (CoderException | RuntimeException e) {
      throw new ObjectStoreException("cannot decode " + ref + ": " + e.getMessage(), e);
    }
  }
}
