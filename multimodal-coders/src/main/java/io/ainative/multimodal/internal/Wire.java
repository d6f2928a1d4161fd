package io.ainative.multimodal.internal;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.util.VarInt;

/**
 * The primitives of ainative's binary wire formats: unsigned LEB128 varints (Beam's {@link VarInt}),
 * length-prefixed UTF-8 strings and length-prefixed byte runs. Every read names the field it reads,
 * so a truncated or corrupt stream fails with a {@link CoderException} that says where.
 *
 * <p>Stateless; safe to call from any thread.
 */
@Internal
public final class Wire {
  /** Byte runs above this are read in chunks, so a corrupt length cannot allocate gigabytes. */
  private static final int DIRECT_READ_LIMIT = 64 << 20;

  private Wire() {}

  public static void writeVarInt(long v, OutputStream out) throws IOException {
    VarInt.encode(v, out);
  }

  public static long readVarLong(InputStream in, String field) throws IOException {
    try {
      return VarInt.decodeLong(in);
    } catch (EOFException e) {
      throw new CoderException("truncated input: no value for " + field, e);
    } catch (IOException e) {
      throw new CoderException("corrupt varint for " + field + ": " + e.getMessage(), e);
    }
  }

  /** Reads a varint that must lie in {@code [0, max]}. */
  public static int readVarInt(InputStream in, String field, int max) throws IOException {
    long v = readVarLong(in, field);
    if (v < 0 || v > max) {
      throw new CoderException(field + " = " + v + " is outside [0, " + max + "]");
    }
    return (int) v;
  }

  public static int readUnsignedByte(InputStream in, String field) throws IOException {
    int b = in.read();
    if (b < 0) {
      throw new CoderException("truncated input: no value for " + field);
    }
    return b;
  }

  public static void writeString(String s, OutputStream out) throws IOException {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    VarInt.encode(b.length, out);
    out.write(b);
  }

  public static String readString(InputStream in, String field) throws IOException {
    int len = readVarInt(in, field + " length", Integer.MAX_VALUE - 8);
    return new String(readBytes(in, len, field), StandardCharsets.UTF_8);
  }

  /** Reads exactly {@code len} bytes. */
  public static byte[] readBytes(InputStream in, int len, String field) throws IOException {
    if (len > DIRECT_READ_LIMIT) {
      byte[] b = in.readNBytes(len);
      if (b.length != len) {
        throw truncated(field, len, b.length);
      }
      return b;
    }
    byte[] b = new byte[len];
    int n = in.readNBytes(b, 0, len);
    if (n != len) {
      throw truncated(field, len, n);
    }
    return b;
  }

  private static CoderException truncated(String field, int expected, int got) {
    return new CoderException(
        "truncated input: " + field + " needs " + expected + " bytes, only " + got + " present");
  }
}
