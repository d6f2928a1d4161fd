package io.ainative.runner.service.client;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.Assert.assertThrows;

import io.ainative.harness.RequestObjectStore;
import io.ainative.multimodal.store.ObjectNotFoundException;
import io.ainative.multimodal.types.ObjectRef;
import io.ainative.runner.options.WireEncoding;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.beam.sdk.coders.ByteArrayCoder;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class OffloaderTest {
  @Rule public final TemporaryFolder temp = new TemporaryFolder();

  private ClientConfig config(RequestObjectStore store, long threshold) {
    return new ClientConfig(
        null, "Classify", "ns", false, null, null, null, null, null, null, null, 64, 0, WireEncoding.AUTO, true, store, threshold);
  }

  private List<String> files(Path root) throws Exception {
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(Files::isRegularFile).map(p -> root.relativize(p).toString()).sorted().collect(Collectors.toList());
    }
  }

  @Test
  public void noObjectStore_meansNoOffloader() throws Exception {
    assertThat(Offloader.open(config(null, 0), 0), nullValue());
  }

  @Test
  public void equalInputs_shareOneObject_deletedAfterTheLastRelease_andTheServiceReadsIt() throws Exception {
    Path root = temp.newFolder("objects").toPath();
    RequestObjectStore store = new RequestObjectStore(root.toString(), "job-7");
    try (Offloader offloader = Offloader.open(config(store, 4), 1)) {
      assertThat(offloader.wants(4), equalTo(false));
      assertThat(offloader.wants(5), equalTo(true));
      assertThat(offloader.wants(-1), equalTo(false));
      byte[] bytes = {1, 2, 3, 4, 5, 6};
      ObjectRef<?> first = offloader.put(bytes, "bytes");
      ObjectRef<?> second = offloader.put(bytes.clone(), "bytes");
      assertThat(second, equalTo(first));
      assertThat(offloader.live(), equalTo(1));
      assertThat(store.reader().read(Offloader.encode(first), ByteArrayCoder.of()), equalTo(bytes));

      offloader.release(first);
      assertThat(store.reader().read(Offloader.encode(first), ByteArrayCoder.of()), equalTo(bytes));
      offloader.release(second);
      assertThat(offloader.live(), equalTo(0));
      assertThrows(ObjectNotFoundException.class, () -> store.reader().read(Offloader.encode(first), ByteArrayCoder.of()));
    }
    assertThat(files(root), equalTo(List.of()));
  }

  @Test
  public void opening_clearsWhatAnEarlierAttemptOfTheSubtaskLeft_andClosingDeletesTheRest() throws Exception {
    Path root = temp.newFolder("objects").toPath();
    RequestObjectStore store = new RequestObjectStore(root.toString(), "job-7");
    Offloader crashed = Offloader.open(config(store, 0), 3);
    ObjectRef<?> left = crashed.put(new byte[] {9, 9, 9}, "bytes");
    Offloader other = Offloader.open(config(store, 0), 4);
    ObjectRef<?> kept = other.put(new byte[] {9, 9, 9}, "bytes");

    try (Offloader restarted = Offloader.open(config(store, 0), 3)) {
      assertThrows(ObjectNotFoundException.class, () -> store.reader().read(Offloader.encode(left), ByteArrayCoder.of()));
      assertThat(store.reader().read(Offloader.encode(kept), ByteArrayCoder.of()).length, equalTo(3));
      restarted.put(new byte[] {1, 1}, "bytes");
    }
    other.close();
    assertThat(files(root), equalTo(List.of()));
  }

  @Test
  public void sizeHint_knowsImagesTensorsAndBytes_only() {
    assertThat(Offloader.sizeHint(new byte[12]), equalTo(12L));
    assertThat(Offloader.sizeHint(io.ainative.multimodal.types.Tensor.ofFloats(new long[] {2, 3}, new float[6])), equalTo(24L));
    assertThat(Offloader.sizeHint("a string"), equalTo(-1L));
  }
}
