package io.ainative.benchmarks;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;

/** A byte sink reused across operations, readable without copying; not thread safe. */
final class ReusableOutput extends ByteArrayOutputStream {
  ReusableOutput() {
    super(2 << 20);
  }

  byte[] buffer() {
    return buf;
  }

  ByteArrayInputStream asInput() {
    return new ByteArrayInputStream(buf, 0, count);
  }
}
