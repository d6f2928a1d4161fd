package io.ainative.multimodal.store;

import io.ainative.multimodal.types.ObjectRef;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.file.NoSuchFileException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.io.fs.MoveOptions;
import org.apache.beam.sdk.io.fs.ResolveOptions.StandardResolveOptions;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.apache.beam.sdk.util.MimeTypes;

/**
 * An object store on Beam's {@link FileSystems}: any registered scheme works ({@code file://}
 * always; {@code gs://}, {@code s3://}, {@code hdfs://} when their Beam IO module is on the
 * classpath and {@link FileSystems#setDefaultPipelineOptions} has registered it). Every process
 * of a job that can reach the root can resolve the references, so this is the store for
 * clusters.
 *
 * <p>Layout under the root: {@code <job>/objects/<sha256>} and a lease file {@code <job>/_lease}
 * (expiry, epoch milliseconds). Objects are written to a temporary name and renamed, so a reader
 * never sees a partial object. {@link #close()} deletes nothing (other tasks of the job may still
 * read); the job's end calls {@link #deleteJob()}. Thread safe.
 */
public final class FileSystemObjectStore extends ContentAddressedStore {
  private final ResourceId root;
  private final String rootSpec; // with a trailing '/'

  private FileSystemObjectStore(Builder b) throws IOException {
    super(b.jobId, b.ttl, b.clock);
    this.root = FileSystems.matchNewResource(localPathOrUri(b.root), true);
    this.rootSpec = root.toString().endsWith("/") ? root.toString() : root + "/";
    renewLease();
  }

  /**
   * Beam's local file system takes plain paths and {@code file:///} URIs but reads {@code
   * file:/x} (what {@code File.toURI()} gives) as a relative path; pass local roots as paths.
   */
  private static String localPathOrUri(String root) {
    if (root.startsWith("file:")) {
      return java.nio.file.Path.of(java.net.URI.create(root)).toString();
    }
    return root;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Builds a {@link FileSystemObjectStore}: {@code set*} is required, {@code opt*} optional. */
  public static final class Builder {
    private String root;
    private String jobId;
    private Duration ttl = LocalObjectStore.DEFAULT_TTL;
    private Clock clock = Clock.systemUTC();

    private Builder() {}

    /** The root directory, e.g. {@code file:///data/ainative} or {@code gs://bucket/ainative}. */
    public Builder setRoot(String root) {
      this.root = root;
      return this;
    }

    public Builder setJobId(String jobId) {
      this.jobId = jobId;
      return this;
    }

    public Builder optTtl(Duration ttl) {
      this.ttl = ttl;
      return this;
    }

    public Builder optClock(Clock clock) {
      this.clock = clock;
      return this;
    }

    /** @throws IOException when the lease cannot be written under the root */
    public FileSystemObjectStore build() throws IOException {
      if (root == null || root.isEmpty()) {
        throw new IllegalStateException("FileSystemObjectStore needs setRoot");
      }
      if (jobId == null) {
        throw new IllegalStateException("FileSystemObjectStore needs setJobId");
      }
      return new FileSystemObjectStore(this);
    }
  }

  private ResourceId jobDir(String job) {
    return root.resolve(job, StandardResolveOptions.RESOLVE_DIRECTORY);
  }

  private ResourceId object(String hex) {
    return jobDir(jobId())
        .resolve("objects", StandardResolveOptions.RESOLVE_DIRECTORY)
        .resolve(hex, StandardResolveOptions.RESOLVE_FILE);
  }

  @Override
  boolean exists(String hex, long size) throws IOException {
    List<MatchResult.Metadata> m = list(object(hex).toString());
    return !m.isEmpty() && m.get(0).sizeBytes() == size;
  }

  @Override
  void write(String hex, byte[] bytes) throws IOException {
    ResourceId target = object(hex);
    ResourceId tmp =
        target
            .getCurrentDirectory()
            .resolve(hex + ".tmp-" + UUID.randomUUID(), StandardResolveOptions.RESOLVE_FILE);
    writeFully(tmp, bytes);
    FileSystems.rename(List.of(tmp), List.of(target));
  }

  private static void writeFully(ResourceId id, byte[] bytes) throws IOException {
    try (WritableByteChannel out = FileSystems.create(id, MimeTypes.BINARY)) {
      ByteBuffer b = ByteBuffer.wrap(bytes);
      while (b.hasRemaining()) {
        out.write(b);
      }
    }
  }

  /**
   * Opens the resource a match returned, not a new one: a missing file fails to open differently
   * on each file system (the local one throws {@link NoSuchFileException}, S3 an unchecked
   * exception of the AWS SDK), while a match says {@code NOT_FOUND} on all of them. On S3 this
   * costs no extra request: the match's HEAD gives the size, and a resource of known size opens
   * without one.
   */
  @Override
  byte[] read(ObjectRef<?> ref) throws IOException {
    ResourceId id = find(ref).orElseThrow(() -> notFound(ref, null));
    try (InputStream in = Channels.newInputStream(FileSystems.open(id))) {
      return in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, ref.size() + 1));
    } catch (IOException | RuntimeException e) {
      // deleted since the match (deleteJob, a sweep), or the read itself failed
      if (find(ref).isEmpty()) {
        throw notFound(ref, e);
      }
      throw new ObjectStoreException("reading object " + ref + " failed", e);
    }
  }

  /** The stored object of {@code ref} with its size, or empty when there is none. */
  private static Optional<ResourceId> find(ObjectRef<?> ref) throws IOException {
    MatchResult m = FileSystems.match(ref.location(), EmptyMatchTreatment.DISALLOW);
    if (m.status() == MatchResult.Status.NOT_FOUND) {
      return Optional.empty();
    }
    try {
      return Optional.of(m.metadata().get(0).resourceId());
    } catch (IOException e) {
      throw new ObjectStoreException("looking up object " + ref + " failed", e);
    }
  }

  private static ObjectNotFoundException notFound(ObjectRef<?> ref, Throwable cause) {
    return new ObjectNotFoundException("object " + ref + " not found", cause);
  }

  @Override
  String location(String hex) {
    return object(hex).toString();
  }

  @Override
  void writeLease(Instant expiry) throws IOException {
    ResourceId lease = jobDir(jobId()).resolve("_lease", StandardResolveOptions.RESOLVE_FILE);
    ResourceId tmp =
        jobDir(jobId())
            .resolve("_lease.tmp-" + UUID.randomUUID(), StandardResolveOptions.RESOLVE_FILE);
    writeFully(tmp, Leases.format(expiry));
    FileSystems.rename(List.of(tmp), List.of(lease));
  }

  @Override
  Map<String, Instant> leases() throws IOException {
    Map<String, Instant> out = new HashMap<>();
    for (MatchResult.Metadata md : list(rootSpec + "*/_lease")) {
      ResourceId id = md.resourceId();
      String path = id.toString();
      String job = path.substring(rootSpec.length(), path.length() - "/_lease".length());
      try (InputStream in = Channels.newInputStream(FileSystems.open(id))) {
        out.put(job, Leases.parse(in.readNBytes(64), id));
      }
    }
    return out;
  }

  /**
   * The files {@code spec} matches, none when nothing matches. A failed listing throws: were it
   * taken for an empty one (a bucket the credentials may write but not list, say), a sweep would
   * find no expired job and {@code deleteJob} would leave every object behind, both silently.
   */
  private static List<MatchResult.Metadata> list(String spec) throws IOException {
    MatchResult m = FileSystems.match(spec, EmptyMatchTreatment.ALLOW);
    try {
      return m.metadata();
    } catch (IOException e) {
      throw new ObjectStoreException("listing " + spec + " failed", e);
    }
  }

  @Override
  void deleteJobObjects(String job) throws IOException {
    String dir = jobDir(job).toString();
    List<ResourceId> files = new ArrayList<>();
    for (String spec : List.of(dir + "objects/*", dir + "_lease", dir + "_lease.tmp-*")) {
      for (MatchResult.Metadata md : list(spec)) {
        files.add(md.resourceId());
      }
    }
    FileSystems.delete(files, MoveOptions.StandardMoveOptions.IGNORE_MISSING_FILES);
    if ("file".equals(root.getScheme())) {
      // Object stores have no directories; a local file system keeps the empty ones.
      FileSystems.delete(
          List.of(
              jobDir(job).resolve("objects", StandardResolveOptions.RESOLVE_DIRECTORY),
              jobDir(job)),
          MoveOptions.StandardMoveOptions.IGNORE_MISSING_FILES);
    }
  }

  @Override
  void deleteObject(String hex) throws IOException {
    FileSystems.delete(List.of(object(hex)), MoveOptions.StandardMoveOptions.IGNORE_MISSING_FILES);
  }

  /** Releases nothing and deletes nothing; see {@link #deleteJob()}. */
  @Override
  public void close() {}
}
