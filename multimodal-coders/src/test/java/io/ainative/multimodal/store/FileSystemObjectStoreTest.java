package io.ainative.multimodal.store;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;

import io.ainative.multimodal.types.ObjectRef;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** Runs the contract on Beam's local file system ({@code file://}). */
public class FileSystemObjectStoreTest extends ObjectStoreContract {
  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  @Override
  protected ObjectStore newStore(String jobId) throws IOException {
    return FileSystemObjectStore.builder()
        .setRoot(tmp.getRoot().toURI().toString())
        .setJobId(jobId)
        .optTtl(Duration.ofHours(1))
        .optClock(clock)
        .build();
  }

  @Override
  protected void corrupt(ObjectRef<?> ref) throws IOException {
    Path p = Path.of(ref.location());
    byte[] b = Files.readAllBytes(p);
    b[0] ^= 1;
    Files.write(p, b);
  }

  @Test
  public void refs_resolveFromAnotherStoreInstanceOfTheSameJob() throws Exception {
    ObjectStore writer = open("job-x");
    ObjectRef<byte[]> ref = writer.put(new byte[] {4, 5, 6}, "t");
    assertThat(ref.location(), startsWith(tmp.getRoot().getPath() + "/job-x/objects/"));
    ObjectStore reader = open("job-x"); // e.g. in the inference service's process
    assertThat(reader.get(ref), equalTo(new byte[] {4, 5, 6}));
  }
}
