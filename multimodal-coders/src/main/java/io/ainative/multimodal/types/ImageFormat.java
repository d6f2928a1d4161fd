package io.ainative.multimodal.types;

/**
 * Encoding of an {@link Image}. The {@link #code()} (binary coders) and {@link #typeName()}
 * (portable schema representation) are stable and never reused.
 */
public enum ImageFormat {
  PNG(1, "png"),
  JPEG(2, "jpeg");

  private final int code;
  private final String typeName;

  ImageFormat(int code, String typeName) {
    this.code = code;
    this.typeName = typeName;
  }

  public int code() {
    return code;
  }

  public String typeName() {
    return typeName;
  }

  /** @throws IllegalArgumentException naming the code when it is unknown */
  public static ImageFormat fromCode(int code) {
    for (ImageFormat f : values()) {
      if (f.code == code) {
        return f;
      }
    }
    throw new IllegalArgumentException("unknown image format code " + code);
  }

  /** @throws IllegalArgumentException naming the value when it is unknown */
  public static ImageFormat fromTypeName(String typeName) {
    for (ImageFormat f : values()) {
      if (f.typeName.equals(typeName)) {
        return f;
      }
    }
    throw new IllegalArgumentException("unknown image format '" + typeName + "'");
  }
}
