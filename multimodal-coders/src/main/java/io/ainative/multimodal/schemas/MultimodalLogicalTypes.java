package io.ainative.multimodal.schemas;

import java.util.Optional;
import org.apache.beam.sdk.schemas.Schema;

/**
 * The ainative logical types by URN, so a schema written elsewhere (Arrow field metadata, a
 * portable schema) can be turned back into the Java types. Stateless and thread safe.
 */
public final class MultimodalLogicalTypes {
  private MultimodalLogicalTypes() {}

  /**
   * The logical type for a URN and its argument in string form ({@link #argumentString}), or empty
   * when the URN is not one of ours.
   *
   * @throws IllegalArgumentException naming the URN when the argument is malformed
   */
  public static Optional<Schema.LogicalType<?, ?>> forIdentifier(String urn, String argument) {
    String arg = argument == null ? "" : argument;
    try {
      switch (urn) {
        case TensorType.IDENTIFIER:
          return Optional.of(TensorType.fromArgument(arg));
        case ImageType.IDENTIFIER:
          return Optional.of(new ImageType());
        case AudioType.IDENTIFIER:
          return Optional.of(new AudioType());
        case EmbeddingType.IDENTIFIER:
          int dim = arg.isEmpty() ? 0 : Integer.parseInt(arg);
          return Optional.of(dim == 0 ? EmbeddingType.any() : EmbeddingType.of(dim));
        case ObjectRefType.IDENTIFIER:
          return Optional.of(new ObjectRefType());
        default:
          return Optional.empty();
      }
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "bad argument '" + arg + "' for logical type " + urn + ": " + e.getMessage(), e);
    }
  }

  /** The argument of an ainative logical type as a string ("" when it has none). */
  public static String argumentString(Schema.LogicalType<?, ?> type) {
    if (type.getArgumentType() == null) {
      return "";
    }
    Object arg = type.getArgument();
    return arg == null ? "" : arg.toString();
  }
}
