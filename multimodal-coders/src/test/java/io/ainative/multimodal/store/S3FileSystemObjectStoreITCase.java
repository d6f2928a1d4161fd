package io.ainative.multimodal.store;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.Assert.assertThrows;

import io.ainative.multimodal.testing.PathStyleS3ClientBuilderFactory;
import io.ainative.multimodal.testing.S3Emulator;
import io.ainative.multimodal.types.ObjectRef;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.aws2.options.S3Options;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.AfterClass;
import org.junit.Before;
import org.junit.BeforeClass;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TestName;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Runs the contract on {@code s3://} through Beam's own {@code S3FileSystem} (module {@code
 * beam-sdks-java-io-amazon-web-services2}) and the AWS SDK, against moto's S3 emulator on
 * loopback ({@link S3Emulator}): only the service is emulated. The checks below look at the
 * bucket itself through a separate AWS SDK client, so they see what the store really wrote.
 *
 * <p>Needs {@code -Dainative.python} naming a Python with {@code moto[server]}; skipped without
 * it. Each test has its own root prefix in one bucket.
 */
public class S3FileSystemObjectStoreITCase extends ObjectStoreContract {
  private static final String BUCKET = "ainative-store";
  /** Beam's minimum; objects above it are uploaded in several parts. */
  private static final int UPLOAD_BUFFER_BYTES = 5 * 1024 * 1024;

  private static S3Emulator emulator;
  private static S3Client bucket;

  @Rule public TestName testName = new TestName();
  private String rootKey; // "<test>/", the store root's key prefix

  @BeforeClass
  public static void startEmulator() throws Exception {
    emulator = S3Emulator.start();
    AwsBasicCredentials credentials = AwsBasicCredentials.create("test-key-id", "test-secret");
    S3Options options = PipelineOptionsFactory.as(S3Options.class);
    options.setEndpoint(emulator.endpoint());
    options.setAwsRegion(Region.US_EAST_1);
    options.setAwsCredentialsProvider(StaticCredentialsProvider.create(credentials));
    options.setS3ClientFactoryClass(PathStyleS3ClientBuilderFactory.class);
    options.setS3UploadBufferSizeBytes(UPLOAD_BUFFER_BYTES);
    FileSystems.setDefaultPipelineOptions(options);

    bucket =
        S3Client.builder()
            .endpointOverride(emulator.endpoint())
            .region(Region.US_EAST_1)
            .credentialsProvider(StaticCredentialsProvider.create(credentials))
            .forcePathStyle(true)
            .build();
    bucket.createBucket(b -> b.bucket(BUCKET));
  }

  @AfterClass
  public static void stopEmulator() throws IOException {
    if (bucket != null) {
      bucket.close();
    }
    // Later test classes in this JVM must not reach for a stopped emulator.
    FileSystems.setDefaultPipelineOptions(PipelineOptionsFactory.create());
    if (emulator != null) {
      emulator.close();
    }
  }

  @Before
  public void chooseRoot() {
    rootKey = testName.getMethodName() + "/";
  }

  @Override
  protected ObjectStore newStore(String jobId) throws IOException {
    return FileSystemObjectStore.builder()
        .setRoot("s3://" + BUCKET + "/" + rootKey)
        .setJobId(jobId)
        .optTtl(Duration.ofHours(1))
        .optClock(clock)
        .build();
  }

  @Override
  protected void corrupt(ObjectRef<?> ref) throws IOException {
    byte[] b = readKey(key(ref));
    b[0] ^= 1;
    writeKey(key(ref), b);
  }

  private static String key(ObjectRef<?> ref) {
    String prefix = "s3://" + BUCKET + "/";
    assertThat(ref.location(), startsWith(prefix));
    return ref.location().substring(prefix.length());
  }

  private static byte[] readKey(String key) {
    return bucket.getObjectAsBytes(b -> b.bucket(BUCKET).key(key)).asByteArray();
  }

  private static void writeKey(String key, byte[] bytes) {
    bucket.putObject(b -> b.bucket(BUCKET).key(key), RequestBody.fromBytes(bytes));
  }

  /** Every key under {@code prefix} in the bucket, sorted. */
  private static List<String> keys(String prefix) {
    return bucket.listObjectsV2Paginator(b -> b.bucket(BUCKET).prefix(prefix)).contents().stream()
        .map(S3Object::key)
        .sorted()
        .toList();
  }

  @Test
  public void put_writesOneKeyPerDistinctObject_besidesTheLease_andLeavesNoTemporaryKey()
      throws Exception {
    ObjectStore store = open("job-1");
    byte[] a = "first object".getBytes(StandardCharsets.UTF_8);
    byte[] b = "second object".getBytes(StandardCharsets.UTF_8);
    ObjectRef<byte[]> refA = store.put(a, "t");
    ObjectRef<byte[]> refA2 = store.put(a.clone(), "t");
    ObjectRef<byte[]> refB = store.put(b, "t");

    String job = rootKey + "job-1/";
    assertThat(refA2, equalTo(refA));
    assertThat(key(refA), equalTo(job + "objects/" + refA.sha256Hex()));
    List<String> expected =
        List.of(job + "_lease", key(refA), key(refB)).stream().sorted().toList();
    assertThat(keys(rootKey), equalTo(expected));
    assertThat(readKey(key(refA)), equalTo(a));
    assertThat(readKey(key(refB)), equalTo(b));
    assertThat(store.stats().objectsWritten(), equalTo(2L));
    assertThat(store.stats().duplicatePuts(), equalTo(1L));
  }

  @Test
  public void lease_isAKeyHoldingTheExpiry_andRenewalRewritesIt() throws Exception {
    ObjectStore store = open("job-1");
    String lease = rootKey + "job-1/_lease";
    long expiry = clock.instant().plus(Duration.ofHours(1)).toEpochMilli();
    assertThat(new String(readKey(lease), StandardCharsets.UTF_8), equalTo(Long.toString(expiry)));

    clock.advance(Duration.ofMinutes(10));
    store.renewLease();
    assertThat(
        new String(readKey(lease), StandardCharsets.UTF_8),
        equalTo(Long.toString(expiry + Duration.ofMinutes(10).toMillis())));
    assertThat(keys(rootKey), equalTo(List.of(lease)));
  }

  @Test
  public void put_ofObjectLargerThanTheUploadBuffer_isWrittenInPartsAndReadsBack()
      throws Exception {
    ObjectStore store = open("job-1");
    byte[] bytes = new byte[2 * UPLOAD_BUFFER_BYTES + 12345];
    new Random(7).nextBytes(bytes);
    ObjectRef<byte[]> ref = store.put(bytes, "t");
    assertThat(readKey(key(ref)), equalTo(bytes));
    assertThat(store.get(ref), equalTo(bytes));
  }

  @Test
  public void get_ofObjectDeletedBehindTheStore_throwsNotFound_namingTheRef() throws Exception {
    ObjectStore store = open("job-1");
    ObjectRef<byte[]> ref = store.put(new byte[] {9, 8, 7}, "t");
    bucket.deleteObject(b -> b.bucket(BUCKET).key(key(ref)));
    ObjectNotFoundException e = assertThrows(ObjectNotFoundException.class, () -> store.get(ref));
    assertThat(e.getMessage(), containsString(ref.sha256Hex().substring(0, 16)));
    assertThat(store.contains(ref), equalTo(false));
  }

  @Test
  public void get_ofTruncatedObject_throwsCorrupt_namingTheRefAndSize() throws Exception {
    ObjectStore store = open("job-1");
    ObjectRef<byte[]> ref = store.put(new byte[1000], "t");
    writeKey(key(ref), new byte[999]);
    CorruptObjectException e = assertThrows(CorruptObjectException.class, () -> store.get(ref));
    assertThat(e.getMessage(), containsString(ref.sha256Hex().substring(0, 16)));
    assertThat(e.getMessage(), containsString("stored size 999 != 1000"));
  }

  @Test
  public void deleteJob_removesEveryKeyOfTheJob_leftoverTemporariesToo_andNoKeyOfAnotherJob()
      throws Exception {
    ObjectStore ending = open("ending");
    ObjectStore other = open("other");
    ObjectRef<byte[]> first = ending.put(new byte[3000], "t");
    ending.put(new byte[3001], "t");
    // what a writer that died between the upload and the rename leaves
    writeKey(key(first) + ".tmp-0b6f", new byte[10]);
    writeKey(rootKey + "ending/_lease.tmp-5d1e", new byte[10]);
    ObjectRef<byte[]> kept = other.put(new byte[3002], "t");
    List<String> otherKeys = keys(rootKey + "other/");
    assertThat(keys(rootKey + "ending/").size(), equalTo(5));

    ending.deleteJob();

    assertThat(keys(rootKey + "ending/"), empty());
    assertThat(keys(rootKey + "other/"), equalTo(otherKeys));
    assertThat(other.get(kept).length, equalTo(3002));
  }

  @Test
  public void sweep_removesEveryKeyOfTheExpiredJob_andKeepsTheLiveJobsKeys() throws Exception {
    ObjectStore crashed = open("crashed");
    ObjectStore live = open("live");
    ObjectStore sweeper = open("sweeper");
    crashed.put(new byte[100], "t");
    live.put(new byte[200], "t");

    clock.advance(Duration.ofMinutes(75));
    live.renewLease();
    assertThat(sweeper.sweepExpiredJobs(), equalTo(List.of("crashed")));

    assertThat(keys(rootKey + "crashed/"), empty());
    assertThat(keys(rootKey + "live/").size(), equalTo(2));
  }

  @Test
  public void sweepAndDeleteJob_whenTheRootCannotBeListed_fail_namingWhatTheyListed()
      throws Exception {
    String gone = "ainative-gone";
    bucket.createBucket(b -> b.bucket(gone));
    ObjectStore store =
        FileSystemObjectStore.builder()
            .setRoot("s3://" + gone + "/root")
            .setJobId("job-1")
            .optClock(clock)
            .build();
    bucket.deleteObject(b -> b.bucket(gone).key("root/job-1/_lease"));
    bucket.deleteBucket(b -> b.bucket(gone)); // listing it now fails (NoSuchBucket)

    ObjectStoreException sweep =
        assertThrows(ObjectStoreException.class, store::sweepExpiredJobs);
    assertThat(sweep.getMessage(), containsString("listing s3://" + gone + "/root/*/_lease"));
    ObjectStoreException delete = assertThrows(ObjectStoreException.class, store::deleteJob);
    assertThat(delete.getMessage(), containsString("listing s3://" + gone + "/root/job-1/"));
  }

  @Test
  public void refs_resolveFromAnotherStoreInstanceOfTheSameJob() throws Exception {
    ObjectStore writer = open("job-x");
    ObjectRef<byte[]> ref = writer.put(new byte[] {4, 5, 6}, "t");
    assertThat(
        ref.location(),
        equalTo("s3://" + BUCKET + "/" + rootKey + "job-x/objects/" + ref.sha256Hex()));
    ObjectStore reader = open("job-x"); // e.g. in the inference service's process
    assertThat(reader.get(ref), equalTo(new byte[] {4, 5, 6}));
  }
}
