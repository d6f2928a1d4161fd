package io.ainative.runner.jobserver;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;

import io.ainative.harness.testing.ShapeImages;
import io.ainative.harness.testing.ShapesClassifier;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * Beam Python (2.62.0) pipelines that call ainative's RunInference cross-language
 * ({@code python/ainative_beam}) through the job server's expansion service, run on the job server
 * with the model served by RpcOperators. Images (PNG and JPEG) and the model are made here. Needs
 * {@code -Dainative.python}; skipped without it.
 */
public class PythonXlangITCase {

  private static final Path SCRIPT = Path.of("src/test/python/run_inference_xlang.py");
  private static final int IMAGES = 300;
  private static final int BAD = 3;
  private static final long SEED = 7;

  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();

  private static String python;
  private static AiNativeJobServer server;
  private static String jobEndpoint;
  private static String expansionEndpoint;
  private static Path model;

  @BeforeClass
  public static void startServer() throws Exception {
    python = PythonScripts.pythonOrSkip();
    model = ShapesClassifier.trainedModel(Path.of("target/test-models"), 32, 1);
    server = JobServers.onFreePorts(0);
    jobEndpoint = server.start();
    expansionEndpoint = server.getExpansionEndpoint();
  }

  @AfterClass
  public static void stopServer() {
    if (server != null) {
      server.stop();
    }
  }

  /** Writes ID_LABEL.png (every fifth .jpg) and ID_LABEL.f32 per image, and BAD files. */
  private static Path writeImages() throws IOException {
    Path dir = TMP.newFolder("images").toPath();
    ShapeImages images = new ShapeImages(32, 1, SEED);
    for (int i = 0; i < IMAGES; i++) {
      ShapeImages.Sample sample = images.next();
      String stem = String.format("%04d_%d", i, sample.label());
      float[] pixels = sample.pixels();
      BufferedImage image = new BufferedImage(32, 32, BufferedImage.TYPE_BYTE_GRAY);
      for (int y = 0; y < 32; y++) {
        for (int x = 0; x < 32; x++) {
          image.getRaster().setSample(x, y, 0, Math.round(pixels[y * 32 + x] * 255f));
        }
      }
      String format = i % 5 == 0 ? "jpg" : "png";
      if (!ImageIO.write(image, i % 5 == 0 ? "jpeg" : "png", dir.resolve(stem + "." + format).toFile())) {
        throw new IOException("no ImageIO writer for " + format);
      }
      ByteBuffer raw = ByteBuffer.allocate(pixels.length * 4).order(ByteOrder.LITTLE_ENDIAN);
      raw.asFloatBuffer().put(pixels);
      Files.write(dir.resolve(stem + ".f32"), raw.array());
    }
    for (int i = 0; i < BAD; i++) {
      Files.writeString(dir.resolve("bad" + i + ".png"), "not a png " + i);
    }
    return dir;
  }

  @Test
  public void pythonPipeline_classifiesImagesCrossLanguage_servedByRpcOperators() throws Exception {
    Path images = writeImages();
    PythonScripts.Run result =
        PythonScripts.run(
            python, SCRIPT, 240, List.of(jobEndpoint, expansionEndpoint, images.toString(), model.toString(), ShapesArchitecture.NAME));
    String output = result.output;
    assertThat(output, result.exitCode, equalTo(0));
    assertThat(output, containsString("PYTHON XLANG PIPELINE OK"));
    for (String what : List.of("images", "tensors")) {
      Matcher m = Pattern.compile("ACCURACY " + what + " (\\d+) (\\d+)").matcher(output);
      assertThat(output, m.find(), equalTo(true));
      int correct = Integer.parseInt(m.group(1));
      assertThat(what, Integer.parseInt(m.group(2)), equalTo(IMAGES));
      assertThat(what + " accuracy " + correct + "/" + IMAGES, correct * 100, greaterThanOrEqualTo(95 * IMAGES));
    }
    assertThat(output, containsString("FAILURES ['bad0', 'bad1', 'bad2']"));
    assertThat(output, containsString("UNKEYED " + IMAGES));
  }
}
