package io.ainative.multimodal.schemas;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.ainative.multimodal.arrow.ArrowBatch;
import io.ainative.multimodal.arrow.ArrowBatchCodec;
import io.ainative.multimodal.testing.TestImages;
import io.ainative.multimodal.types.Audio;
import io.ainative.multimodal.types.DType;
import io.ainative.multimodal.types.Embedding;
import io.ainative.multimodal.types.Image;
import io.ainative.multimodal.types.ImageFormat;
import io.ainative.multimodal.types.ObjectRef;
import io.ainative.multimodal.types.Tensor;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.schemas.SchemaTranslation;
import org.apache.beam.sdk.values.Row;
import org.junit.Assume;
import org.junit.BeforeClass;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The logical types through real Beam Python (apache-beam 2.62.0) and pyarrow, with no Java class
 * of ours on the Python side: Java writes the portable schema, RowCoder bytes and an Arrow IPC
 * batch; {@code src/test/python/check_interop.py} decodes them with {@code
 * apache_beam.coders.RowCoder} and {@code pyarrow.ipc}, checks every value against plain JSON,
 * and writes rows and a batch of its own, which this test decodes and checks. The Python logical
 * types come from {@code src/main/python/ainative_multimodal} (pure Python).
 *
 * <p>The interpreter is the system property {@code ainative.python} ({@code bin/test} creates
 * {@code .venv} and sets it); without it the test is skipped.
 */
public class BeamPythonInteropITCase {
  private static final Path SCRIPT = Path.of("src/test/python/check_interop.py");
  private static final Path PYTHON_PATH = Path.of("src/main/python");

  static final Schema SCHEMA =
      Schema.builder()
          .addInt64Field("id")
          .addLogicalTypeField("t", TensorType.fixed(DType.FLOAT32, 2, 3))
          .addNullableField("ragged", FieldType.logicalType(TensorType.any()))
          .addLogicalTypeField("image", new ImageType())
          .addLogicalTypeField("audio", new AudioType())
          .addLogicalTypeField("emb", EmbeddingType.of(4))
          .addNullableField("emb_any", FieldType.logicalType(EmbeddingType.any()))
          .addLogicalTypeField("ref", new ObjectRefType())
          .build();

  private static String python;

  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  @BeforeClass
  public static void findPython() {
    python = System.getProperty("ainative.python", "");
    Assume.assumeTrue(
        "set -Dainative.python=PATH to a Python with apache-beam==2.62.0 (bin/test makes .venv)",
        !python.isEmpty() && Files.isExecutable(Path.of(python)));
  }

  /** Row i written by Java; check_interop.py recomputes {@code t} from the same recipe. */
  static Row javaRow(int i) {
    float[] t = new float[6];
    for (int k = 0; k < 6; k++) {
      t[k] = i * 10 + k + 0.25f;
    }
    Tensor ragged;
    if (i == 0) {
      ragged = Tensor.ofLongs(new long[] {2, 1}, i - 5, 1L << 40);
    } else if (i == 1) {
      ragged = null;
    } else {
      ragged = Tensor.of(DType.UINT8, new long[] {3}, new byte[] {0, 127, (byte) 255});
    }
    float[] wave = new float[2 * (i + 2)];
    for (int k = 0; k < wave.length; k++) {
      wave[k] = (float) Math.sin(k + i);
    }
    byte[] sha = new byte[32];
    for (int k = 0; k < 32; k++) {
      sha[k] = (byte) (k * 7 + i);
    }
    return Row.withSchema(SCHEMA)
        .addValues(
            (long) i,
            Tensor.ofFloats(new long[] {2, 3}, t),
            ragged,
            Image.encode(TestImages.pattern(5 + i, 4, 3, i), ImageFormat.PNG),
            Audio.of(16000, 2, wave),
            Embedding.of(new float[] {i, -i, 0.5f, 1e-3f}, i % 2 == 0 ? "m" : null),
            i == 1 ? null : Embedding.of(new float[] {i + 0.5f, -1e10f}),
            ObjectRef.of("job-1", sha, 1000 + i, ImageType.IDENTIFIER, "file:///data/ainative/job-1/objects/x" + i))
        .build();
  }

  /** Row k written by Python, field by field: the recipe of py_row in check_interop.py. */
  private static Map<String, Object> pythonRowWithoutImage(int k) {
    float[] t = new float[6];
    for (int j = 0; j < 6; j++) {
      t[j] = j * (k + 1) - 0.5f;
    }
    float[] emb = {1.5f, -2.0f, 0.0f, k};
    float[] any = new float[k + 1];
    for (int j = 0; j <= k; j++) {
      any[j] = 0.125f * (j + 1);
    }
    byte[] sha = new byte[32];
    for (int j = 0; j < 32; j++) {
      sha[j] = (byte) j;
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", 100L + k);
    m.put("t", Tensor.ofFloats(new long[] {2, 3}, t));
    m.put("ragged", k == 0 ? Tensor.ofLongs(new long[] {1, 3}, k, -k, 7) : null);
    m.put("audio", Audio.of(8000, 2, new float[] {0.5f, -0.5f, 0.25f, k}));
    m.put("emb", Embedding.of(emb, k == 0 ? "py-model" : null));
    m.put("emb_any", Embedding.of(any));
    m.put("ref", ObjectRef.of("py-job", sha, 1234 + k, ImageType.IDENTIFIER, "file:///tmp/py-" + k));
    return m;
  }

  /** check_interop.py's png_rgb(3, 2, seed) pixels: (y * 3 + x) * 20 + c * 5 + seed. */
  private static Tensor pythonPixels(int seed) {
    byte[] px = new byte[2 * 3 * 3];
    for (int y = 0; y < 2; y++) {
      for (int x = 0; x < 3; x++) {
        for (int c = 0; c < 3; c++) {
          px[(y * 3 + x) * 3 + c] = (byte) ((y * 3 + x) * 20 + c * 5 + seed);
        }
      }
    }
    return Tensor.wrap(DType.UINT8, new long[] {2, 3, 3}, ByteBuffer.wrap(px));
  }

  @Test
  public void beamPython_readsAndWritesEveryLogicalType_throughRowCoderAndArrow() throws Exception {
    Path dir = tmp.newFolder("interop").toPath();
    List<Row> rows = List.of(javaRow(0), javaRow(1), javaRow(2));
    writeJavaSide(dir, rows);

    String output = runPython(dir);
    assertThat(output, containsString("PYTHON INTEROP OK: 3 rows and 1 batch read"));

    RowCoder coder = RowCoder.of(SCHEMA);
    for (int k = 0; k < 2; k++) {
      byte[] bytes = Files.readAllBytes(dir.resolve("py-rows-" + k + ".bin"));
      Row row = coder.decode(new ByteArrayInputStream(bytes));
      Map<String, Object> expected = pythonRowWithoutImage(k);
      for (Map.Entry<String, Object> field : expected.entrySet()) {
        assertThat(
            "py-rows-" + k + "." + field.getKey(),
            row.getValue(field.getKey()),
            equalTo(field.getValue()));
      }
      Image image = row.getLogicalTypeValue("image", Image.class);
      assertThat(image.format(), equalTo(ImageFormat.PNG));
      assertThat(image.decode(), equalTo(pythonPixels(k)));
      // and Java's encoding of what it decoded is the bytes Python wrote
      ByteArrayOutputStream again = new ByteArrayOutputStream();
      coder.encode(row, again);
      assertThat("py-rows-" + k + " re-encoded", again.toByteArray(), equalTo(bytes));
    }

    try (BufferAllocator allocator = new RootAllocator();
        ArrowBatch batch =
            ArrowBatchCodec.decode(Files.readAllBytes(dir.resolve("py-batch.arrow")), allocator)) {
      Schema schema = batch.beamSchema();
      assertThat(
          schema.getField("t").getType().getLogicalType(),
          equalTo(TensorType.fixed(DType.FLOAT32, 2, 3)));
      assertThat(schema.getField("image").getType().getLogicalType(), equalTo(new ImageType()));
      assertThat(schema.getField("emb").getType().getLogicalType(), equalTo(EmbeddingType.of(4)));
      List<Row> back = batch.toRows();
      assertThat(back.size(), equalTo(3));
      for (int r = 0; r < 3; r++) {
        float[] t = new float[6];
        for (int k = 0; k < 6; k++) {
          t[k] = r * 100 + k;
        }
        Row row = back.get(r);
        assertThat(row.getValue("t"), equalTo(Tensor.ofFloats(new long[] {2, 3}, t)));
        assertThat(row.getLogicalTypeValue("image", Image.class).decode(), equalTo(pythonPixels(r)));
        assertThat(
            row.getValue("emb"),
            equalTo(Embedding.of(new float[] {r, r + 0.5f, -r, 1f}, r % 2 == 0 ? "py" : null)));
      }
    }
  }

  private static void writeJavaSide(Path dir, List<Row> rows) throws IOException {
    Files.write(dir.resolve("schema.pb"), SchemaTranslation.schemaToProto(SCHEMA, true).toByteArray());
    RowCoder coder = RowCoder.of(SCHEMA);
    List<Object> expected = new ArrayList<>();
    for (int i = 0; i < rows.size(); i++) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      coder.encode(rows.get(i), out);
      Files.write(dir.resolve("rows-" + i + ".bin"), out.toByteArray());
      expected.add(plain(rows.get(i)));
    }
    try (BufferAllocator allocator = new RootAllocator()) {
      Files.write(dir.resolve("batch.arrow"), ArrowBatchCodec.encodeRows(SCHEMA, rows, allocator));
    }
    Map<String, Object> root = new HashMap<>();
    root.put("rows", expected);
    Files.write(dir.resolve("expected.json"), new ObjectMapper().writeValueAsBytes(root));
  }

  /** A row's values in plain JSON terms (bytes as hex or base64), for the Python side. */
  private static Map<String, Object> plain(Row row) {
    HexFormat hex = HexFormat.of();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", row.getInt64("id"));
    m.put("t", plainTensor(row.getLogicalTypeValue("t", Tensor.class)));
    Tensor ragged = row.getLogicalTypeValue("ragged", Tensor.class);
    m.put("ragged", ragged == null ? null : plainTensor(ragged));
    Image image = row.getLogicalTypeValue("image", Image.class);
    m.put(
        "image",
        Map.of(
            "format", image.format().typeName(),
            "b64", Base64.getEncoder().encodeToString(image.toByteArray()),
            "width", image.width(),
            "height", image.height()));
    Audio audio = row.getLogicalTypeValue("audio", Audio.class);
    m.put(
        "audio",
        Map.of(
            "sample_rate", audio.sampleRate(),
            "channels", audio.channels(),
            "hex", hex.formatHex(audio.samples().toByteArray())));
    for (String field : List.of("emb", "emb_any")) {
      Embedding e = row.getLogicalTypeValue(field, Embedding.class);
      if (e == null) {
        m.put(field, null);
      } else {
        Map<String, Object> pe = new HashMap<>();
        pe.put("hex", hex.formatHex(e.toLittleEndianBytes()));
        pe.put("model_id", e.modelId().orElse(null));
        m.put(field, pe);
      }
    }
    ObjectRef<?> ref = row.getLogicalTypeValue("ref", ObjectRef.class);
    m.put(
        "ref",
        Map.of(
            "job_id", ref.jobId(),
            "sha256_hex", ref.sha256Hex(),
            "size", ref.size(),
            "value_type", ref.valueType(),
            "location", ref.location()));
    return m;
  }

  private static Map<String, Object> plainTensor(Tensor t) {
    List<Long> shape = new ArrayList<>();
    for (long d : t.shape()) {
      shape.add(d);
    }
    return Map.of(
        "dtype", t.dtype().typeName(), "shape", shape, "hex", HexFormat.of().formatHex(t.toByteArray()));
  }

  private static String runPython(Path dir) throws IOException, InterruptedException {
    Path log = Files.createTempFile("ainative-interop", ".log");
    ProcessBuilder pb =
        new ProcessBuilder(python, SCRIPT.toString(), dir.toString())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    pb.environment().put("PYTHONPATH", PYTHON_PATH.toAbsolutePath().toString());
    Process process = pb.start();
    if (!process.waitFor(3, TimeUnit.MINUTES)) {
      process.destroyForcibly();
      throw new AssertionError("check_interop.py did not end in 3 minutes:\n" + Files.readString(log));
    }
    String output = Files.readString(log, StandardCharsets.UTF_8);
    Files.deleteIfExists(log);
    assertThat("check_interop.py failed:\n" + output, process.exitValue(), equalTo(0));
    return output;
  }
}
