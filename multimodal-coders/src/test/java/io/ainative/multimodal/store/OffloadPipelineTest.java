package io.ainative.multimodal.store;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.instanceOf;

import io.ainative.multimodal.coders.ImageCoder;
import io.ainative.multimodal.testing.TestImages;
import io.ainative.multimodal.types.Image;
import io.ainative.multimodal.types.ImageFormat;
import java.io.IOException;
import java.io.Serializable;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricQueryResults;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.values.PCollection;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * A 4-step pipeline on the DirectRunner: offload, two steps that only pass the payload on, then
 * resolve next to the "model". The object store's Beam metric shows the image was written once.
 */
public class OffloadPipelineTest implements Serializable {
  @Rule public final transient TestPipeline pipeline = TestPipeline.create();
  @Rule public final transient TemporaryFolder tmp = new TemporaryFolder();

  /** Opens the job's store in {@code @Setup}, as a task on a cluster would. */
  abstract static class WithStore<InT, OutT> extends DoFn<InT, OutT> {
    private final String root;
    transient ObjectStore store;

    WithStore(String root) {
      this.root = root;
    }

    @Setup
    public void openStore() throws IOException {
      store = FileSystemObjectStore.builder().setRoot(root).setJobId("pipeline-test").build();
    }

    @Teardown
    public void closeStore() throws IOException {
      store.close();
    }
  }

  static final class Offload extends WithStore<Image, Payload<Image>> {
    Offload(String root) {
      super(root);
    }

    @ProcessElement
    public void process(@Element Image image, OutputReceiver<Payload<Image>> out) throws IOException {
      out.output(OffloadPolicy.defaults().withThresholdBytes(1024).apply(image, ImageCoder.of(), store));
    }
  }

  static final class PassOn extends DoFn<Payload<Image>, Payload<Image>> {
    @ProcessElement
    public void process(@Element Payload<Image> p, OutputReceiver<Payload<Image>> out) {
      out.output(p);
    }
  }

  static final class Resolve extends WithStore<Payload<Image>, String> {
    Resolve(String root) {
      super(root);
    }

    @ProcessElement
    public void process(@Element Payload<Image> p, OutputReceiver<String> out) throws IOException {
      Image image = p.resolve(store, ImageCoder.of());
      out.output(p.isRef() + " " + image.width() + "x" + image.height() + " " + image.decode().getAsDouble(0));
    }
  }

  @Test
  public void offloadedImage_isWrittenOnce_andResolvedAfterFourSteps() throws Exception {
    Image image = Image.encode(TestImages.pattern(96, 64, 3, 3), ImageFormat.PNG);
    String root = tmp.getRoot().getAbsolutePath();
    PayloadCoder<Image> payloadCoder = PayloadCoder.of(ImageCoder.of());

    PCollection<Image> images = pipeline.apply("Read", Create.of(image));
    assertThat(images.getCoder(), instanceOf(ImageCoder.class)); // found through the registrar
    PCollection<String> out =
        images
            .apply("Offload", ParDo.of(new Offload(root)))
            .setCoder(payloadCoder)
            .apply("Step2", ParDo.of(new PassOn()))
            .setCoder(payloadCoder)
            .apply("Step3", ParDo.of(new PassOn()))
            .setCoder(payloadCoder)
            .apply("Resolve", ParDo.of(new Resolve(root)));
    PAssert.that(out).containsInAnyOrder("true 64x96 " + image.decode().getAsDouble(0));

    PipelineResult result = pipeline.run();
    result.waitUntilFinish();
    long encoded = CoderUtils.encodeToByteArray(ImageCoder.of(), image).length;
    assertThat(counter(result, "bytes_written"), equalTo(encoded));
    assertThat(counter(result, "objects_written"), equalTo(1L));
  }

  private static long counter(PipelineResult result, String name) {
    MetricQueryResults metrics =
        result
            .metrics()
            .queryMetrics(
                MetricsFilter.builder()
                    .addNameFilter(MetricNameFilter.named(ObjectStore.METRICS_NAMESPACE, name))
                    .build());
    long sum = 0;
    for (MetricResult<Long> c : metrics.getCounters()) {
      sum += c.getAttempted();
    }
    return sum;
  }
}
