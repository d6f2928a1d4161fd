package io.ainative.runner;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.coders.ByteArrayCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.io.BoundedSource;
import org.apache.beam.sdk.io.Read;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.transforms.Sum;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Duration;
import org.junit.Test;

/**
 * A bounded read of one split that emits 320 MB within one bundle, with the runner's defaults.
 * Beam 2.62's runner side alone queues at most 100 data messages of a bundle and reads them only
 * after the SDK harness answered the bundle, which the harness does only after its output is sent:
 * at the harness's 1 MB messages the read stopped at about 100 MB and the job waited for ever. And
 * a split's records reach the next stage while the split is still being read, rather than all at
 * its end, without a held-back stage holding back the harness's other bundles.
 */
public class LargeBundleOutputITCase {
  private static final int ELEMENTS = 3_200;
  private static final int BYTES = 100_000;

  @Test(timeout = 300_000)
  public void oneSplitEmittingHundredsOfMegabytes_inOneBundle_finishes_andLosesNothing() {
    Pipeline p = pipeline();
    // The reshuffle makes the read's stage send all its records to the runner (a fused combine
    // would otherwise keep them inside the harness).
    PCollection<byte[]> records =
        p.apply(Read.from(new OneSplitSource(ELEMENTS, BYTES))).apply(Reshuffle.viaRandomKey());
    PCollection<Long> indexSum =
        records
            .apply("Index", MapElements.into(TypeDescriptors.longs()).via(r -> checkedIndex(r)))
            .apply(Combine.globally(Sum.ofLongs()));
    PAssert.thatSingleton(indexSum).isEqualTo((long) ELEMENTS * (ELEMENTS - 1) / 2);
    PipelineResult result = p.run();
    assertThat(result.waitUntilFinish(Duration.standardMinutes(4)), equalTo(PipelineResult.State.DONE));
  }

  /** Counted down by the stage after the reshuffle; the source waits on it halfway through its split. */
  private static volatile CountDownLatch downstreamSawRecords;
  /** Counted down by the source further on; the stage after the reshuffle waits on it. */
  private static volatile CountDownLatch readerWentOn;

  @Test(timeout = 300_000)
  public void aSplitsRecords_reachTheNextStage_whileTheSplitIsStillBeingRead_andAHeldBackStageHoldsNoOtherBack() {
    downstreamSawRecords = new CountDownLatch(1);
    readerWentOn = new CountDownLatch(1);
    Pipeline p = pipeline();
    // The reader waits at 100,000 until the next stage saw a record (so records flow while the split
    // is read); the next stage then waits until the reader got to 500,000 (400 MB later, more than the
    // buffers between them and the harness's input queue hold). Meanwhile the next stage
    // takes nothing, so the read's task thread is held back by the buffers between them, and the
    // reader can only go on if the thread reading the harness's data stream, which both stages'
    // bundles share, never waits for the read's task thread.
    int count = 600_000;
    PCollection<Long> indexSum =
        p.apply(Read.from(new OneSplitSource(count, 1_000, 100_000, 500_000)))
            .apply(Reshuffle.viaRandomKey())
            .apply("Index", MapElements.into(TypeDescriptors.longs()).via(r -> {
              downstreamSawRecords.countDown();
              await(readerWentOn, "the reader did not get from record 100,000 to 500,000 while the next stage waited");
              return checkedIndex(r);
            }))
            .apply(Combine.globally(Sum.ofLongs()));
    PAssert.thatSingleton(indexSum).isEqualTo((long) count * (count - 1) / 2);
    PipelineResult result = p.run();
    assertThat(result.waitUntilFinish(Duration.standardMinutes(4)), equalTo(PipelineResult.State.DONE));
  }

  private static void await(CountDownLatch latch, String otherwise) {
    try {
      if (!latch.await(60, TimeUnit.SECONDS)) {
        throw new IllegalStateException("Within 60 s, " + otherwise);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * A pipeline on the embedded cluster with the runner's defaults, parallelism 2, no retries, its
   * stages in the SDK harness: these tests are about the harness's output path (a stage the runner
   * runs itself emits into Flink's buffers and is held back by them like any Flink operator).
   */
  private static Pipeline pipeline() {
    AiNativeFlinkPipelineOptions options = PipelineOptionsFactory.create().as(AiNativeFlinkPipelineOptions.class);
    options.setRunner(AiNativeFlinkRunner.class);
    options.setFlinkMaster("[local]");
    options.setParallelism(2);
    options.setNumberOfExecutionRetries(0);
    options.setInProcessJavaStages(false);
    return Pipeline.create(options);
  }

  /** The record's index, after checking that every byte is what the source wrote. */
  private static long checkedIndex(byte[] record) {
    ByteBuffer buffer = ByteBuffer.wrap(record);
    int index = buffer.getInt();
    for (int i = 4; i < record.length; i++) {
      if (record[i] != (byte) (index + i)) {
        throw new IllegalStateException("Record " + index + " is corrupt at byte " + i);
      }
    }
    return index;
  }

  /** A bounded source that never splits: all its records come from one reader in one bundle. */
  static final class OneSplitSource extends BoundedSource<byte[]> {
    private static final long serialVersionUID = 1L;
    private final int count;
    private final int bytes;

    /** The index at which the reader waits for the next stage to see a record; -1 for none. */
    private final int waitAt;
    /** The index at which the reader lets the next stage go on; -1 for none. */
    private final int releaseAt;

    OneSplitSource(int count, int bytes) {
      this(count, bytes, -1, -1);
    }

    OneSplitSource(int count, int bytes, int waitAt, int releaseAt) {
      this.count = count;
      this.bytes = bytes;
      this.waitAt = waitAt;
      this.releaseAt = releaseAt;
    }

    @Override
    public List<? extends BoundedSource<byte[]>> split(long desiredBundleSizeBytes, PipelineOptions options) {
      return List.of(this);
    }

    @Override
    public long getEstimatedSizeBytes(PipelineOptions options) {
      return (long) count * bytes;
    }

    @Override
    public BoundedReader<byte[]> createReader(PipelineOptions options) {
      return new BoundedReader<>() {
        private int index = -1;

        @Override
        public boolean start() {
          return advance();
        }

        @Override
        public boolean advance() {
          index++;
          if (index == waitAt) {
            await(downstreamSawRecords, "the next stage saw none of this split's first records: the split's output waits for its end");
          }
          if (index == releaseAt) {
            readerWentOn.countDown();
          }
          return index < count;
        }

        @Override
        public byte[] getCurrent() {
          if (index < 0 || index >= count) {
            throw new NoSuchElementException();
          }
          byte[] record = new byte[bytes];
          ByteBuffer.wrap(record).putInt(index);
          for (int i = 4; i < bytes; i++) {
            record[i] = (byte) (index + i);
          }
          return record;
        }

        @Override
        public void close() {}

        @Override
        public BoundedSource<byte[]> getCurrentSource() {
          return OneSplitSource.this;
        }
      };
    }

    @Override
    public Coder<byte[]> getOutputCoder() {
      return ByteArrayCoder.of();
    }
  }
}
