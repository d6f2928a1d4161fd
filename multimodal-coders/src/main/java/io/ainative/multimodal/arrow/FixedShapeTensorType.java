package io.ainative.multimodal.arrow;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Arrays;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.ExtensionTypeVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.ExtensionTypeRegistry;
import org.apache.arrow.vector.types.pojo.FieldType;

/**
 * Arrow's canonical {@code arrow.fixed_shape_tensor} extension type (Arrow Java 18 does not ship
 * it): storage {@code FixedSizeList<value_type>[product(shape)]}, each list a row-major tensor,
 * metadata {@code {"shape": [d0, d1, ...]}}. pyarrow reads such a column as {@code
 * pa.FixedShapeTensorArray} ({@code .to_numpy_ndarray()}).
 *
 * <p>Only the row-major layout is supported: metadata with a non-identity {@code permutation} is
 * rejected; {@code dim_names} are accepted and ignored. Call {@link #register()} before reading IPC
 * streams that contain the type (the converters and codec in this package do).
 */
public final class FixedShapeTensorType extends ArrowType.ExtensionType {
  public static final String EXTENSION_NAME = "arrow.fixed_shape_tensor";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final long[] shape;
  private final int listSize;

  public FixedShapeTensorType(long... shape) {
    this.shape = shape.clone();
    long n = 1;
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] < 0) {
        throw new IllegalArgumentException(
            EXTENSION_NAME + " shape[" + i + "] = " + shape[i] + " is negative");
      }
      n = Math.multiplyExact(n, shape[i]);
    }
    if (n > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          EXTENSION_NAME + " shape " + Arrays.toString(shape) + " has more than 2^31 elements");
    }
    this.listSize = (int) n;
  }

  /** Registers the type with Arrow's {@link ExtensionTypeRegistry}; idempotent, thread safe. */
  public static void register() {
    Registration.ensure();
  }

  private static final class Registration {
    static {
      ExtensionTypeRegistry.register(new FixedShapeTensorType());
    }

    static void ensure() {}
  }

  public long[] shape() {
    return shape.clone();
  }

  public int listSize() {
    return listSize;
  }

  @Override
  public ArrowType storageType() {
    return new ArrowType.FixedSizeList(listSize);
  }

  @Override
  public String extensionName() {
    return EXTENSION_NAME;
  }

  @Override
  public boolean extensionEquals(ArrowType.ExtensionType other) {
    return other instanceof FixedShapeTensorType
        && Arrays.equals(shape, ((FixedShapeTensorType) other).shape);
  }

  @Override
  public String serialize() {
    ObjectNode node = JSON.createObjectNode();
    ArrayNode dims = node.putArray("shape");
    for (long d : shape) {
      dims.add(d);
    }
    try {
      return JSON.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public ArrowType deserialize(ArrowType storageType, String serializedData) {
    if (!(storageType instanceof ArrowType.FixedSizeList)) {
      throw new IllegalArgumentException(
          EXTENSION_NAME + " needs FixedSizeList storage, got " + storageType);
    }
    JsonNode node;
    try {
      node = JSON.readTree(serializedData);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          EXTENSION_NAME + " metadata is not JSON: " + serializedData, e);
    }
    JsonNode dims = node == null ? null : node.get("shape");
    if (dims == null || !dims.isArray()) {
      throw new IllegalArgumentException(
          EXTENSION_NAME + " metadata has no \"shape\" array: " + serializedData);
    }
    long[] s = new long[dims.size()];
    for (int i = 0; i < s.length; i++) {
      s[i] = dims.get(i).asLong(-1);
    }
    JsonNode perm = node.get("permutation");
    if (perm != null && !perm.isNull()) {
      for (int i = 0; i < perm.size(); i++) {
        if (perm.get(i).asInt(-1) != i) {
          throw new IllegalArgumentException(
              EXTENSION_NAME + " with permutation " + perm + " is not supported (row-major only)");
        }
      }
    }
    FixedShapeTensorType t = new FixedShapeTensorType(s);
    int storageSize = ((ArrowType.FixedSizeList) storageType).getListSize();
    if (storageSize != t.listSize) {
      throw new IllegalArgumentException(
          EXTENSION_NAME
              + " shape "
              + Arrays.toString(s)
              + " has "
              + t.listSize
              + " elements but its storage lists have "
              + storageSize);
    }
    return t;
  }

  @Override
  public FieldVector getNewVector(String name, FieldType fieldType, BufferAllocator allocator) {
    FieldType storage =
        new FieldType(fieldType.isNullable(), storageType(), fieldType.getDictionary(), null);
    return new Vector(name, allocator, new FixedSizeListVector(name, allocator, storage, null));
  }

  /** The vector of a fixed-shape tensor column; {@link #getObject} returns the storage list. */
  public static final class Vector extends ExtensionTypeVector<FixedSizeListVector> {
    Vector(String name, BufferAllocator allocator, FixedSizeListVector storage) {
      super(name, allocator, storage);
    }

    @Override
    public Object getObject(int index) {
      return getUnderlyingVector().getObject(index);
    }

    @Override
    public int hashCode(int index) {
      return getUnderlyingVector().hashCode(index);
    }

    @Override
    public int hashCode(int index, org.apache.arrow.memory.util.hash.ArrowBufHasher hasher) {
      return getUnderlyingVector().hashCode(index, hasher);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FixedShapeTensorType && extensionEquals((FixedShapeTensorType) o);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(shape);
  }
}
