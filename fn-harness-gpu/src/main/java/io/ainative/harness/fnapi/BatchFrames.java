package io.ainative.harness.fnapi;

import io.ainative.harness.HarnessElementException;
import io.ainative.transforms.InferenceStep;
import io.ainative.transforms.runtime.Outcome;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.util.VarInt;

/**
 * The one element of a harness bundle, and its one result: a whole batch each way, so the Fn API
 * costs once per batch. Internal to the service (both ends are this module), but versioned:
 *
 * <pre>
 * request  u8 version=1, u8 kind: 0 = probe (nothing else), 1 = batch: varint n, n elements
 *          (input coder, nested); 2 = batch by reference: varlong handle of a
 *          {@link BatchExchange} slot (harness in this JVM only)
 * result   u8 version=1, u8 kind: 0 = host: varlong load ms, varlong warm-up ms, varlong
 *          parameter bytes, string device, string host id;
 *          1 = outcomes: varint n, per element u8 0 + output (output coder, nested) or
 *          u8 1 + string step (enum name), string error class, string message;
 *          2 = the outcomes are in the slot: varlong handle, varint n
 * </pre>
 */
final class BatchFrames {
  static final int VERSION = 1;
  static final int PROBE = 0;
  static final int BATCH = 1;
  static final int BATCH_REF = 2;
  private static final StringUtf8Coder STRING = StringUtf8Coder.of();

  private BatchFrames() {}

  /** What a harness reports about the model copy that answered a probe. */
  static final class HostInfo {
    final long loadMillis;
    final long warmupMillis;
    final long parameterBytes;
    final String device;
    final String hostId;

    HostInfo(long loadMillis, long warmupMillis, long parameterBytes, String device, String hostId) {
      this.loadMillis = loadMillis;
      this.warmupMillis = warmupMillis;
      this.parameterBytes = parameterBytes;
      this.device = device;
      this.hostId = hostId;
    }
  }

  static byte[] probe() {
    return new byte[] {VERSION, PROBE};
  }

  static <InputT> byte[] batch(List<InputT> inputs, Coder<InputT> coder) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(64 + 64 * inputs.size());
    out.write(VERSION);
    out.write(BATCH);
    VarInt.encode(inputs.size(), out);
    for (InputT input : inputs) {
      coder.encode(input, out, Coder.Context.NESTED);
    }
    return out.toByteArray();
  }

  static byte[] batchRef(long handle) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(12);
    out.write(VERSION);
    out.write(BATCH_REF);
    VarInt.encode(handle, out);
    return out.toByteArray();
  }

  /** The answer to a batch by reference: which slot holds how many outcomes. */
  static byte[] answeredRef(long handle, int outcomes) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(16);
    out.write(VERSION);
    out.write(BATCH_REF);
    VarInt.encode(handle, out);
    VarInt.encode(outcomes, out);
    return out.toByteArray();
  }

  /**
   * Checks that {@code frame} answers the batch in slot {@code handle} with {@code expected}
   * outcomes.
   */
  static void checkAnsweredRef(byte[] frame, long handle, int expected) throws IOException {
    InputStream in = new ByteArrayInputStream(frame);
    expect(kind(in), BATCH_REF);
    long answered = VarInt.decodeLong(in);
    int n = VarInt.decodeInt(in);
    if (answered != handle || n != expected) {
      throw new CoderException("the harness answered slot " + answered + " with " + n + " outcomes; slot " + handle + " holds " + expected + " inputs");
    }
  }

  /** The kind of a request, after checking its version. */
  static int kind(InputStream in) throws IOException {
    int version = in.read();
    if (version != VERSION) {
      throw new CoderException("batch frame version " + version + " is not " + VERSION);
    }
    return in.read();
  }

  static <InputT> List<InputT> inputs(InputStream in, Coder<InputT> coder) throws IOException {
    int n = VarInt.decodeInt(in);
    List<InputT> inputs = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      inputs.add(coder.decode(in, Coder.Context.NESTED));
    }
    return inputs;
  }

  static byte[] hostInfo(HostInfo info) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(VERSION);
    out.write(PROBE);
    VarInt.encode(info.loadMillis, out);
    VarInt.encode(info.warmupMillis, out);
    VarInt.encode(info.parameterBytes, out);
    STRING.encode(info.device, out);
    STRING.encode(info.hostId, out);
    return out.toByteArray();
  }

  static HostInfo readHostInfo(byte[] frame) throws IOException {
    InputStream in = new ByteArrayInputStream(frame);
    expect(kind(in), PROBE);
    return new HostInfo(VarInt.decodeLong(in), VarInt.decodeLong(in), VarInt.decodeLong(in), STRING.decode(in), STRING.decode(in));
  }

  static <OutputT> byte[] outcomes(List<Outcome<OutputT>> outcomes, Coder<OutputT> coder) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(VERSION);
    out.write(BATCH);
    VarInt.encode(outcomes.size(), out);
    for (Outcome<OutputT> outcome : outcomes) {
      if (outcome.isSuccess()) {
        out.write(0);
        coder.encode(outcome.output(), out, Coder.Context.NESTED);
      } else {
        out.write(1);
        STRING.encode(outcome.failedStep().name(), out);
        STRING.encode(HarnessElementException.classOf(outcome.error()), out);
        STRING.encode(String.valueOf(outcome.error().getMessage()), out);
      }
    }
    return out.toByteArray();
  }

  static <OutputT> List<Outcome<OutputT>> readOutcomes(byte[] frame, Coder<OutputT> coder) throws IOException {
    InputStream in = new ByteArrayInputStream(frame);
    expect(kind(in), BATCH);
    int n = VarInt.decodeInt(in);
    List<Outcome<OutputT>> outcomes = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      int tag = in.read();
      if (tag == 0) {
        outcomes.add(Outcome.success(coder.decode(in, Coder.Context.NESTED)));
      } else if (tag == 1) {
        InferenceStep step = InferenceStep.valueOf(STRING.decode(in));
        String errorClass = STRING.decode(in);
        outcomes.add(Outcome.failure(step, new HarnessElementException(errorClass, STRING.decode(in))));
      } else {
        throw new CoderException("outcome " + i + " has tag " + tag + ", expected 0 or 1");
      }
    }
    return outcomes;
  }

  private static void expect(int kind, int expected) throws CoderException {
    if (kind != expected) {
      throw new CoderException("batch frame of kind " + kind + " where kind " + expected + " was expected");
    }
  }
}
