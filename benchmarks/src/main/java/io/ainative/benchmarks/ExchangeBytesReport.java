package io.ainative.benchmarks;

import io.ainative.multimodal.coders.ImageCoder;
import io.ainative.multimodal.store.LocalObjectStore;
import io.ainative.multimodal.store.OffloadPolicy;
import io.ainative.multimodal.store.Payload;
import io.ainative.multimodal.store.PayloadCoder;
import io.ainative.multimodal.types.Image;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;

/**
 * Counts the bytes serialized when a 1 MiB image passes through a 4-step pipeline, inline and by
 * reference. Exchange bytes are counted on the encoded stream; bytes written to the object store
 * come from the store's own counter ({@code ObjectStoreStats.bytesWritten}, also reported as the
 * Beam metric {@code ainative.object_store/bytes_written}).
 */
final class ExchangeBytesReport {
  private ExchangeBytesReport() {}

  static void print(PrintStream out) throws IOException {
    Image image = Payloads.image(7);
    PayloadCoder<Image> coder = PayloadCoder.of(ImageCoder.of());

    long inlineBytes = 0;
    Payload<Image> p = Payload.inline(image);
    for (int step = 0; step < ExchangeBenchmark.STEPS; step++) {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      coder.encode(p, b);
      inlineBytes += b.size();
      p = coder.decode(new java.io.ByteArrayInputStream(b.toByteArray()));
    }

    long refBytes = 0;
    long storeBytes;
    try (LocalObjectStore store = LocalObjectStore.builder().setJobId("report").build()) {
      Payload<Image> r = OffloadPolicy.defaults().apply(image, ImageCoder.of(), store);
      for (int step = 0; step < ExchangeBenchmark.STEPS; step++) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        coder.encode(r, b);
        refBytes += b.size();
        r = coder.decode(new java.io.ByteArrayInputStream(b.toByteArray()));
      }
      if (!r.resolve(store, ImageCoder.of()).equals(image)) {
        throw new IllegalStateException("the resolved image differs from the original");
      }
      storeBytes = store.stats().bytesWritten();
    }

    out.printf("%nBytes serialized: %s (%,d bytes) through %d exchanges%n",
        image, image.encodedSize(), ExchangeBenchmark.STEPS);
    out.printf("| path | object store writes | exchange bytes | total |%n");
    out.printf("| --- | ---: | ---: | ---: |%n");
    out.printf("| inline | 0 | %,d | %,d |%n", inlineBytes, inlineBytes);
    out.printf("| by reference | %,d | %,d | %,d |%n", storeBytes, refBytes, storeBytes + refBytes);
    out.printf("reduction: %.2fx%n", (double) inlineBytes / (storeBytes + refBytes));
  }

  public static void main(String[] args) throws IOException {
    print(System.out);
  }
}
