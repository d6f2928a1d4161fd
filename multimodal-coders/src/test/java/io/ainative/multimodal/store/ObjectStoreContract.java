package io.ainative.multimodal.store;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.junit.Assert.assertThrows;

import io.ainative.multimodal.coders.ImageCoder;
import io.ainative.multimodal.testing.MutableClock;
import io.ainative.multimodal.testing.TestImages;
import io.ainative.multimodal.types.Image;
import io.ainative.multimodal.types.ImageFormat;
import io.ainative.multimodal.types.ObjectRef;
import java.io.IOException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Test;

/** The behaviour every {@link ObjectStore} implementation must have. */
public abstract class ObjectStoreContract {
  protected final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
  private final List<ObjectStore> opened = new ArrayList<>();

  /** A store for {@code jobId} under a root shared by all stores of one test, TTL one hour. */
  protected abstract ObjectStore newStore(String jobId) throws IOException;

  /** Overwrites the stored bytes of {@code ref} with different bytes of the same length. */
  protected abstract void corrupt(ObjectRef<?> ref) throws IOException;

  protected ObjectStore open(String jobId) throws IOException {
    ObjectStore s = newStore(jobId);
    opened.add(s);
    return s;
  }

  @After
  public void closeStores() throws IOException {
    for (ObjectStore s : opened) {
      s.close();
    }
  }

  @Test
  public void put_returnsRefWithSizeAndSha256_andGetReturnsTheBytes() throws Exception {
    ObjectStore store = open("job-1");
    byte[] bytes = "hello, objects".getBytes();
    ObjectRef<byte[]> ref = store.put(bytes, "text");
    assertThat(ref.size(), equalTo((long) bytes.length));
    assertThat(ref.sha256(), equalTo(MessageDigest.getInstance("SHA-256").digest(bytes)));
    assertThat(ref.jobId(), equalTo("job-1"));
    assertThat(ref.valueType(), equalTo("text"));
    assertThat(store.get(ref), equalTo(bytes));
    assertThat(store.contains(ref), equalTo(true));
  }

  @Test
  public void put_sameBytesTwice_storesThemOnce() throws Exception {
    ObjectStore store = open("job-1");
    byte[] bytes = new byte[100_000];
    bytes[7] = 7;
    ObjectRef<byte[]> a = store.put(bytes, "t");
    ObjectRef<byte[]> b = store.put(bytes.clone(), "t");
    assertThat(a, equalTo(b));
    assertThat(store.stats().objectsWritten(), equalTo(1L));
    assertThat(store.stats().bytesWritten(), equalTo(100_000L));
    assertThat(store.stats().duplicatePuts(), equalTo(1L));
  }

  @Test
  public void concurrentPutsOfTheSameBytes_allGetTheSameRef_andTheObjectReadsBack() throws Exception {
    ObjectStore store = open("job-1");
    byte[] bytes = new byte[50_000];
    bytes[1] = 1;
    int threads = 4;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<ObjectRef<byte[]>>> refs = new ArrayList<>();
      for (int t = 0; t < threads * 5; t++) {
        refs.add(
            pool.submit(
                () -> {
                  start.await();
                  return store.<byte[]>put(bytes.clone(), "t");
                }));
      }
      start.countDown();
      ObjectRef<byte[]> first = refs.get(0).get(30, TimeUnit.SECONDS);
      for (Future<ObjectRef<byte[]>> f : refs) {
        assertThat(f.get(30, TimeUnit.SECONDS), equalTo(first));
      }
      assertThat(store.get(first), equalTo(bytes));
      assertThat(
          store.stats().objectsWritten() + store.stats().duplicatePuts(),
          equalTo((long) threads * 5));
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  public void typedPutAndGet_roundTripAnImage() throws Exception {
    ObjectStore store = open("job-1");
    Image image = Image.encode(TestImages.pattern(64, 64, 3, 5), ImageFormat.PNG);
    ObjectRef<Image> ref = store.put(image, ImageCoder.of(), "beam:logical_type:ainative:image:v1");
    assertThat(store.get(ref, ImageCoder.of()), equalTo(image));
  }

  @Test
  public void get_ofMissingObject_throwsNotFound_namingTheRef() throws Exception {
    ObjectStore store = open("job-1");
    ObjectRef<byte[]> real = store.put(new byte[] {1, 2, 3}, "t");
    ObjectRef<byte[]> missing =
        ObjectRef.of("job-1", new byte[32], 3, "t", real.location().replace(real.sha256Hex(), "00".repeat(32)));
    ObjectNotFoundException e =
        assertThrows(ObjectNotFoundException.class, () -> store.get(missing));
    assertThat(e.getMessage(), containsString("sha256=0000000000000000"));
    assertThat(store.contains(missing), equalTo(false));
  }

  @Test
  public void get_ofCorruptObject_throwsCorrupt_namingTheRef() throws Exception {
    ObjectStore store = open("job-1");
    ObjectRef<byte[]> ref = store.put(new byte[4096], "t");
    corrupt(ref);
    CorruptObjectException e = assertThrows(CorruptObjectException.class, () -> store.get(ref));
    assertThat(e.getMessage(), containsString(ref.sha256Hex().substring(0, 16)));
    assertThat(e.getMessage(), containsString("corrupt"));
  }

  @Test
  public void get_ofRefOfAnotherJob_isRejected() throws Exception {
    ObjectStore a = open("job-a");
    ObjectStore b = open("job-b");
    ObjectRef<byte[]> ref = a.put(new byte[] {1}, "t");
    ObjectStoreException e = assertThrows(ObjectStoreException.class, () -> b.get(ref));
    assertThat(e.getMessage(), containsString("belongs to job 'job-a'"));
  }

  @Test
  public void deleteJob_removesItsObjects() throws Exception {
    ObjectStore store = open("job-1");
    ObjectRef<byte[]> ref = store.put(new byte[2048], "t");
    store.deleteJob();
    assertThrows(ObjectNotFoundException.class, () -> store.get(ref));
  }

  @Test
  public void delete_removesThatObjectOnly_andIsQuietWhenItIsGone() throws Exception {
    ObjectStore store = open("job-1");
    ObjectRef<byte[]> gone = store.put(new byte[3000], "t");
    ObjectRef<byte[]> kept = store.put(new byte[] {7, 8, 9}, "t");
    store.delete(gone);
    assertThrows(ObjectNotFoundException.class, () -> store.get(gone));
    assertThat(store.contains(gone), equalTo(false));
    assertThat(store.get(kept).length, equalTo(3));
    store.delete(gone);
    ObjectRef<byte[]> again = store.put(new byte[3000], "t");
    assertThat(store.get(again).length, equalTo(3000));
  }

  @Test
  public void delete_ofRefOfAnotherJob_isRejected_andDeletesNothing() throws Exception {
    ObjectStore a = open("job-a");
    ObjectStore b = open("job-b");
    ObjectRef<byte[]> ref = a.put(new byte[] {1, 2}, "t");
    ObjectStoreException e = assertThrows(ObjectStoreException.class, () -> b.delete(ref));
    assertThat(e.getMessage(), containsString("belongs to job 'job-a'"));
    assertThat(a.get(ref).length, equalTo(2));
  }

  @Test
  public void sweep_deletesJobsWhoseLeaseExpired_andKeepsLiveOnes() throws Exception {
    ObjectStore crashed = open("crashed");
    ObjectStore live = open("live");
    ObjectStore sweeper = open("sweeper");
    ObjectRef<byte[]> lost = crashed.put(new byte[5000], "t");
    ObjectRef<byte[]> kept = live.put(new byte[6000], "t");

    clock.advance(Duration.ofMinutes(30));
    assertThat(sweeper.sweepExpiredJobs(), equalTo(List.of()));

    clock.advance(Duration.ofMinutes(45)); // crashed's lease (1 h) is now expired
    live.renewLease();
    assertThat(sweeper.sweepExpiredJobs(), equalTo(List.of("crashed")));
    assertThrows(ObjectNotFoundException.class, () -> crashed.get(lost));
    assertThat(live.get(kept).length, equalTo(6000));
    assertThat(sweeper.sweepExpiredJobs(), not(org.hamcrest.Matchers.hasItem("live")));
  }
}
