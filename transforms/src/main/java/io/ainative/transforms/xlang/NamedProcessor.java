package io.ainative.transforms.xlang;

import io.ainative.transforms.ModelSpec;
import java.io.Serializable;
import java.util.List;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;

/**
 * Pre- and post-processing that a pipeline in another language chooses by name, since it cannot
 * send Java functions: model inputs arrive as {@code bytes}, results leave as {@link Row}s of
 * plain Beam types that every SDK reads.
 */
abstract class NamedProcessor implements Serializable {
  private static final long serialVersionUID = 1L;

  static final String IMAGE_CLASSIFIER = "image_classifier";
  static final String FLOAT32_TENSOR = "float32_tensor";
  static final List<String> NAMES = List.of(IMAGE_CLASSIFIER, FLOAT32_TENSOR);

  /** The schema of every result row. */
  abstract Schema outputSchema();

  /** Sets the processing functions (and a warm-up input where one can be made) on {@code spec}. */
  abstract ModelSpec.Builder<byte[], Row> configure(ModelSpec.Builder<byte[], Row> spec);

  /**
   * The processor the configuration names, checked against the fields it needs.
   *
   * @throws IllegalArgumentException naming the field: an unknown processor, or a missing or
   *     impossible field of the chosen one
   */
  static NamedProcessor of(RunInferenceExternal.Configuration config) {
    String name = config.processor;
    if (name == null || name.trim().isEmpty()) {
      throw new IllegalArgumentException("processor: required; one of " + NAMES);
    }
    switch (name.trim()) {
      case IMAGE_CLASSIFIER:
        return ImageClassifierProcessor.of(config);
      case FLOAT32_TENSOR:
        return Float32TensorProcessor.of(config);
      default:
        throw new IllegalArgumentException("processor: unknown processor '" + name + "'; known: " + NAMES);
    }
  }
}
