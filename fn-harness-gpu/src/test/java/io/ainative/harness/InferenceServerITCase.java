package io.ainative.harness;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import com.google.protobuf.ByteString;
import io.ainative.harness.grpc.DrainRequest;
import io.ainative.harness.grpc.Encoding;
import io.ainative.harness.grpc.InferRequest;
import io.ainative.harness.grpc.InferResponse;
import io.ainative.harness.grpc.InferenceServiceGrpc;
import io.ainative.harness.grpc.StatusRequest;
import io.ainative.harness.grpc.StatusResponse;
import io.ainative.harness.testing.FloatArrayCoder;
import io.ainative.harness.testing.ShapeImages;
import io.ainative.harness.testing.ShapesClassifier;
import io.ainative.harness.testing.TestModels;
import io.ainative.multimodal.arrow.ArrowElements;
import io.ainative.transforms.InferenceOptions;
import io.ainative.transforms.ModelSpec;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.memory.RootAllocator;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.util.CoderUtils;
import org.joda.time.Duration;
import org.junit.After;
import org.junit.BeforeClass;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.Parameterized;
import io.ainative.harness.fnapi.HostedModelFnAccess;

/**
 * The gRPC InferenceService in-process, over the real shapes model: each test once with the model
 * copies called directly, once with them in Beam's SDK harness behind the Fn API.
 */
@RunWith(Parameterized.class)
public class InferenceServerITCase {
  @Parameterized.Parameters(name = "{0}")
  public static Object[] executions() {
    return InferenceServer.Execution.values();
  }

  @Parameterized.Parameter public InferenceServer.Execution execution;

  private static final int SIZE = TestModels.SIZE;
  private static final int CHANNELS = TestModels.CHANNELS;
  private static Path modelDir;

  /** Holds the warm-up (and so readiness) until a test releases it. */
  static volatile CountDownLatch warmupGate = new CountDownLatch(0);

  private InferenceServer<float[], Integer> service;
  private Server server;
  private ManagedChannel channel;

  @BeforeClass
  public static void trainOnce() {
    modelDir = TestModels.shapesModelDir();
  }

  @org.junit.Rule public org.junit.rules.TemporaryFolder tmp = new org.junit.rules.TemporaryFolder();

  private void start(InferenceOptions options) throws Exception {
    start(options, null);
  }

  private void start(InferenceOptions options, RequestObjectStore objects) throws Exception {
    float[] blank = new float[CHANNELS * SIZE * SIZE];
    ModelSpec<float[], Integer> spec =
        ShapesClassifier.specBuilder(modelDir, SIZE, CHANNELS)
            .optWarmupInput(
                () -> {
                  try {
                    warmupGate.await();
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                  return blank;
                })
            .build();
    service =
        InferenceServer.loading(
            spec, FloatArrayCoder.of(), VarIntCoder.of(), InferenceServer.Config.of(options).withExecution(execution).withObjectStore(objects));
    String name = InProcessServerBuilder.generateName();
    server = InProcessServerBuilder.forName(name).addService(service).build().start();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  @After
  public void stop() throws Exception {
    warmupGate = new CountDownLatch(0);
    if (channel != null) {
      channel.shutdownNow().awaitTermination(1, TimeUnit.MINUTES);
    }
    if (server != null) {
      server.shutdownNow().awaitTermination(1, TimeUnit.MINUTES);
    }
    if (service != null) {
      service.close();
    }
    // Closing the service ends the harness, which tears down every model copy it set up.
    assertThat("model copies left in the SDK harness", HostedModelFnAccess.live(), org.hamcrest.Matchers.equalTo(0));
  }

  private StatusResponse status() {
    return InferenceServiceGrpc.newBlockingStub(channel).getStatus(StatusRequest.getDefaultInstance());
  }

  /** Sends the requests on one stream and collects the responses by request id. */
  private Map<Long, InferResponse> infer(List<InferRequest> requests) throws Exception {
    Map<Long, InferResponse> responses = new ConcurrentHashMap<>();
    CountDownLatch done = new CountDownLatch(1);
    Throwable[] error = new Throwable[1];
    StreamObserver<InferRequest> out =
        InferenceServiceGrpc.newStub(channel)
            .infer(
                new StreamObserver<InferResponse>() {
                  @Override
                  public void onNext(InferResponse r) {
                    responses.put(r.getRequestId(), r);
                  }

                  @Override
                  public void onError(Throwable t) {
                    error[0] = t;
                    done.countDown();
                  }

                  @Override
                  public void onCompleted() {
                    done.countDown();
                  }
                });
    requests.forEach(out::onNext);
    out.onCompleted();
    assertTrue("stream did not complete", done.await(2, TimeUnit.MINUTES));
    if (error[0] != null) {
      throw new AssertionError("stream failed", error[0]);
    }
    return responses;
  }

  private static InferRequest request(long id, List<float[]> images) throws Exception {
    InferRequest.Builder r = InferRequest.newBuilder().setRequestId(id).setEncoding(Encoding.BEAM_CODER);
    for (float[] image : images) {
      r.addElements(ByteString.copyFrom(CoderUtils.encodeToByteArray(FloatArrayCoder.of(), image)));
    }
    return r.build();
  }

  @Test
  public void notReadyWhileWarmingUp_requestsAreUnavailable_thenReadyAfterWarmup()
      throws Exception {
    warmupGate = new CountDownLatch(1);
    start(InferenceOptions.defaults());
    StatusResponse loading = status();
    assertFalse(loading.getReady());
    InferResponse refused = infer(List.of(request(1, List.of(new float[SIZE * SIZE])))).get(1L);
    assertEquals(Status.Code.UNAVAILABLE.value(), refused.getStatusCode());
    assertThat(refused.getStatusMessage(), containsString("loading"));

    warmupGate.countDown();
    service.ready().get(2, TimeUnit.MINUTES);
    StatusResponse ready = status();
    assertTrue(ready.getReady());
    assertEquals("cpu()", ready.getDevice());
    assertThat(ready.getParameterBytes(), greaterThan(0L));
    assertEquals(modelDir.toString(), ready.getModelUri());
  }

  @Test
  public void requestsFromSeveralStreams_areAnsweredByRequestId_withCorrectLabels()
      throws Exception {
    start(InferenceOptions.defaults().withBatchSize(1, 16).withModelCopies(2));
    service.ready().get(2, TimeUnit.MINUTES);
    List<Thread> clients = new ArrayList<>();
    Map<Long, Boolean> correct = new ConcurrentHashMap<>();
    List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
    for (int c = 0; c < 3; c++) {
      long seed = 300 + c;
      clients.add(
          new Thread(
              () -> {
                try {
                  ShapeImages images = new ShapeImages(SIZE, CHANNELS, seed);
                  List<InferRequest> requests = new ArrayList<>();
                  Map<Long, List<Integer>> labels = new ConcurrentHashMap<>();
                  for (long id = 0; id < 20; id++) {
                    List<float[]> batch = new ArrayList<>();
                    List<Integer> truth = new ArrayList<>();
                    for (int i = 0; i < 5; i++) {
                      ShapeImages.Sample s = images.next();
                      batch.add(s.pixels());
                      truth.add(s.label());
                    }
                    requests.add(request(id, batch));
                    labels.put(id, truth);
                  }
                  Map<Long, InferResponse> responses = infer(requests);
                  assertEquals(20, responses.size());
                  for (Map.Entry<Long, InferResponse> e : responses.entrySet()) {
                    InferResponse r = e.getValue();
                    assertEquals(r.getStatusMessage(), Status.Code.OK.value(), r.getStatusCode());
                    for (int i = 0; i < r.getResultsCount(); i++) {
                      int label =
                          CoderUtils.decodeFromByteArray(
                              VarIntCoder.of(), r.getResults(i).getOutput().toByteArray());
                      correct.put(seed * 1000 + e.getKey() * 10 + i, label == labels.get(e.getKey()).get(i));
                    }
                  }
                } catch (Throwable t) {
                  errors.add(t);
                }
              }));
    }
    clients.forEach(Thread::start);
    for (Thread t : clients) {
      t.join(TimeUnit.MINUTES.toMillis(2));
    }
    assertTrue(errors.toString(), errors.isEmpty());
    assertEquals(300, correct.size());
    long right = correct.values().stream().filter(b -> b).count();
    assertThat(right / 300.0, greaterThanOrEqualTo(0.95));
  }

  @Test
  public void badElementFailsAlone_undecodableBytesAndArrowAreRequestErrors() throws Exception {
    start(InferenceOptions.defaults());
    service.ready().get(2, TimeUnit.MINUTES);
    ShapeImages images = new ShapeImages(SIZE, CHANNELS, 9);
    InferRequest mixed = request(1, List.of(images.next().pixels(), new float[3], images.next().pixels()));
    InferRequest garbage =
        InferRequest.newBuilder()
            .setRequestId(2)
            .setEncoding(Encoding.BEAM_CODER)
            .addElements(ByteString.copyFrom(new byte[] {(byte) 0xff}))
            .build();
    InferRequest arrow = InferRequest.newBuilder().setRequestId(3).setEncoding(Encoding.ARROW_IPC).build();
    Map<Long, InferResponse> r = infer(List.of(mixed, garbage, arrow));

    assertEquals(Status.Code.OK.value(), r.get(1L).getStatusCode());
    assertTrue(r.get(1L).getResults(0).hasOutput());
    assertEquals("pre-process", r.get(1L).getResults(1).getFailure().getStep());
    assertTrue(r.get(1L).getResults(2).hasOutput());
    assertEquals(Status.Code.INVALID_ARGUMENT.value(), r.get(2L).getStatusCode());
    assertThat(r.get(2L).getStatusMessage(), containsString("element 0 cannot be decoded"));
    assertEquals(Status.Code.INVALID_ARGUMENT.value(), r.get(3L).getStatusCode());
    assertThat(r.get(3L).getStatusMessage(), containsString("arrow_batch cannot be read"));
  }

  @Test
  public void arrowRequests_areAnsweredWithAnArrowBatchOfOutputs_andIndexedFailures() throws Exception {
    start(InferenceOptions.defaults());
    service.ready().get(2, TimeUnit.MINUTES);
    ShapeImages images = new ShapeImages(SIZE, CHANNELS, 11);
    List<float[]> inputs = new ArrayList<>();
    List<Integer> truth = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      if (i == 4 || i == 9) {
        inputs.add(new float[5]); // wrong size: fails at pre-process
        truth.add(null);
      } else {
        ShapeImages.Sample sample = images.next();
        inputs.add(sample.pixels());
        truth.add(sample.label());
      }
    }
    try (RootAllocator allocator = new RootAllocator()) {
      InferRequest request =
          InferRequest.newBuilder()
              .setRequestId(7)
              .setEncoding(Encoding.ARROW_IPC)
              .setArrowBatch(ByteString.copyFrom(ArrowElements.of(FloatArrayCoder.of()).encode(inputs, allocator)))
              .build();
      InferResponse r = infer(List.of(request)).get(7L);
      assertEquals(r.getStatusMessage(), Status.Code.OK.value(), r.getStatusCode());
      assertEquals(Encoding.ARROW_IPC, r.getEncoding());
      assertEquals(0, r.getResultsCount());
      assertEquals(2, r.getFailuresCount());
      assertEquals(4, r.getFailures(0).getIndex());
      assertEquals(9, r.getFailures(1).getIndex());
      assertEquals("pre-process", r.getFailures(0).getFailure().getStep());
      List<Integer> labels = ArrowElements.of(VarIntCoder.of()).decode(r.getArrowOutputs().toByteArray(), allocator);
      List<Integer> expected = new ArrayList<>(truth);
      expected.removeIf(java.util.Objects::isNull);
      assertEquals(10, labels.size());
      long right = 0;
      for (int i = 0; i < labels.size(); i++) {
        right += labels.get(i).equals(expected.get(i)) ? 1 : 0;
      }
      assertThat(right, greaterThanOrEqualTo(9L));
      assertEquals(0L, allocator.getAllocatedMemory());
    }
  }

  @Test
  public void referencedElements_areReadFromTheJobsStore_inTheirPlace_andABadReferenceFailsAlone() throws Exception {
    RequestObjectStore objects = new RequestObjectStore(tmp.newFolder("objects").toString(), "job-1");
    start(InferenceOptions.defaults(), objects);
    service.ready().get(2, TimeUnit.MINUTES);
    ShapeImages images = new ShapeImages(SIZE, CHANNELS, 13);
    List<float[]> pixels = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      pixels.add(images.next().pixels());
    }
    io.ainative.multimodal.store.ObjectStore client = objects.writer("client-0");
    io.ainative.multimodal.store.ObjectStore otherJob = new RequestObjectStore(objects.root(), "job-2").writer("client-0");
    ByteString ref1 = refBytes(client.put(pixels.get(1), FloatArrayCoder.of(), "pixels"));
    ByteString ref3 = refBytes(client.put(pixels.get(3), FloatArrayCoder.of(), "pixels"));
    ByteString foreign = refBytes(otherJob.put(pixels.get(0), FloatArrayCoder.of(), "pixels"));
    io.ainative.multimodal.types.ObjectRef<float[]> deleted = client.put(new float[CHANNELS * SIZE * SIZE], FloatArrayCoder.of(), "pixels");
    client.delete(deleted);
    // elements 0..6: inline 0, 2, 4; by reference 1, 3; another job's object 5; a deleted one 6
    List<float[]> inline = List.of(pixels.get(0), pixels.get(2), pixels.get(4));
    List<io.ainative.harness.grpc.IndexedRef> refs =
        List.of(indexed(1, ref1), indexed(3, ref3), indexed(5, foreign), indexed(6, refBytes(deleted)));
    InferRequest coded = request(1, inline).toBuilder().addAllRefs(refs).build();
    InferRequest arrow;
    InferRequest allInline = request(3, pixels);
    try (RootAllocator allocator = new RootAllocator()) {
      arrow =
          InferRequest.newBuilder()
              .setRequestId(2)
              .setEncoding(Encoding.ARROW_IPC)
              .setArrowBatch(ByteString.copyFrom(ArrowElements.of(FloatArrayCoder.of()).encode(inline, allocator)))
              .addAllRefs(refs)
              .build();
      InferRequest outOfOrder = request(4, inline).toBuilder().addRefs(indexed(3, ref3)).addRefs(indexed(1, ref1)).build();
      Map<Long, InferResponse> r = infer(List.of(coded, arrow, allInline, outOfOrder));

      List<Integer> expected = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        expected.add(CoderUtils.decodeFromByteArray(VarIntCoder.of(), r.get(3L).getResults(i).getOutput().toByteArray()));
      }
      InferResponse c = r.get(1L);
      assertEquals(c.getStatusMessage(), Status.Code.OK.value(), c.getStatusCode());
      assertEquals(7, c.getResultsCount());
      for (int i = 0; i < 5; i++) {
        assertEquals("element " + i, expected.get(i), CoderUtils.decodeFromByteArray(VarIntCoder.of(), c.getResults(i).getOutput().toByteArray()));
      }
      assertEquals("pre-process", c.getResults(5).getFailure().getStep());
      assertThat(c.getResults(5).getFailure().getMessage(), containsString("outside this job's object store"));
      assertEquals("pre-process", c.getResults(6).getFailure().getStep());
      assertThat(c.getResults(6).getFailure().getMessage(), containsString("not found"));

      InferResponse a = r.get(2L);
      assertEquals(a.getStatusMessage(), Status.Code.OK.value(), a.getStatusCode());
      assertEquals(List.of(5, 6), List.of(a.getFailures(0).getIndex(), a.getFailures(1).getIndex()));
      assertEquals(expected, ArrowElements.of(VarIntCoder.of()).decode(a.getArrowOutputs().toByteArray(), allocator));

      assertEquals(Status.Code.INVALID_ARGUMENT.value(), r.get(4L).getStatusCode());
      assertThat(r.get(4L).getStatusMessage(), containsString("ref indices must ascend"));
    }
  }

  @Test
  public void referencedElement_withoutAnObjectStore_failsAlone() throws Exception {
    RequestObjectStore objects = new RequestObjectStore(tmp.newFolder("objects").toString(), "job-1");
    start(InferenceOptions.defaults());
    service.ready().get(2, TimeUnit.MINUTES);
    float[] pixels = new ShapeImages(SIZE, CHANNELS, 17).next().pixels();
    ByteString ref = refBytes(objects.writer("client-0").put(pixels, FloatArrayCoder.of(), "pixels"));
    InferResponse r = infer(List.of(request(1, List.of(pixels)).toBuilder().addRefs(indexed(1, ref)).build())).get(1L);
    assertEquals(r.getStatusMessage(), Status.Code.OK.value(), r.getStatusCode());
    assertTrue(r.getResults(0).hasOutput());
    assertThat(r.getResults(1).getFailure().getMessage(), containsString("given no object store"));
  }

  private static ByteString refBytes(io.ainative.multimodal.types.ObjectRef<?> ref) throws Exception {
    return ByteString.copyFrom(CoderUtils.encodeToByteArray(io.ainative.multimodal.coders.ObjectRefCoder.of(), ref.cast()));
  }

  private static io.ainative.harness.grpc.IndexedRef indexed(int index, ByteString ref) {
    return io.ainative.harness.grpc.IndexedRef.newBuilder().setIndex(index).setRef(ref).build();
  }

  @Test
  public void aClientThatGoesAway_leavesNoQueuedWork_andItsDroppedElementsAreCounted() throws Exception {
    start(InferenceOptions.defaults().withMaxBatchingDelay(Duration.standardMinutes(10)));
    service.ready().get(2, TimeUnit.MINUTES);
    // with a 10-minute batching delay, the request's three elements stay queued until the client goes
    StreamObserver<InferRequest> out =
        InferenceServiceGrpc.newStub(channel)
            .infer(
                new StreamObserver<InferResponse>() {
                  @Override
                  public void onNext(InferResponse r) {}

                  @Override
                  public void onError(Throwable t) {}

                  @Override
                  public void onCompleted() {}
                });
    ShapeImages images = new ShapeImages(SIZE, CHANNELS, 3);
    out.onNext(request(9, List.of(images.next().pixels(), images.next().pixels(), images.next().pixels())));
    while (status().getQueueDepth() < 3) {
      Thread.onSpinWait();
    }

    out.onError(new IllegalStateException("the client task failed")); // cancels the call

    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    while (status().getCancelledElements() < 3 && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    StatusResponse after = status();
    assertEquals(3, after.getCancelledElements());
    assertEquals(0, after.getQueueDepth());
    assertEquals(0, after.getInFlight());
  }

  @Test
  public void drain_answersAcceptedRequests_thenRefusesNewOnes() throws Exception {
    start(InferenceOptions.defaults().withMaxBatchingDelay(Duration.standardMinutes(10)));
    service.ready().get(2, TimeUnit.MINUTES);
    // with a 10-minute batching delay, this request is still queued when Drain arrives
    CountDownLatch answered = new CountDownLatch(1);
    InferResponse[] early = new InferResponse[1];
    StreamObserver<InferRequest> out =
        InferenceServiceGrpc.newStub(channel)
            .infer(
                new StreamObserver<InferResponse>() {
                  @Override
                  public void onNext(InferResponse r) {
                    early[0] = r;
                    answered.countDown();
                  }

                  @Override
                  public void onError(Throwable t) {}

                  @Override
                  public void onCompleted() {}
                });
    out.onNext(request(7, List.of(new ShapeImages(SIZE, CHANNELS, 1).next().pixels())));
    while (status().getQueueDepth() == 0 && status().getInFlight() == 0) {
      Thread.onSpinWait(); // until the request is queued
    }
    long completed =
        InferenceServiceGrpc.newBlockingStub(channel)
            .drain(DrainRequest.getDefaultInstance())
            .getCompletedRequests();
    assertTrue(answered.await(1, TimeUnit.MINUTES));
    assertEquals(Status.Code.OK.value(), early[0].getStatusCode());
    assertEquals(1, completed);
    StatusResponse drained = status();
    assertTrue(drained.getDraining());
    assertFalse(drained.getReady());
    InferResponse refused = infer(List.of(request(8, List.of(new float[SIZE * SIZE])))).get(8L);
    assertEquals(Status.Code.UNAVAILABLE.value(), refused.getStatusCode());
    out.onCompleted();
  }
}
