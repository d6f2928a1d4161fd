package io.ainative.harness;

import io.ainative.multimodal.coders.ObjectRefCoder;
import io.ainative.multimodal.store.FileSystemObjectStore;
import io.ainative.multimodal.store.ObjectStore;
import io.ainative.multimodal.store.ObjectStoreException;
import io.ainative.multimodal.types.ObjectRef;
import java.io.IOException;
import java.io.Serializable;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.util.CoderUtils;

/**
 * Where the elements of inference requests that travel by reference lie: a {@link
 * FileSystemObjectStore} root every client and instance of a job can reach (a local directory on
 * the embedded cluster, a shared file system or bucket on a cluster), and the job's prefix of the
 * store's job ids.
 *
 * <p>Each client subtask writes into a namespace of its own ({@link #writer}), so it can delete an
 * object once its element is answered without taking it from another subtask that put the same
 * bytes. A service reads through {@link #reader()}, which refuses a reference outside this job's
 * namespaces or outside the root: a request cannot make the service read any other file.
 * Immutable; travels with the job graph.
 */
public final class RequestObjectStore implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String root;
  private final String jobPrefix;

  /**
   * @param root a Beam {@link FileSystems} path or URI, e.g. {@code /data/ainative-objects} or
   *     {@code s3://bucket/objects}
   * @param jobPrefix what every namespace of this job starts with (unique per job submission)
   */
  public RequestObjectStore(String root, String jobPrefix) {
    if (root == null || root.isBlank()) {
      throw new IllegalArgumentException("the object store root must not be blank");
    }
    if (jobPrefix == null || !jobPrefix.matches("[A-Za-z0-9._-]+")) {
      throw new IllegalArgumentException("the object store job prefix must be letters, digits, '.', '_' or '-', was '" + jobPrefix + "'");
    }
    this.root = root;
    this.jobPrefix = jobPrefix;
  }

  public String root() {
    return root;
  }

  /**
   * The store of one writer's namespace ({@code <jobPrefix>-<namespace>}), e.g. a client subtask.
   * Its objects are deleted by the writer ({@link ObjectStore#delete}, {@link
   * ObjectStore#deleteJob}) or, after a crash, by the lease sweep of a later job.
   */
  public ObjectStore writer(String namespace) throws IOException {
    String ns = namespace.replaceAll("[^A-Za-z0-9._-]", "_");
    return FileSystemObjectStore.builder().setRoot(root).setJobId(jobPrefix + "-" + ns).build();
  }

  /** A reader of this job's referenced elements. */
  public Reader reader() {
    return new Reader();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RequestObjectStore
        && ((RequestObjectStore) o).root.equals(root)
        && ((RequestObjectStore) o).jobPrefix.equals(jobPrefix);
  }

  @Override
  public int hashCode() {
    return Objects.hash(root, jobPrefix);
  }

  @Override
  public String toString() {
    return "RequestObjectStore{root=" + root + ", job=" + jobPrefix + "}";
  }

  /** Reads referenced elements; safe for concurrent use. */
  public final class Reader {
    private final Map<String, ObjectStore> stores = new ConcurrentHashMap<>();
    private final String rootSpec;

    private Reader() {
      String spec = FileSystems.matchNewResource(local(root), true).toString();
      this.rootSpec = spec.endsWith("/") ? spec : spec + "/";
    }

    /**
     * The element {@code refBytes} (an {@link ObjectRefCoder} encoding) refers to, read, checked
     * against its size and SHA-256, and decoded with {@code coder}.
     *
     * @throws IOException naming the reference when it is malformed, outside this job's store,
     *     gone, corrupt, or does not decode
     */
    public <T> T read(byte[] refBytes, Coder<T> coder) throws IOException {
      ObjectRef<T> ref;
      try {
        ref = CoderUtils.decodeFromByteArray(ObjectRefCoder.<T>of(), refBytes);
      } catch (IOException | RuntimeException e) {
        throw new ObjectStoreException("the element's object reference cannot be read: " + e.getMessage(), e);
      }
      // Exactly where this job's store keeps it: no other file can be named.
      String expected = rootSpec + ref.jobId() + "/objects/" + ref.sha256Hex();
      if (!ref.jobId().startsWith(jobPrefix + "-") || ref.jobId().contains("/") || !ref.location().equals(expected)) {
        throw new ObjectStoreException("object " + ref + " is outside this job's object store (" + rootSpec + ", job " + jobPrefix + ")");
      }
      ObjectStore store = stores.get(ref.jobId());
      if (store == null) {
        store = FileSystemObjectStore.builder().setRoot(root).setJobId(ref.jobId()).build();
        ObjectStore raced = stores.putIfAbsent(ref.jobId(), store);
        store = raced != null ? raced : store;
      }
      return store.get(ref, coder);
    }
  }

  private static String local(String root) {
    return root.startsWith("file:") ? java.nio.file.Path.of(java.net.URI.create(root)).toString() : root;
  }
}
