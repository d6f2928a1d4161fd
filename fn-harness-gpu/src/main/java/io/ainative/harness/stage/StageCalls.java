package io.ainative.harness.stage;

import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.util.WindowedValue;

/**
 * The wire of served stages: one unary gRPC method, {@value #METHOD_NAME}, whose request is a batch
 * of the stage's windowed input elements and whose response is every windowed output the stage
 * produced for that batch.
 *
 * <p>A body is a format version byte ({@value #VERSION}), the element count (int, big-endian),
 * then each element encoded by the PCollection's runner-side wire coder (nested context). Status
 * codes: {@code UNAVAILABLE} the instance is loading, draining or broke (not the request's fault:
 * send it elsewhere, uncharged); any other error counts as a failed attempt of the request.
 */
@Internal
public final class StageCalls {
  public static final String SERVICE_NAME = "ainative.ServedStage";
  public static final String METHOD_NAME = SERVICE_NAME + "/Process";
  public static final byte VERSION = 1;

  public static final MethodDescriptor<byte[], byte[]> PROCESS =
      MethodDescriptor.<byte[], byte[]>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName(METHOD_NAME)
          .setRequestMarshaller(new BytesMarshaller())
          .setResponseMarshaller(new BytesMarshaller())
          .build();

  private StageCalls() {}

  public static byte[] encode(List<WindowedValue<Object>> elements, Coder<WindowedValue<Object>> coder) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(VERSION);
      out.writeInt(elements.size());
      for (WindowedValue<Object> e : elements) {
        coder.encode(e, out);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot encode a batch of " + elements.size() + " element(s) with " + coder, e);
    }
    return bytes.toByteArray();
  }

  /** @throws IOException for an unknown version, a truncated body or bytes left over */
  public static List<WindowedValue<Object>> decode(byte[] body, Coder<WindowedValue<Object>> coder) throws IOException {
    ByteArrayInputStream bytes = new ByteArrayInputStream(body);
    DataInputStream in = new DataInputStream(bytes);
    byte version = in.readByte();
    if (version != VERSION) {
      throw new IOException("served-stage body of version " + version + "; this runner reads version " + VERSION);
    }
    int count = in.readInt();
    if (count < 0) {
      throw new IOException("served-stage body with a negative count " + count);
    }
    List<WindowedValue<Object>> elements = new ArrayList<>(Math.min(count, 1 << 16));
    for (int i = 0; i < count; i++) {
      elements.add(coder.decode(in));
    }
    if (bytes.available() > 0) {
      throw new IOException("served-stage body has " + bytes.available() + " byte(s) after its " + count + " element(s)");
    }
    return elements;
  }

  private static final class BytesMarshaller implements MethodDescriptor.Marshaller<byte[]> {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read a served-stage message", e);
      }
    }
  }
}
