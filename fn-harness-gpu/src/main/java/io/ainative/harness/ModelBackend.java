package io.ainative.harness;

import io.ainative.transforms.ModelSpec;
import io.ainative.transforms.runtime.Outcome;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;

/**
 * The loaded model copies of an {@link InferenceServer}, wherever they run: one batch handler per
 * copy, what the service's status reports about them, and their release.
 *
 * <p>Each handler is called by one batcher worker thread at a time, a batch per call, and answers
 * one {@link Outcome} per input, in order. An {@link Error} from a handler means the copy is gone
 * (the service is then broken). {@link #close} frees every copy and whatever runs them; it is
 * called once, after the batcher stopped calling the handlers.
 */
public interface ModelBackend<InputT, OutputT> extends AutoCloseable {

  /** One handler per model copy. */
  List<DynamicBatcher.BatchHandler<InputT, Outcome<OutputT>>> handlers();

  /** The device of the first copy, as the status reports it. */
  String device();

  long loadMillis();

  long warmupMillis();

  long parameterBytes();

  /**
   * Starts the model copies of one {@link InferenceServer.Execution}. {@code DIRECT} is built in;
   * the others are found with {@link java.util.ServiceLoader} (a public class with a no-argument
   * constructor, named in {@code META-INF/services/io.ainative.harness.ModelBackend$Factory}), so
   * this package does not depend on the packages that implement them.
   */
  interface Factory {
    InferenceServer.Execution execution();

    /** Loads and warms up {@code copies} copies; blocks. Frees what it started if it fails. */
    <InputT, OutputT> ModelBackend<InputT, OutputT> start(
        ModelSpec<InputT, OutputT> spec,
        Coder<InputT> inputCoder,
        Coder<OutputT> outputCoder,
        ModelHost.Options options,
        int copies)
        throws Exception;
  }
}
