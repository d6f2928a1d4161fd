package io.ainative.harness.fnapi;

import io.ainative.harness.ModelHost;
import io.ainative.transforms.ModelSpec;
import io.ainative.transforms.runtime.BatchListener;
import io.ainative.transforms.runtime.Outcome;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.transforms.DoFn;

/**
 * The inference stage's DoFn, run by the SDK harness: each instance loads its own model copy
 * ({@link ModelHost}) in {@code @Setup}, takes one whole batch per element and returns one whole
 * result (see {@link BatchFrames}), inline or by reference ({@link BatchExchange}); a probe element
 * returns what the copy reports about itself.
 * An element that fails is an outcome; an {@link Error} of the model fails the bundle.
 */
final class HostedModelFn<InputT, OutputT> extends DoFn<byte[], byte[]> {
  private static final long serialVersionUID = 1L;
  /** Model copies set up and not yet torn down in this JVM, by owner (an {@link FnApiModelHosts}). */
  private static final ConcurrentHashMap<String, AtomicInteger> LIVE = new ConcurrentHashMap<>();

  private final ModelSpec<InputT, OutputT> spec;
  private final Coder<InputT> inputCoder;
  private final Coder<OutputT> outputCoder;
  private final ModelHost.Options options;
  private final String owner;
  private transient ModelHost<InputT, OutputT> host;
  private transient String hostId;

  HostedModelFn(
      ModelSpec<InputT, OutputT> spec, Coder<InputT> inputCoder, Coder<OutputT> outputCoder, ModelHost.Options options, String owner) {
    this.owner = owner;
    this.spec = spec;
    this.inputCoder = inputCoder;
    this.outputCoder = outputCoder;
    this.options = options;
  }

  @Setup
  public void setup() throws Exception {
    host = ModelHost.load(spec, options, BatchListener.NONE);
    hostId = UUID.randomUUID().toString();
    live(owner).incrementAndGet();
  }

  @ProcessElement
  public void process(@Element byte[] frame, OutputReceiver<byte[]> out) throws Exception {
    InputStream in = new ByteArrayInputStream(frame);
    int kind = BatchFrames.kind(in);
    if (kind == BatchFrames.PROBE) {
      out.output(
          BatchFrames.hostInfo(
              new BatchFrames.HostInfo(host.loadMillis(), host.warmupMillis(), host.parameterBytes(), host.device().toString(), hostId)));
    } else if (kind == BatchFrames.BATCH) {
      out.output(BatchFrames.outcomes(host.infer(BatchFrames.inputs(in, inputCoder)), outputCoder));
    } else if (kind == BatchFrames.BATCH_REF) {
      long handle = org.apache.beam.sdk.util.VarInt.decodeLong(in);
      BatchExchange.Slot<InputT, OutputT> slot = BatchExchange.get(handle);
      if (slot == null) {
        throw new CoderException("no batch is parked under handle " + handle + " in this JVM (a batch by reference needs the harness in-process)");
      }
      List<Outcome<OutputT>> outcomes = host.infer(slot.inputs);
      slot.answer(outcomes);
      out.output(BatchFrames.answeredRef(handle, outcomes.size()));
    } else {
      throw new CoderException("unknown batch frame kind " + kind);
    }
  }

  /** The copies of {@code owner} set up and not yet torn down. */
  static AtomicInteger live(String owner) {
    return LIVE.computeIfAbsent(owner, o -> new AtomicInteger());
  }

  /** Every copy of this JVM set up and not yet torn down. */
  static int liveInJvm() {
    return LIVE.values().stream().mapToInt(AtomicInteger::get).sum();
  }

  static void forget(String owner) {
    LIVE.remove(owner);
  }

  @Teardown
  public void teardown() {
    if (host != null) {
      host.close();
      host = null;
      live(owner).decrementAndGet();
    }
  }
}
