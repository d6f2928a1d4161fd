package io.ainative.multimodal.store;

import java.nio.charset.StandardCharsets;
import java.time.Instant;

/** The lease file format: the expiry as decimal epoch milliseconds, UTF-8. */
final class Leases {
  private Leases() {}

  static Instant parse(byte[] content, Object where) throws ObjectStoreException {
    String s = new String(content, StandardCharsets.UTF_8).trim();
    try {
      return Instant.ofEpochMilli(Long.parseLong(s));
    } catch (NumberFormatException e) {
      throw new ObjectStoreException("lease " + where + " holds '" + s + "', not epoch millis", e);
    }
  }

  static byte[] format(Instant expiry) {
    return Long.toString(expiry.toEpochMilli()).getBytes(StandardCharsets.UTF_8);
  }
}
