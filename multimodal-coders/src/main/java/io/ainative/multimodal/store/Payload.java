package io.ainative.multimodal.store;

import io.ainative.multimodal.types.ObjectRef;
import java.io.IOException;
import java.util.Objects;
import org.apache.beam.sdk.coders.Coder;

/**
 * A value that travels either inline or by {@link ObjectRef}, as an {@link OffloadPolicy}
 * decided. The consumer calls {@link #resolve} only where it needs the value (the inference
 * service, next to the model), so the bytes of a large value skip every step in between.
 *
 * <p>Immutable; thread safe when {@code T} is.
 *
 * @param <T> the value type
 */
public final class Payload<T> {
  private final T value; // null when by reference
  private final ObjectRef<T> ref; // null when inline

  private Payload(T value, ObjectRef<T> ref) {
    this.value = value;
    this.ref = ref;
  }

  public static <T> Payload<T> inline(T value) {
    return new Payload<>(Objects.requireNonNull(value, "value"), null);
  }

  public static <T> Payload<T> byRef(ObjectRef<T> ref) {
    return new Payload<>(null, Objects.requireNonNull(ref, "ref"));
  }

  public boolean isRef() {
    return ref != null;
  }

  /** The reference; only when {@link #isRef()}. */
  public ObjectRef<T> ref() {
    if (ref == null) {
      throw new IllegalStateException("payload is inline, it has no reference");
    }
    return ref;
  }

  /** The inline value; only when not {@link #isRef()}. */
  public T inlineValue() {
    if (ref != null) {
      throw new IllegalStateException("payload is " + ref + "; resolve it with a store");
    }
    return value;
  }

  /**
   * The value: the inline one, or the referenced one read (and checksum-verified) from {@code
   * store} and decoded with {@code coder}.
   */
  public T resolve(ObjectStore store, Coder<T> coder) throws IOException {
    return ref == null ? value : store.get(ref, coder);
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Payload)) {
      return false;
    }
    Payload<?> p = (Payload<?>) o;
    return Objects.equals(value, p.value) && Objects.equals(ref, p.ref);
  }

  @Override
  public int hashCode() {
    return Objects.hash(value, ref);
  }

  @Override
  public String toString() {
    return ref != null ? "Payload{" + ref + "}" : "Payload{inline " + value + "}";
  }
}
