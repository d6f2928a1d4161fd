package io.ainative.transforms.runtime;

import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.translate.Batchifier;
import ai.djl.translate.Translator;
import ai.djl.translate.TranslatorContext;
import io.ainative.transforms.InferenceStep;
import io.ainative.transforms.ModelSpec;
import io.ainative.transforms.RetryPolicy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.beam.sdk.annotations.Internal;

/**
 * Runs batches through a {@link LoadedModel} and isolates the elements that fail.
 *
 * <p>With batch processing ({@code ModelSpec.Builder.setBatchProcessing}) the same isolation holds:
 * a failing batch pre-processing, model call or batch post-processing is retried on halves of the
 * batch (the model's input and output tensors are sliced along the first dimension) until the
 * failing element is alone.
 *
 * <p>For a batch: every input is pre-processed on its own (a failure fails that element only, at
 * {@link InferenceStep#PRE_PROCESS}); the rest are stacked and run in one model call; if the call
 * fails, the batch is split in halves and each half is run, down to single elements, so only the
 * element that makes the model fail is failed (at {@link InferenceStep#INFERENCE}, after the retry
 * policy's attempts); outputs are un-stacked and post-processed one by one.
 *
 * <p>Not thread-safe: one thread at a time. Native arrays created during {@link #run} are freed
 * before it returns; {@link #close()} frees the session's own manager.
 */
@Internal
public final class InferenceSession<InputT, OutputT> implements AutoCloseable {
  private final LoadedModel<InputT, OutputT> loaded;
  private final BatchListener listener;
  private final RetryPolicy retryPolicy;
  private final NDManager sessionManager;
  private final ParameterStore parameterStore;
  private final Block block;
  private final Processing<InputT, OutputT> processing;
  private boolean prepared;

  InferenceSession(
      LoadedModel<InputT, OutputT> loaded, BatchListener listener, RetryPolicy retryPolicy) {
    this.loaded = loaded;
    this.listener = listener;
    this.retryPolicy = retryPolicy;
    this.sessionManager = loaded.model().getNDManager().newSubManager();
    this.parameterStore = new ParameterStore(sessionManager, false);
    this.block = loaded.model().getBlock();
    this.processing = Processing.of(loaded.spec());
  }

  /**
   * Runs {@code inputs} and returns one outcome per input, in input order. Never throws for a bad
   * element; an {@link InterruptedException} while backing off restores the interrupt flag and
   * fails the remaining retries.
   */
  public List<Outcome<OutputT>> run(List<InputT> inputs) {
    @SuppressWarnings("unchecked")
    Outcome<OutputT>[] outcomes = new Outcome[inputs.size()];
    try (Predictor.PredictorContext ctx =
        new Predictor.PredictorContext(loaded.model(), sessionManager, null)) {
      if (!prepared) {
        try {
          processing.prepare(ctx);
          prepared = true;
        } catch (Exception e) {
          Arrays.fill(outcomes, Outcome.failure(InferenceStep.PRE_PROCESS, e));
          return Arrays.asList(outcomes);
        }
      }
      if (processing.batched()) {
        List<Integer> all = new ArrayList<>(inputs.size());
        for (int i = 0; i < inputs.size(); i++) {
          all.add(i);
        }
        if (!all.isEmpty()) {
          preBatch(ctx, all, inputs, outcomes);
        }
        return Arrays.asList(outcomes);
      }
      List<Integer> indices = new ArrayList<>(inputs.size());
      List<NDList> tensors = new ArrayList<>(inputs.size());
      for (int i = 0; i < inputs.size(); i++) {
        try {
          tensors.add(processing.pre(ctx, inputs.get(i)));
          indices.add(i);
        } catch (Exception e) {
          outcomes[i] = Outcome.failure(InferenceStep.PRE_PROCESS, e);
        }
      }
      if (processing.batchifier() == null) {
        for (int k = 0; k < indices.size(); k++) {
          infer(ctx, indices.subList(k, k + 1), tensors.subList(k, k + 1), outcomes);
        }
      } else if (!indices.isEmpty()) {
        infer(ctx, indices, tensors, outcomes);
      }
    }
    return Arrays.asList(outcomes);
  }

  private void infer(
      TranslatorContext ctx, List<Integer> indices, List<NDList> tensors, Outcome<OutputT>[] out) {
    NDList[] outputs;
    try {
      outputs = call(tensors);
    } catch (Exception e) {
      if (indices.size() > 1) {
        int half = indices.size() / 2;
        infer(ctx, indices.subList(0, half), tensors.subList(0, half), out);
        infer(ctx, indices.subList(half, indices.size()), tensors.subList(half, tensors.size()), out);
        return;
      }
      try {
        outputs = retry(() -> call(tensors), e);
      } catch (Exception last) {
        out[indices.get(0)] = Outcome.failure(InferenceStep.INFERENCE, last);
        return;
      }
    }
    for (int k = 0; k < indices.size(); k++) {
      try {
        out[indices.get(k)] = Outcome.success(processing.post(ctx, outputs[k]));
      } catch (Exception e) {
        out[indices.get(k)] = Outcome.failure(InferenceStep.POST_PROCESS, e);
      }
    }
  }

  /**
   * After a single element's model call failed with {@code first}: the remaining attempts of the
   * retry policy, with back-off. Throws the last error when none succeeds.
   */
  private <T> T retry(ModelCall<T> call, Exception first) throws Exception {
    Exception error = first;
    for (int attempt = 2; attempt <= retryPolicy.maxAttempts(); attempt++) {
      try {
        Thread.sleep(retryPolicy.backoffAfter(attempt - 1).getMillis());
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
        break;
      }
      try {
        return call.run();
      } catch (Exception e) {
        error = e;
      }
    }
    throw error;
  }

  @FunctionalInterface
  private interface ModelCall<T> {
    T run() throws Exception;
  }

  /** Batch processing: pre-process the batch; on failure split it to find the failing input. */
  private void preBatch(
      TranslatorContext ctx, List<Integer> indices, List<InputT> inputs, Outcome<OutputT>[] out) {
    List<InputT> mine = new ArrayList<>(indices.size());
    for (int i : indices) {
      mine.add(inputs.get(i));
    }
    NDList batch;
    try {
      batch = processing.preBatch(ctx, mine);
      checkBatchDimension(batch, indices.size(), "batch pre-processing");
    } catch (Exception e) {
      if (indices.size() > 1) {
        int half = indices.size() / 2;
        preBatch(ctx, indices.subList(0, half), inputs, out);
        preBatch(ctx, indices.subList(half, indices.size()), inputs, out);
      } else {
        out[indices.get(0)] = Outcome.failure(InferenceStep.PRE_PROCESS, e);
      }
      return;
    }
    inferBatch(ctx, indices, batch, out);
  }

  /** Batch processing: one model call; on failure slice the batch in halves. */
  private void inferBatch(
      TranslatorContext ctx, List<Integer> indices, NDList batch, Outcome<OutputT>[] out) {
    NDList result;
    try {
      result = forward(batch, indices.size());
    } catch (Exception e) {
      int n = indices.size();
      if (n > 1) {
        int half = n / 2;
        inferBatch(ctx, indices.subList(0, half), slice(batch, 0, half), out);
        inferBatch(ctx, indices.subList(half, n), slice(batch, half, n), out);
        return;
      }
      try {
        result = retry(() -> forward(batch, 1), e);
      } catch (Exception last) {
        out[indices.get(0)] = Outcome.failure(InferenceStep.INFERENCE, last);
        return;
      }
    }
    postBatch(ctx, indices, result, out);
  }

  /** Batch processing: post-process the batch; on failure slice the output in halves. */
  private void postBatch(
      TranslatorContext ctx, List<Integer> indices, NDList result, Outcome<OutputT>[] out) {
    int n = indices.size();
    try {
      List<OutputT> outputs = processing.postBatch(ctx, result);
      if (outputs == null || outputs.size() != n) {
        throw new IllegalStateException(
            "batch post-processing returned " + (outputs == null ? "null" : outputs.size())
                + " results for a batch of " + n);
      }
      for (int k = 0; k < n; k++) {
        out[indices.get(k)] = Outcome.success(outputs.get(k));
      }
    } catch (Exception e) {
      if (n > 1) {
        int half = n / 2;
        postBatch(ctx, indices.subList(0, half), slice(result, 0, half), out);
        postBatch(ctx, indices.subList(half, n), slice(result, half, n), out);
      } else {
        out[indices.get(0)] = Outcome.failure(InferenceStep.POST_PROCESS, e);
      }
    }
  }

  /** One model call on an already batched input. Reports to the listener either way. */
  private NDList forward(NDList batch, int size) throws Exception {
    long start = System.nanoTime();
    boolean ok = false;
    try {
      NDList result = block.forward(parameterStore, batch, false);
      checkBatchDimension(result, size, "the model");
      ok = true;
      return result;
    } finally {
      listener.onModelCall(size, (System.nanoTime() - start) / 1_000, ok);
    }
  }

  private static void checkBatchDimension(NDList list, int size, String producer) {
    for (NDArray a : list) {
      if (a.getShape().dimension() == 0 || a.getShape().get(0) != size) {
        throw new IllegalStateException(
            producer + " returned an array of shape " + a.getShape() + " for a batch of " + size
                + " (the batch dimension must come first)");
      }
    }
  }

  private static NDList slice(NDList list, int from, int to) {
    NDList part = new NDList(list.size());
    for (NDArray a : list) {
      part.add(a.get(new NDIndex(from + ":" + to)));
    }
    return part;
  }

  /** One model call: stack, forward, un-stack. Reports to the listener either way. */
  private NDList[] call(List<NDList> tensors) throws Exception {
    long start = System.nanoTime();
    boolean ok = false;
    try {
      Batchifier batchifier = processing.batchifier();
      NDList batch =
          batchifier == null ? tensors.get(0) : batchifier.batchify(tensors.toArray(new NDList[0]));
      NDList result = block.forward(parameterStore, batch, false);
      NDList[] split = batchifier == null ? new NDList[] {result} : batchifier.unbatchify(result);
      if (split.length != tensors.size()) {
        throw new IllegalStateException(
            "model returned " + split.length + " outputs for a batch of " + tensors.size());
      }
      ok = true;
      return split;
    } finally {
      listener.onModelCall(tensors.size(), (System.nanoTime() - start) / 1_000, ok);
    }
  }

  @Override
  public void close() {
    sessionManager.close();
  }

  /** Pre- and post-processing from either a translator or the spec's two functions. */
  private abstract static class Processing<InputT, OutputT> {
    abstract void prepare(TranslatorContext ctx) throws Exception;

    abstract NDList pre(TranslatorContext ctx, InputT input) throws Exception;

    abstract OutputT post(TranslatorContext ctx, NDList output) throws Exception;

    abstract Batchifier batchifier();

    boolean batched() {
      return false;
    }

    NDList preBatch(TranslatorContext ctx, List<InputT> inputs) throws Exception {
      throw new UnsupportedOperationException();
    }

    List<OutputT> postBatch(TranslatorContext ctx, NDList output) throws Exception {
      throw new UnsupportedOperationException();
    }

    static <InputT, OutputT> Processing<InputT, OutputT> of(ModelSpec<InputT, OutputT> spec) {
      if (spec.translator() != null) {
        Translator<InputT, OutputT> t = spec.translator().get();
        return new Processing<InputT, OutputT>() {
          @Override
          void prepare(TranslatorContext ctx) throws Exception {
            t.prepare(ctx);
          }

          @Override
          NDList pre(TranslatorContext ctx, InputT input) throws Exception {
            return t.processInput(ctx, input);
          }

          @Override
          OutputT post(TranslatorContext ctx, NDList output) throws Exception {
            return t.processOutput(ctx, output);
          }

          @Override
          Batchifier batchifier() {
            return t.getBatchifier();
          }
        };
      }
      if (spec.batchPreProcess() != null) {
        ModelSpec.BatchPreProcessFn<InputT> pre = spec.batchPreProcess();
        ModelSpec.BatchPostProcessFn<OutputT> post = spec.batchPostProcess();
        return new Processing<InputT, OutputT>() {
          @Override
          void prepare(TranslatorContext ctx) {}

          @Override
          NDList pre(TranslatorContext ctx, InputT input) {
            throw new UnsupportedOperationException();
          }

          @Override
          OutputT post(TranslatorContext ctx, NDList output) {
            throw new UnsupportedOperationException();
          }

          @Override
          Batchifier batchifier() {
            return Batchifier.STACK;
          }

          @Override
          boolean batched() {
            return true;
          }

          @Override
          NDList preBatch(TranslatorContext ctx, List<InputT> inputs) throws Exception {
            return pre.apply(ctx.getNDManager(), inputs);
          }

          @Override
          List<OutputT> postBatch(TranslatorContext ctx, NDList output) throws Exception {
            return post.apply(output);
          }
        };
      }
      ModelSpec.PreProcessFn<InputT> preFn = spec.preProcess();
      ModelSpec.PostProcessFn<OutputT> postFn = spec.postProcess();
      return new Processing<InputT, OutputT>() {
        @Override
        void prepare(TranslatorContext ctx) {}

        @Override
        NDList pre(TranslatorContext ctx, InputT input) throws Exception {
          return preFn.apply(ctx.getNDManager(), input);
        }

        @Override
        OutputT post(TranslatorContext ctx, NDList output) throws Exception {
          return postFn.apply(output);
        }

        @Override
        Batchifier batchifier() {
          return Batchifier.STACK;
        }
      };
    }
  }
}
