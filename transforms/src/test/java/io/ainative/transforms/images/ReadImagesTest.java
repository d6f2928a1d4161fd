package io.ainative.transforms.images;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.anyOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.instanceOf;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;

import io.ainative.multimodal.coders.ImageCoder;
import io.ainative.multimodal.types.Image;
import io.ainative.multimodal.types.ImageFormat;
import java.io.File;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.io.fs.MetadataCoder;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** {@link ReadImages} on the DirectRunner, over files written in a temporary folder. */
public class ReadImagesTest implements Serializable {
  @Rule public final transient TestPipeline pipeline = TestPipeline.create();
  @Rule public final transient TemporaryFolder tmp = new TemporaryFolder();

  private transient File dir;

  @Before
  public void setUp() throws IOException {
    dir = tmp.newFolder("imgs");
  }

  /** "file PNG 3x5x1": what a test expects of each image read. */
  private static PCollection<String> describe(PCollection<KV<String, Image>> images) {
    return images.apply(
        "Describe" + images.getName(),
        MapElements.into(TypeDescriptors.strings())
            .via(kv -> kv.getKey() + " " + kv.getValue().format() + " " + kv.getValue().height()
                + "x" + kv.getValue().width() + "x" + kv.getValue().channels()));
  }

  private String path(String name) {
    return new File(dir, name).getAbsolutePath();
  }

  private void writeGoodImages() throws IOException {
    TestImageFiles.write(dir, "gray.png", TestImageFiles.solid(3, 5, ImageFormat.PNG, 128));
    TestImageFiles.write(dir, "rgb.png", TestImageFiles.solid(4, 6, ImageFormat.PNG, 1, 2, 3));
    TestImageFiles.write(dir, "rgba.png", TestImageFiles.solid(7, 2, ImageFormat.PNG, 1, 2, 3, 4));
    TestImageFiles.write(dir, "photo.jpg", TestImageFiles.solid(16, 8, ImageFormat.JPEG, 200, 30, 40));
    TestImageFiles.write(dir, "gray.jpeg", TestImageFiles.solid(8, 16, ImageFormat.JPEG, 90));
    // the content decides the format, not the name
    TestImageFiles.write(dir, "jpeg-named.png", TestImageFiles.solid(2, 3, ImageFormat.JPEG, 5, 6, 7));
  }

  private String[] goodDescriptions() {
    return new String[] {
      path("gray.png") + " PNG 3x5x1",
      path("rgb.png") + " PNG 4x6x3",
      path("rgba.png") + " PNG 7x2x4",
      path("photo.jpg") + " JPEG 16x8x3",
      path("gray.jpeg") + " JPEG 8x16x1",
      path("jpeg-named.png") + " JPEG 2x3x3",
    };
  }

  @Test
  public void readsPngAndJpegFiles_keyedByPath_withSizeAndChannelsFromTheirHeaders()
      throws IOException {
    writeGoodImages();

    PCollection<KV<String, Image>> images = pipeline.apply(ReadImages.from(dir + "/*"));

    PAssert.that(describe(images)).containsInAnyOrder(goodDescriptions());
    assertEquals(KvCoder.of(StringUtf8Coder.of(), ImageCoder.of()), images.getCoder());
    pipeline.run();
  }

  @Test
  public void badFiles_goToTheFailureOutput_withFileAndReason_andEveryGoodFileIsRead()
      throws IOException {
    writeGoodImages();
    byte[] png = TestImageFiles.solid(8, 8, ImageFormat.PNG, 10, 20, 30).toByteArray();
    TestImageFiles.write(dir, "truncated.png", Arrays.copyOf(png, png.length - 20));
    byte[] noise = new byte[300];
    new Random(7).nextBytes(noise);
    noise[0] = 0x42; // not a PNG or JPEG magic number by chance
    TestImageFiles.write(dir, "noise.bin", noise);
    TestImageFiles.write(dir, "notes.png", "just text\n".getBytes(StandardCharsets.UTF_8));
    TestImageFiles.write(dir, "anim.gif", "GIF89a....".getBytes(StandardCharsets.US_ASCII));

    WithFailures.Result<PCollection<KV<String, Image>>, ImageReadFailure> result =
        pipeline.apply(ReadImages.from(dir + "/*").withFailures());

    PAssert.that(describe(result.output())).containsInAnyOrder(goodDescriptions());
    PCollection<String> failures =
        result.failures().apply(
            "DescribeFailures",
            MapElements.into(TypeDescriptors.strings())
                .via(f -> f.getFile() + " | " + f.getErrorClass() + " | " + f.getErrorMessage()));
    String truncated = path("truncated.png");
    String noiseFile = path("noise.bin");
    String notes = path("notes.png");
    String gif = path("anim.gif");
    PAssert.that(failures)
        .satisfies(
            all -> {
              Map<String, String> byFile = new TreeMap<>();
              for (String f : all) {
                byFile.put(f.substring(0, f.indexOf(" | ")), f);
              }
              assertEquals(
                  new TreeSet<>(
                      Arrays.asList(truncated, noiseFile, notes, gif)),
                  byFile.keySet());
              assertThat(
                  byFile.get(truncated),
                  allOf(
                      containsString(IllegalArgumentException.class.getName()),
                      containsString("invalid png image"),
                      containsString("truncated")));
              assertThat(
                  byFile.get(noiseFile),
                  allOf(
                      containsString(ImageReadException.class.getName()),
                      containsString("not a PNG or JPEG image: the content starts with 42 ")));
              assertThat(
                  byFile.get(notes),
                  allOf(
                      containsString("not a PNG or JPEG image: the content starts with 6a 75 73 74"),
                      containsString("although the file name says it is one")));
              assertThat(byFile.get(gif), containsString("unsupported image format GIF"));
              return null;
            });
    pipeline.run();
  }

  @Test
  public void withoutAFailureOutput_aBadFileFailsThePipeline_namingTheFileAndTheReason()
      throws IOException {
    writeGoodImages();
    TestImageFiles.write(dir, "notes.png", "just text\n".getBytes(StandardCharsets.UTF_8));
    pipeline.apply(ReadImages.from(dir + "/*"));

    Pipeline.PipelineExecutionException e =
        assertThrows(Pipeline.PipelineExecutionException.class, () -> pipeline.run());

    assertThat(e.getCause(), instanceOf(ImageReadException.class));
    assertThat(
        e.getCause().getMessage(),
        allOf(containsString(path("notes.png")), containsString("not a PNG or JPEG image")));
    assertEquals(path("notes.png"), ((ImageReadException) e.getCause()).getFile());
  }

  @Test
  public void decodeCheck_sendsAnImageWhosePixelsDoNotDecode_toTheFailureOutput()
      throws IOException {
    TestImageFiles.write(dir, "ok.png", TestImageFiles.solid(4, 4, ImageFormat.PNG, 1, 2, 3));
    TestImageFiles.write(
        dir, "bad-pixels.png",
        TestImageFiles.pngWithCorruptPixelData(TestImageFiles.solid(4, 4, ImageFormat.PNG, 1, 2, 3)));

    String badPixels = path("bad-pixels.png");
    WithFailures.Result<PCollection<KV<String, Image>>, ImageReadFailure> checked =
        pipeline.apply("Checked", ReadImages.from(dir + "/*").withDecodeCheck(true).withFailures());
    WithFailures.Result<PCollection<KV<String, Image>>, ImageReadFailure> unchecked =
        pipeline.apply("Unchecked", ReadImages.from(dir + "/*").withFailures());

    PAssert.that(describe(checked.output())).containsInAnyOrder(path("ok.png") + " PNG 4x4x3");
    PAssert.that(
            checked.failures().apply(
                "Reasons",
                MapElements.into(TypeDescriptors.strings())
                    .via(f -> f.getFile() + ": " + f.getErrorMessage())))
        .satisfies(
            reasons -> {
              String only = reasons.iterator().next();
              assertThat(only, allOf(containsString(badPixels), containsString("cannot decode")));
              return null;
            });
    // The header and container are whole, so without the check the file is read.
    PAssert.that(describe(unchecked.output()))
        .containsInAnyOrder(path("ok.png") + " PNG 4x4x3", path("bad-pixels.png") + " PNG 4x4x3");
    PAssert.that(unchecked.failures()).empty();
    pipeline.run();
  }

  @Test
  public void emptyMatch_isAnEmptyOutput_whenAllowed() {
    PCollection<KV<String, Image>> images =
        pipeline.apply(ReadImages.from(dir + "/*.png").withEmptyMatchTreatment(EmptyMatchTreatment.ALLOW));

    PAssert.that(images).empty();
    pipeline.run();
  }

  @Test
  public void emptyMatch_failsThePipeline_byDefault_asFileIOMatchDoes() {
    pipeline.apply(ReadImages.from(dir + "/*.png"));

    Pipeline.PipelineExecutionException e =
        assertThrows(Pipeline.PipelineExecutionException.class, () -> pipeline.run());

    assertThat(e.getMessage(), containsString(dir + "/*.png"));
  }

  @Test
  public void readFiles_readsWhatFileIOMatched() throws IOException {
    TestImageFiles.write(dir, "a.png", TestImageFiles.solid(2, 2, ImageFormat.PNG, 9));
    TestImageFiles.write(dir, "b.jpg", TestImageFiles.solid(8, 8, ImageFormat.JPEG, 9, 9, 9));

    PCollection<KV<String, Image>> images =
        pipeline
            .apply(FileIO.match().filepattern(dir + "/*"))
            .apply(FileIO.readMatches())
            .apply(ReadImages.readFiles());

    PAssert.that(describe(images))
        .containsInAnyOrder(path("a.png") + " PNG 2x2x1", path("b.jpg") + " JPEG 8x8x3");
    pipeline.run();
  }

  @Test
  public void aFileThatCannotBeRead_goesToTheFailureOutput_withTheIoError() throws IOException {
    String missing = path("gone.png"); // matched once, deleted before it is read
    MatchResult.Metadata metadata =
        MatchResult.Metadata.builder()
            .setResourceId(FileSystems.matchNewResource(missing, false))
            .setSizeBytes(100)
            .setIsReadSeekEfficient(true)
            .setLastModifiedMillis(0)
            .build();

    WithFailures.Result<PCollection<KV<String, Image>>, ImageReadFailure> result =
        pipeline
            .apply(Create.of(metadata).withCoder(MetadataCoder.of()))
            .apply(FileIO.readMatches())
            .apply(ReadImages.readFiles().withFailures());

    PAssert.that(result.output()).empty();
    PAssert.that(result.failures())
        .satisfies(
            failures -> {
              ImageReadFailure f = failures.iterator().next();
              assertEquals(missing, f.getFile());
              assertThat(
                  f.getErrorClass(),
                  anyOf(containsString("FileNotFoundException"), containsString("NoSuchFileException")));
              assertThat(f.getErrorMessage(), containsString("cannot read the file"));
              return null;
            });
    pipeline.run();
  }
}
