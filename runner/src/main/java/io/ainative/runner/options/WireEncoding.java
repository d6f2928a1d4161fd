package io.ainative.runner.options;

/**
 * How the inference client sends a batch to its service and gets the results back ({@code
 * --inferenceWireEncoding}); both are answered by every service.
 */
public enum WireEncoding {
  /**
   * ARROW_IPC when the model input has typed columns (a schema'd type, an ainative multimodal
   * type or a Beam primitive), else BEAM_CODER: for a type Arrow can only carry as coder bytes,
   * the batch costs more copies and gains nothing (large float arrays went slower in ARROW_IPC,
   * benchmarks/README.md).
   */
  AUTO,
  /**
   * The batch is one Arrow IPC record batch, one row per element ({@code
   * io.ainative.multimodal.arrow.ArrowElements}: a schema'd type's fields as columns, an ainative
   * multimodal type or a Beam primitive as one typed {@code value} column, any other type as its
   * coder's bytes in a binary {@code coded_value} column); the outputs come back the same way.
   */
  ARROW_IPC,
  /** Each element is encoded with the model's input coder; each output with its output coder. */
  BEAM_CODER
}
