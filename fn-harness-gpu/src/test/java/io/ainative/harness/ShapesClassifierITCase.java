package io.ainative.harness;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.junit.Assert.assertEquals;

import ai.djl.Device;
import io.ainative.harness.testing.ShapeImages;
import io.ainative.harness.testing.ShapesClassifier;
import io.ainative.harness.testing.TestModels;
import io.ainative.transforms.runtime.Outcome;
import java.util.ArrayList;
import java.util.List;
import org.junit.Test;

/** The generated-shapes classifier, trained with DJL, saved, and reloaded by a ModelHost. */
public class ShapesClassifierITCase {

  @Test
  public void reloadedModel_classifiesFreshImages_withAtLeast95PercentAccuracy() throws Exception {
    ShapeImages fresh = new ShapeImages(TestModels.SIZE, TestModels.CHANNELS, 20261123L);
    try (ModelHost<float[], Integer> host =
        ModelHost.load(
            ShapesClassifier.spec(
                TestModels.shapesModelDir(), TestModels.SIZE, TestModels.CHANNELS))) {
      assertEquals(Device.cpu(), host.device());
      assertThat(host.parameterBytes(), greaterThan(0L));
      int correct = 0;
      int total = 0;
      for (int b = 0; b < 20; b++) {
        List<float[]> images = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
          ShapeImages.Sample s = fresh.next();
          images.add(s.pixels());
          labels.add(s.label());
        }
        List<Outcome<Integer>> outcomes = host.infer(images);
        for (int i = 0; i < outcomes.size(); i++) {
          correct += outcomes.get(i).output().equals(labels.get(i)) ? 1 : 0;
          total++;
        }
      }
      double accuracy = correct / (double) total;
      System.out.println("shapes accuracy on fresh images: " + accuracy);
      assertThat(accuracy, greaterThanOrEqualTo(0.95));
    }
  }
}
