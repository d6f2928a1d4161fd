package io.ainative.runner.translation;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.sameInstance;
import static org.junit.Assert.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.beam.model.fnexecution.v1.BeamFnApi.Elements;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.fn.data.BeamFnDataInboundObserver;
import org.apache.beam.sdk.fn.data.DataEndpoint;
import org.apache.beam.vendor.grpc.v1p60p1.com.google.protobuf.ByteString;
import org.junit.Test;

/**
 * The inbound queue that {@link OutputReadingBundleFactory} puts into Beam's observer: data is
 * decoded when it arrives, however much arrives before anyone waits for the bundle.
 */
public class OutputReadingBundleFactoryTest {
  private static final String OUT = "out";
  private static final String OTHER = "other";

  @Test(timeout = 60_000)
  public void thousandsOfMessages_areDecodedOnArrival_inOrder_andTheBundleCompletesAfterTheMarkers() throws Exception {
    List<Long> received = new ArrayList<>();
    List<String> other = new ArrayList<>();
    BeamFnDataInboundObserver observer =
        BeamFnDataInboundObserver.forConsumers(
            List.of(DataEndpoint.create(OUT, VarLongCoder.of(), received::add), DataEndpoint.create(OTHER, StringUtf8Coder.of(), other::add)),
            List.of());
    OutputReadingBundleFactory.readOnArrival(observer);

    // Beam's own queue holds 100 messages; with nobody taking, the 101st put blocked for ever.
    for (long m = 0; m < 5_000; m++) {
      observer.accept(data(OUT, false, m * 2, m * 2 + 1));
    }
    assertThat(received, hasSize(10_000));
    for (int i = 0; i < received.size(); i++) {
      assertThat(received.get(i), equalTo((long) i));
    }

    // The last message of an output carries data and its marker: the data is read at once, the
    // marker waits for the thread that awaits the bundle.
    observer.accept(data(OUT, true, 10_000L));
    assertThat(received, hasSize(10_001));
    CompletableFuture<Void> awaiting = CompletableFuture.runAsync(() -> {
      try {
        observer.awaitCompletion();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    observer.accept(Elements.newBuilder()
        .addData(Elements.Data.newBuilder().setInstructionId("b").setTransformId(OTHER).setData(encoded(StringUtf8Coder.of(), "last")).setIsLast(true))
        .build());
    awaiting.get(30, TimeUnit.SECONDS);
    assertThat(other, contains("last"));
  }

  @Test(timeout = 60_000)
  public void aDecodingFailure_isThrownByTheWaitingThread_andRefusesLaterMessages_withoutDisturbingOtherBundles() throws Exception {
    List<Long> received = new ArrayList<>();
    BeamFnDataInboundObserver observer =
        BeamFnDataInboundObserver.forConsumers(List.of(DataEndpoint.create(OUT, VarLongCoder.of(), received::add)), List.of());
    OutputReadingBundleFactory.readOnArrival(observer);
    IllegalStateException failure = new IllegalStateException("receiver failed");
    BeamFnDataInboundObserver failing =
        BeamFnDataInboundObserver.forConsumers(
            List.of(DataEndpoint.create(OUT, VarLongCoder.of(), value -> {
              throw failure;
            })),
            List.of());
    OutputReadingBundleFactory.readOnArrival(failing);

    failing.accept(data(OUT, false, 1L));
    // As with Beam's queue, a cancelled queue refuses what comes later, with the cancellation.
    Exception later = assertThrows(Exception.class, () -> failing.accept(data(OUT, true, 2L)));
    assertThat(later, sameInstance(failure));
    Exception thrown = assertThrows(Exception.class, failing::awaitCompletion);
    assertThat(thrown, sameInstance(failure));

    observer.accept(data(OUT, true, 7L));
    observer.awaitCompletion();
    assertThat(received, contains(7L));
  }

  private static Elements data(String transform, boolean last, long... values) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    for (long v : values) {
      VarLongCoder.of().encode(v, bytes);
    }
    return Elements.newBuilder()
        .addData(Elements.Data.newBuilder().setInstructionId("b").setTransformId(transform).setData(ByteString.copyFrom(bytes.toByteArray())).setIsLast(last))
        .build();
  }

  private static <T> ByteString encoded(org.apache.beam.sdk.coders.Coder<T> coder, T value) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    coder.encode(value, bytes);
    return ByteString.copyFrom(bytes.toByteArray());
  }
}
