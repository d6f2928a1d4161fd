package io.ainative.multimodal.store;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.Assert.assertThrows;

import io.ainative.multimodal.coders.ImageCoder;
import io.ainative.multimodal.testing.TestImages;
import io.ainative.multimodal.types.Image;
import io.ainative.multimodal.types.ImageFormat;
import io.ainative.multimodal.types.ObjectRef;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.util.VarInt;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * What the consumer of a {@link Payload} sees when the referenced object is bad: the exception
 * names the reference (its SHA-256) and, when the bytes are intact but not a valid value, the
 * field that failed. Stored in a {@link FileSystemObjectStore}, as on a cluster.
 */
public class PayloadResolveBadInputTest {
  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  private FileSystemObjectStore store() throws Exception {
    return FileSystemObjectStore.builder()
        .setRoot(tmp.getRoot().toURI().toString())
        .setJobId("job-7")
        .build();
  }

  private static Image bigImage() {
    return Image.encode(TestImages.pattern(700, 700, 3, 3), ImageFormat.PNG);
  }

  @Test
  public void resolve_ofDeletedObject_throwsNotFound_namingTheRef() throws Exception {
    try (FileSystemObjectStore store = store()) {
      Payload<Image> p =
          OffloadPolicy.defaults().withThresholdBytes(1000).apply(bigImage(), ImageCoder.of(), store);
      Files.delete(Path.of(p.ref().location()));
      ObjectNotFoundException e =
          assertThrows(ObjectNotFoundException.class, () -> p.resolve(store, ImageCoder.of()));
      assertThat(e.getMessage(), containsString(p.ref().sha256Hex().substring(0, 16)));
    }
  }

  @Test
  public void resolve_ofObjectWhoseBytesChanged_throwsCorrupt_namingTheRef() throws Exception {
    try (FileSystemObjectStore store = store()) {
      Payload<Image> p =
          OffloadPolicy.defaults().withThresholdBytes(1000).apply(bigImage(), ImageCoder.of(), store);
      Path file = Path.of(p.ref().location());
      byte[] bytes = Files.readAllBytes(file);
      bytes[bytes.length / 2] ^= 0x40;
      Files.write(file, bytes);
      CorruptObjectException e =
          assertThrows(CorruptObjectException.class, () -> p.resolve(store, ImageCoder.of()));
      assertThat(e.getMessage(), containsString(p.ref().sha256Hex().substring(0, 16)));
      assertThat(e.getMessage(), containsString("corrupt"));
    }
  }

  /** Intact bytes (the checksum matches) that hold a truncated image, e.g. from a buggy writer. */
  @Test
  public void resolve_ofIntactObjectHoldingATruncatedImage_namesTheRefAndTheField() throws Exception {
    byte[] png = CoderUtils.encodeToByteArray(ImageCoder.of(), bigImage());
    // re-frame the encoded PNG cut short: version, format, the shorter length, the bytes
    byte[] file = Arrays.copyOfRange(png, 2 + VarInt.getLength(png.length - 2), png.length - 100);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(1);
    out.write(ImageFormat.PNG.code());
    VarInt.encode(file.length, out);
    out.write(file);
    try (FileSystemObjectStore store = store()) {
      ObjectRef<Image> ref = store.put(out.toByteArray(), "beam:logical_type:ainative:image:v1").cast();
      ObjectStoreException e =
          assertThrows(ObjectStoreException.class, () -> Payload.byRef(ref).resolve(store, ImageCoder.of()));
      assertThat(e.getMessage(), containsString("cannot decode"));
      assertThat(e.getMessage(), containsString(ref.sha256Hex().substring(0, 16)));
      assertThat(e.getMessage(), containsString("image.encoded: invalid png image"));
      assertThat(e.getMessage(), containsString("truncated"));
    }
  }
}
