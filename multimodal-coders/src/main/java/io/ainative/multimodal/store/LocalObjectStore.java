package io.ainative.multimodal.store;

import io.ainative.multimodal.types.ObjectRef;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The object store of the embedded (single-process) deployment: objects are kept in memory up to
 * a limit and spill to a directory beyond it. References point at {@code
 * ainative-local://<job>/<sha256>} and resolve only in the process that holds this store; use
 * {@link FileSystemObjectStore} when several processes share objects.
 *
 * <p>Spill layout: {@code <spillDir>/<job>/objects/<sha256>} and a lease file {@code
 * <spillDir>/<job>/_lease} (expiry, epoch milliseconds). {@link #close()} deletes the job's
 * objects, memory and spilled files: in one process the store lives exactly as long as the job.
 * Thread safe.
 */
public final class LocalObjectStore extends ContentAddressedStore {
  public static final String SCHEME = "ainative-local";

  /** Memory limit when none is set. */
  public static final long DEFAULT_MEMORY_LIMIT_BYTES = 256L << 20;

  /** TTL when none is set. */
  public static final Duration DEFAULT_TTL = Duration.ofHours(24);

  private final Map<String, byte[]> memory = new ConcurrentHashMap<>();
  private final AtomicLong memoryBytes = new AtomicLong();
  private final long memoryLimitBytes;
  private final Path spillRoot; // null: no spilling

  private LocalObjectStore(Builder b) throws IOException {
    super(b.jobId, b.ttl, b.clock);
    this.memoryLimitBytes = b.memoryLimitBytes;
    this.spillRoot = b.spillDirectory;
    renewLease();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Builds a {@link LocalObjectStore}: {@code set*} is required, {@code opt*} optional. */
  public static final class Builder {
    private String jobId;
    private long memoryLimitBytes = DEFAULT_MEMORY_LIMIT_BYTES;
    private Path spillDirectory;
    private Duration ttl = DEFAULT_TTL;
    private Clock clock = Clock.systemUTC();

    private Builder() {}

    public Builder setJobId(String jobId) {
      this.jobId = jobId;
      return this;
    }

    /** Bytes kept in memory before objects spill (default 256 MiB); 0 spills everything. */
    public Builder optMemoryLimitBytes(long bytes) {
      if (bytes < 0) {
        throw new IllegalArgumentException("memory limit must be >= 0, got " + bytes);
      }
      this.memoryLimitBytes = bytes;
      return this;
    }

    /** Where objects spill; without one, a put beyond the memory limit fails. */
    public Builder optSpillDirectory(Path dir) {
      this.spillDirectory = dir;
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

    /** @throws IOException when the spill directory's lease cannot be written */
    public LocalObjectStore build() throws IOException {
      if (jobId == null) {
        throw new IllegalStateException("LocalObjectStore needs setJobId");
      }
      return new LocalObjectStore(this);
    }
  }

  private Path jobDir(String job) {
    return spillRoot.resolve(job);
  }

  private Path spillFile(String hex) {
    return jobDir(jobId()).resolve("objects").resolve(hex);
  }

  @Override
  boolean exists(String hex, long size) throws IOException {
    byte[] m = memory.get(hex);
    if (m != null) {
      return m.length == size;
    }
    if (spillRoot == null) {
      return false;
    }
    Path p = spillFile(hex);
    return Files.exists(p) && Files.size(p) == size;
  }

  @Override
  void write(String hex, byte[] bytes) throws IOException {
    long after = memoryBytes.addAndGet(bytes.length);
    if (after <= memoryLimitBytes) {
      if (memory.putIfAbsent(hex, bytes) != null) {
        memoryBytes.addAndGet(-bytes.length); // a concurrent put of the same content won
      }
      return;
    }
    memoryBytes.addAndGet(-bytes.length);
    if (spillRoot == null) {
      throw new ObjectStoreException(
          "object of "
              + bytes.length
              + " bytes exceeds the memory limit of "
              + memoryLimitBytes
              + " bytes for job '"
              + jobId()
              + "' and no spill directory is set");
    }
    Path target = spillFile(hex);
    Files.createDirectories(target.getParent());
    Path tmp = target.resolveSibling(hex + ".tmp-" + UUID.randomUUID());
    Files.write(tmp, bytes);
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  @Override
  byte[] read(ObjectRef<?> ref) throws IOException {
    String hex = ref.sha256Hex();
    byte[] m = memory.get(hex);
    if (m != null) {
      return m.clone();
    }
    if (spillRoot != null) {
      try (InputStream in = Files.newInputStream(spillFile(hex))) {
        return in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, ref.size() + 1));
      } catch (NoSuchFileException e) {
        // fall through to not found
      }
    }
    throw new ObjectNotFoundException("object " + ref + " not found in the local store");
  }

  @Override
  String location(String hex) {
    return SCHEME + "://" + jobId() + "/" + hex;
  }

  @Override
  void writeLease(Instant expiry) throws IOException {
    if (spillRoot == null) {
      return; // memory dies with the process; nothing to sweep
    }
    Path lease = jobDir(jobId()).resolve("_lease");
    Files.createDirectories(lease.getParent());
    Path tmp = lease.resolveSibling("_lease.tmp-" + UUID.randomUUID());
    Files.write(tmp, Leases.format(expiry));
    Files.move(tmp, lease, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  @Override
  Map<String, Instant> leases() throws IOException {
    Map<String, Instant> out = new HashMap<>();
    if (spillRoot == null || !Files.isDirectory(spillRoot)) {
      return out;
    }
    try (DirectoryStream<Path> jobs = Files.newDirectoryStream(spillRoot)) {
      for (Path job : jobs) {
        Path lease = job.resolve("_lease");
        if (Files.isRegularFile(lease)) {
          out.put(job.getFileName().toString(), Leases.parse(Files.readAllBytes(lease), lease));
        }
      }
    }
    return out;
  }

  @Override
  void deleteJobObjects(String job) throws IOException {
    if (job.equals(jobId())) {
      memory.clear();
      memoryBytes.set(0);
    }
    if (spillRoot == null || !Files.exists(jobDir(job))) {
      return;
    }
    try (Stream<Path> paths = Files.walk(jobDir(job))) {
      paths.sorted(Comparator.reverseOrder()).forEach(LocalObjectStore::delete);
    } catch (UncheckedIOException e) {
      throw new ObjectStoreException("deleting the objects of job '" + job + "'", e.getCause());
    }
  }

  @Override
  void deleteObject(String hex) throws IOException {
    byte[] m = memory.remove(hex);
    if (m != null) {
      memoryBytes.addAndGet(-m.length);
    }
    if (spillRoot != null) {
      Files.deleteIfExists(spillFile(hex));
    }
  }

  private static void delete(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Bytes currently held in memory. */
  public long memoryBytes() {
    return memoryBytes.get();
  }

  /** Deletes the job's objects (memory and spill files). */
  @Override
  public void close() throws IOException {
    deleteJob();
  }
}
