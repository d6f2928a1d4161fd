package io.ainative.multimodal.types;

/**
 * Element type of a {@link Tensor}.
 *
 * <p>Each constant has a stable one-byte wire {@link #code()} (used by the binary coders) and a
 * stable lower-case {@link #typeName()} (used by the portable schema representation; the names
 * match NumPy's dtype names so Beam Python can map them with {@code numpy.dtype(name)}). Neither
 * may ever change for an existing constant; new dtypes get new codes.
 *
 * <p>{@link #BOOL} is stored as one byte per element (0 or 1), like NumPy.
 */
public enum DType {
  BOOL(1, "bool", 1),
  UINT8(2, "uint8", 1),
  INT8(3, "int8", 1),
  INT16(4, "int16", 2),
  INT32(5, "int32", 4),
  INT64(6, "int64", 8),
  FLOAT16(7, "float16", 2),
  FLOAT32(8, "float32", 4),
  FLOAT64(9, "float64", 8);

  private static final DType[] BY_CODE = new DType[16];

  static {
    for (DType t : values()) {
      BY_CODE[t.code] = t;
    }
  }

  private final int code;
  private final String typeName;
  private final int byteWidth;

  DType(int code, String typeName, int byteWidth) {
    this.code = code;
    this.typeName = typeName;
    this.byteWidth = byteWidth;
  }

  /** The stable wire code of this dtype. */
  public int code() {
    return code;
  }

  /** The stable portable name of this dtype (NumPy's spelling). */
  public String typeName() {
    return typeName;
  }

  /** Bytes per element. */
  public int byteWidth() {
    return byteWidth;
  }

  /**
   * Returns the dtype with the given wire code.
   *
   * @throws IllegalArgumentException naming the code when it is unknown
   */
  public static DType fromCode(int code) {
    DType t = (code >= 0 && code < BY_CODE.length) ? BY_CODE[code] : null;
    if (t == null) {
      throw new IllegalArgumentException("unknown tensor dtype code " + code);
    }
    return t;
  }

  /**
   * Returns the dtype with the given portable name.
   *
   * @throws IllegalArgumentException naming the value when it is unknown
   */
  public static DType fromTypeName(String typeName) {
    for (DType t : values()) {
      if (t.typeName.equals(typeName)) {
        return t;
      }
    }
    throw new IllegalArgumentException("unknown tensor dtype '" + typeName + "'");
  }
}
