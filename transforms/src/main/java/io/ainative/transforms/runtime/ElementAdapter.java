package io.ainative.transforms.runtime;

import io.ainative.transforms.InferenceResult;
import java.io.Serializable;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.beam.sdk.values.KV;

/**
 * How an element of the input PCollection gives the model input, and how the element and the
 * model output make the result: plain ({@code InputT -> InferenceResult}) or keyed ({@code
 * KV<K, InputT> -> KV<K, InferenceResult>}).
 */
@Internal
public abstract class ElementAdapter<ElementT, InputT, OutputT, ResultT> implements Serializable {
  private static final long serialVersionUID = 1L;

  public abstract InputT input(ElementT element);

  public abstract ResultT result(ElementT element, OutputT output);

  public static <InputT, OutputT>
      ElementAdapter<InputT, InputT, OutputT, InferenceResult<InputT, OutputT>> unkeyed() {
    return new ElementAdapter<InputT, InputT, OutputT, InferenceResult<InputT, OutputT>>() {
      private static final long serialVersionUID = 1L;

      @Override
      public InputT input(InputT element) {
        return element;
      }

      @Override
      public InferenceResult<InputT, OutputT> result(InputT element, OutputT output) {
        return InferenceResult.of(element, output);
      }
    };
  }

  public static <K, InputT, OutputT>
      ElementAdapter<KV<K, InputT>, InputT, OutputT, KV<K, InferenceResult<InputT, OutputT>>>
          keyed() {
    return new ElementAdapter<
        KV<K, InputT>, InputT, OutputT, KV<K, InferenceResult<InputT, OutputT>>>() {
      private static final long serialVersionUID = 1L;

      @Override
      public InputT input(KV<K, InputT> element) {
        return element.getValue();
      }

      @Override
      public KV<K, InferenceResult<InputT, OutputT>> result(
          KV<K, InputT> element, OutputT output) {
        return KV.of(element.getKey(), InferenceResult.of(element.getValue(), output));
      }
    };
  }
}
