package io.ainative.multimodal.coders;

import io.ainative.multimodal.types.Audio;
import io.ainative.multimodal.types.Embedding;
import io.ainative.multimodal.types.Image;
import io.ainative.multimodal.types.ObjectRef;
import io.ainative.multimodal.types.Tensor;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CannotProvideCoderException;
import org.apache.beam.sdk.coders.CoderProvider;
import org.apache.beam.sdk.coders.CoderProviderRegistrar;
import org.apache.beam.sdk.coders.CoderProviders;
import org.apache.beam.sdk.values.TypeDescriptor;

/**
 * Registers the ainative coders with Beam's default {@code CoderRegistry} (found through {@code
 * META-INF/services}), so a {@code PCollection<Tensor>} gets {@link TensorCoder} without {@code
 * setCoder}.
 */
public final class MultimodalCoderProviderRegistrar implements CoderProviderRegistrar {
  @Override
  public List<CoderProvider> getCoderProviders() {
    return List.of(
        CoderProviders.forCoder(TypeDescriptor.of(Tensor.class), TensorCoder.of()),
        CoderProviders.forCoder(TypeDescriptor.of(Image.class), ImageCoder.of()),
        CoderProviders.forCoder(TypeDescriptor.of(Audio.class), AudioCoder.of()),
        CoderProviders.forCoder(TypeDescriptor.of(Embedding.class), EmbeddingCoder.of()),
        new ObjectRefCoderProvider());
  }

  /** Provides {@link ObjectRefCoder} for {@code ObjectRef<T>} whatever {@code T} is. */
  private static final class ObjectRefCoderProvider extends CoderProvider {
    @Override
    @SuppressWarnings("unchecked")
    public <T> Coder<T> coderFor(TypeDescriptor<T> type, List<? extends Coder<?>> componentCoders)
        throws CannotProvideCoderException {
      if (type.getRawType() != ObjectRef.class) {
        throw new CannotProvideCoderException(type + " is not an ObjectRef");
      }
      return (Coder<T>) ObjectRefCoder.of();
    }
  }
}
