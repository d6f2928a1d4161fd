package io.ainative.transforms.images;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.junit.Assert.assertEquals;

import io.ainative.multimodal.types.Image;
import io.ainative.multimodal.types.ImageFormat;
import io.ainative.transforms.InferenceFailure;
import io.ainative.transforms.InferenceResult;
import io.ainative.transforms.InferenceStep;
import io.ainative.transforms.ModelSpec;
import io.ainative.transforms.RunInference;
import java.io.File;
import java.io.IOException;
import java.io.Serializable;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * Files to labels on the DirectRunner: ReadImages, then RunInference with ImagePreprocessing and
 * the real PyTorch engine. Every file ends in exactly one place: a label, ReadImages' failures, or
 * RunInference's failures at pre-process.
 */
public class ImageInferencePipelineTest implements Serializable {
  @Rule public final transient TestPipeline pipeline = TestPipeline.create();
  @Rule public final transient TemporaryFolder tmp = new TemporaryFolder();

  @Test
  public void imageFiles_areLabelledByFileName_andBadFilesReachAFailureOutput() throws IOException {
    File dir = tmp.newFolder("imgs");
    TestImageFiles.write(dir, "red.png", TestImageFiles.solid(4, 4, ImageFormat.PNG, 250, 10, 10));
    TestImageFiles.write(dir, "green.jpg", TestImageFiles.solid(4, 4, ImageFormat.JPEG, 10, 250, 10));
    TestImageFiles.write(dir, "blue.png", TestImageFiles.solid(4, 4, ImageFormat.PNG, 10, 10, 250, 255));
    // gray becomes (255, 255, 255): a tie, and the first class wins
    TestImageFiles.write(dir, "white-gray.png", TestImageFiles.solid(4, 4, ImageFormat.PNG, 255));
    TestImageFiles.write(dir, "too-big.png", TestImageFiles.solid(5, 5, ImageFormat.PNG, 250, 10, 10));
    TestImageFiles.write(
        dir, "bad-pixels.png",
        TestImageFiles.pngWithCorruptPixelData(TestImageFiles.solid(4, 4, ImageFormat.PNG, 1, 2, 3)));
    byte[] png = TestImageFiles.solid(4, 4, ImageFormat.PNG, 250, 10, 10).toByteArray();
    TestImageFiles.write(dir, "cut.png", Arrays.copyOf(png, png.length / 2));

    ModelSpec<Image, String> spec =
        ModelSpec.<Image, String>builder()
            .setModelUri(ChannelMeansModel.save(tmp.getRoot().toPath()).toString())
            .optModelName(ChannelMeansModel.NAME)
            .optBlock(ChannelMeansModel::block)
            .setProcessing(
                ImagePreprocessing.create().withRequiredSize(4, 4),
                TensorProcessing.argMaxLabel(Arrays.asList("red", "green", "blue")))
            .build();

    WithFailures.Result<PCollection<KV<String, Image>>, ImageReadFailure> images =
        pipeline.apply(ReadImages.from(dir + "/*").withFailures());
    WithFailures.Result<
            PCollection<KV<String, InferenceResult<Image, String>>>,
            InferenceFailure<KV<String, Image>>>
        labels =
            images.output()
                .apply(
                    RunInference.<String, Image, String>keyed(spec)
                        .withOutputCoder(StringUtf8Coder.of())
                        .withBatchSize(1, 4)
                        .withFailures());

    PAssert.that(
            labels.output().apply(
                "Labels",
                MapElements.into(TypeDescriptors.strings())
                    .via(kv -> new File(kv.getKey()).getName() + "=" + kv.getValue().getOutput())))
        .containsInAnyOrder("red.png=red", "green.jpg=green", "blue.png=blue", "white-gray.png=red");
    PAssert.that(
            images.failures().apply(
                "ReadFailures",
                MapElements.into(TypeDescriptors.strings())
                    .via(f -> new File(f.getFile()).getName() + ": " + f.getErrorMessage())))
        .satisfies(
            all -> {
              String only = all.iterator().next();
              assertThat(only, allOf(containsString("cut.png: "), containsString("truncated")));
              assertEquals(1, count(all));
              return null;
            });
    PAssert.that(
            labels.failures().apply(
                "InferenceFailures",
                MapElements.into(TypeDescriptors.strings())
                    .via(
                        f ->
                            new File(f.getElement().getKey()).getName()
                                + "|" + f.getStep() + "|" + f.getErrorMessage())))
        .satisfies(
            all -> {
              Map<String, String[]> byFile = new TreeMap<>();
              for (String f : all) {
                String[] parts = f.split("\\|", 3);
                byFile.put(parts[0], parts);
              }
              assertEquals(
                  String.join("\n", all),
                  Arrays.asList("bad-pixels.png", "too-big.png"),
                  Arrays.asList(byFile.keySet().toArray()));
              assertEquals(InferenceStep.PRE_PROCESS.name(), byFile.get("too-big.png")[1]);
              assertThat(
                  byFile.get("too-big.png")[2],
                  allOf(containsString("shape [5, 5, 3]"), containsString("expected [4, 4, *]")));
              assertEquals(InferenceStep.PRE_PROCESS.name(), byFile.get("bad-pixels.png")[1]);
              assertThat(byFile.get("bad-pixels.png")[2], containsString("cannot decode"));
              return null;
            });
    pipeline.run();
  }

  private static int count(Iterable<?> all) {
    int n = 0;
    for (Object ignored : all) {
      n++;
    }
    return n;
  }
}
