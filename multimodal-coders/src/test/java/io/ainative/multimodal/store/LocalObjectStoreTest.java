package io.ainative.multimodal.store;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.Assert.assertThrows;

import io.ainative.multimodal.types.ObjectRef;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** Runs the contract with everything spilled (memory limit 0), plus memory-specific behaviour. */
public class LocalObjectStoreTest extends ObjectStoreContract {
  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  @Override
  protected ObjectStore newStore(String jobId) throws IOException {
    return LocalObjectStore.builder()
        .setJobId(jobId)
        .optMemoryLimitBytes(0)
        .optSpillDirectory(tmp.getRoot().toPath())
        .optTtl(Duration.ofHours(1))
        .optClock(clock)
        .build();
  }

  @Override
  protected void corrupt(ObjectRef<?> ref) throws IOException {
    Path p = tmp.getRoot().toPath().resolve(ref.jobId()).resolve("objects").resolve(ref.sha256Hex());
    byte[] b = Files.readAllBytes(p);
    b[b.length / 2] ^= 1;
    Files.write(p, b);
  }

  @Test
  public void smallObjects_stayInMemory_andLargeOnesSpill() throws Exception {
    try (LocalObjectStore store =
        LocalObjectStore.builder()
            .setJobId("j")
            .optMemoryLimitBytes(1000)
            .optSpillDirectory(tmp.getRoot().toPath())
            .build()) {
      ObjectRef<byte[]> small = store.put(new byte[600], "t");
      ObjectRef<byte[]> big = store.put(new byte[601], "t");
      assertThat(store.memoryBytes(), equalTo(600L));
      assertThat(Files.exists(tmp.getRoot().toPath().resolve("j/objects/" + big.sha256Hex())), equalTo(true));
      assertThat(Files.exists(tmp.getRoot().toPath().resolve("j/objects/" + small.sha256Hex())), equalTo(false));
      assertThat(store.get(small).length, equalTo(600));
      assertThat(store.get(big).length, equalTo(601));
      assertThat(small.location(), equalTo("ainative-local://j/" + small.sha256Hex()));
    }
    assertThat(Files.exists(tmp.getRoot().toPath().resolve("j")), equalTo(false));
  }

  @Test
  public void get_returnsACopy_soCallersCannotCorruptTheStore() throws Exception {
    try (LocalObjectStore store = LocalObjectStore.builder().setJobId("j").build()) {
      ObjectRef<byte[]> ref = store.put(new byte[] {1, 2, 3}, "t");
      store.get(ref)[0] = 9;
      assertThat(store.get(ref), equalTo(new byte[] {1, 2, 3}));
    }
  }

  @Test
  public void put_beyondMemoryWithoutSpillDirectory_failsNamingTheJob() throws Exception {
    try (LocalObjectStore store =
        LocalObjectStore.builder().setJobId("j").optMemoryLimitBytes(10).build()) {
      ObjectStoreException e =
          assertThrows(ObjectStoreException.class, () -> store.put(new byte[11], "t"));
      assertThat(e.getMessage(), containsString("job 'j'"));
    }
  }

  @Test
  public void builder_rejectsJobIdThatIsNotAPathSegment() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> LocalObjectStore.builder().setJobId("../etc").build());
    assertThat(e.getMessage(), containsString("'../etc'"));
  }
}
