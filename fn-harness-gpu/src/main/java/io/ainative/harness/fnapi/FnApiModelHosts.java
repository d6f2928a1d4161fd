package io.ainative.harness.fnapi;

import io.ainative.harness.DynamicBatcher;
import io.ainative.harness.ModelBackend;
import io.ainative.harness.ModelHost;
import io.ainative.transforms.ModelLoadException;
import io.ainative.transforms.ModelSpec;
import io.ainative.transforms.runtime.Outcome;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.runners.fnexecution.control.BundleProgressHandler;
import org.apache.beam.runners.fnexecution.control.JobBundleFactory;
import org.apache.beam.runners.fnexecution.control.OutputReceiverFactory;
import org.apache.beam.runners.fnexecution.control.RemoteBundle;
import org.apache.beam.runners.fnexecution.control.StageBundleFactory;
import org.apache.beam.runners.fnexecution.provisioning.JobInfo;
import org.apache.beam.runners.fnexecution.state.StateRequestHandler;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.ByteArrayCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.fn.data.FnDataReceiver;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.options.PortablePipelineOptions;
import org.apache.beam.sdk.testing.CrashingRunner;
import org.apache.beam.sdk.transforms.Impulse;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.beam.sdk.util.construction.Environments;
import org.apache.beam.sdk.util.construction.PipelineOptionsTranslation;
import org.apache.beam.sdk.util.construction.PipelineTranslation;
import org.apache.beam.sdk.util.construction.SdkComponents;
import org.apache.beam.sdk.util.construction.graph.ExecutableStage;
import org.apache.beam.sdk.util.construction.graph.FusedPipeline;
import org.apache.beam.sdk.util.construction.graph.GreedyPipelineFuser;
import org.apache.beam.sdk.util.construction.graph.ImmutableExecutableStage;
import org.apache.beam.sdk.util.construction.graph.PipelineNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Model copies served through the Beam Fn API: an inference stage (one {@link HostedModelFn}) run
 * by Beam's Java SDK harness in this process ({@code EMBEDDED}), driven through Beam's runner-side
 * classes ({@link JobBundleFactory}, {@link StageBundleFactory}, {@link RemoteBundle}). One bundle
 * carries one batch as its one element, so the Fn API costs once per batch.
 *
 * <p>The batch crosses by reference by default ({@link BatchTransfer#IN_PROCESS_REFERENCE}): the
 * harness runs in this JVM, so the bundle's element is a handle to the batch's values and the
 * answer a handle to the outcomes ({@link BatchExchange}), and no value is encoded, framed,
 * carried or decoded. {@link BatchTransfer#INLINE} encodes the batch into the element with the
 * input coder and the outcomes with the output coder, as a harness in another process would need;
 * that copy is what makes it slower for large batches (fn-harness-gpu/README.md, "Benchmark").
 *
 * <p>{@link #start} returns once every copy is loaded and warmed up in the harness. Each {@link
 * #handler} runs a bundle per batch and may be called from its own thread; the harness gives
 * concurrent bundles their own DoFn instance, so there is one model copy per concurrent caller.
 * {@link #close} ends the harness, which tears the DoFns and their models down.
 *
 * <p>As the {@link ModelBackend} of {@code InferenceServer.Execution.FN_API_HARNESS} it is started
 * by {@link FnApiModelBackendFactory}.
 */
public final class FnApiModelHosts<InputT, OutputT> implements ModelBackend<InputT, OutputT> {
  private static final Logger LOG = LoggerFactory.getLogger(FnApiModelHosts.class);

  /** How long {@link #close} waits for the harness to tear the model copies down. */
  private static final long TEARDOWN_WAIT_MILLIS = 30_000;

  private final String owner;
  private final JobBundleFactory jobBundleFactory;
  private final StageBundleFactory stage;
  private final Coder<InputT> inputCoder;
  private final Coder<OutputT> outputCoder;
  private final BatchTransfer transfer;
  private BatchFrames.HostInfo first;
  private int copies;

  /** How a batch reaches the harness. */
  public enum BatchTransfer {
    /** A handle to the batch's values in this JVM (the harness is in-process). */
    IN_PROCESS_REFERENCE,
    /** The values encoded into the bundle's element, and the outcomes into its output. */
    INLINE
  }

  private FnApiModelHosts(
      String owner,
      JobBundleFactory jobBundleFactory,
      StageBundleFactory stage,
      Coder<InputT> inputCoder,
      Coder<OutputT> outputCoder,
      BatchTransfer transfer) {
    this.owner = owner;
    this.transfer = transfer;
    this.jobBundleFactory = jobBundleFactory;
    this.stage = stage;
    this.inputCoder = inputCoder;
    this.outputCoder = outputCoder;
  }

  /**
   * Starts the harness and loads {@code copies} model copies in it, each warmed up. Blocks.
   *
   * @throws ModelLoadException if a copy cannot be loaded (the harness is closed again)
   */
  public static <InputT, OutputT> FnApiModelHosts<InputT, OutputT> start(
      ModelSpec<InputT, OutputT> spec, Coder<InputT> inputCoder, Coder<OutputT> outputCoder, ModelHost.Options options, int copies)
      throws ModelLoadException {
    return start(spec, inputCoder, outputCoder, options, copies, BatchTransfer.IN_PROCESS_REFERENCE);
  }

  /** {@link #start(ModelSpec, Coder, Coder, ModelHost.Options, int)} with the batch transfer chosen. */
  public static <InputT, OutputT> FnApiModelHosts<InputT, OutputT> start(
      ModelSpec<InputT, OutputT> spec,
      Coder<InputT> inputCoder,
      Coder<OutputT> outputCoder,
      ModelHost.Options options,
      int copies,
      BatchTransfer transfer)
      throws ModelLoadException {
    PortablePipelineOptions pipelineOptions = PipelineOptionsFactory.create().as(PortablePipelineOptions.class);
    pipelineOptions.setDefaultEnvironmentType(Environments.ENVIRONMENT_EMBEDDED);
    pipelineOptions.setJobName("ainative-inference-" + spec.id());
    // The pipeline is only built and translated, never run.
    pipelineOptions.setRunner(CrashingRunner.class);
    String owner = UUID.randomUUID().toString();
    ExecutableStage executable = inferenceStage(new HostedModelFn<>(spec, inputCoder, outputCoder, options, owner), pipelineOptions);
    JobInfo job =
        JobInfo.create(
            pipelineOptions.getJobName() + "-" + UUID.randomUUID(), pipelineOptions.getJobName(), "", PipelineOptionsTranslation.toProto(pipelineOptions));
    JobBundleFactory jobBundles = EmbeddedHarnesses.jobBundleFactory(job);
    FnApiModelHosts<InputT, OutputT> hosts = null;
    try {
      hosts = new FnApiModelHosts<>(owner, jobBundles, jobBundles.forStage(executable), inputCoder, outputCoder, transfer);
      hosts.loadCopies(copies);
      return hosts;
    } catch (RuntimeException | Error e) {
      closeQuietly(hosts, jobBundles);
      throw new ModelLoadException("model '" + spec.modelUri() + "' failed to load in the SDK harness: " + e.getMessage(), e);
    }
  }

  /** Probes concurrently until {@code copies} distinct DoFn instances (model copies) answered. */
  private void loadCopies(int copies) {
    Set<String> seen = new HashSet<>();
    for (int round = 0; seen.size() < copies; round++) {
      if (round == 3) {
        throw new IllegalStateException("the harness set up " + seen.size() + " model copies of " + copies + " after 3 rounds of probes");
      }
      List<CompletableFuture<BatchFrames.HostInfo>> probes = new ArrayList<>();
      for (int i = 0; i < copies; i++) {
        probes.add(CompletableFuture.supplyAsync(this::probe));
      }
      for (CompletableFuture<BatchFrames.HostInfo> probe : probes) {
        BatchFrames.HostInfo info;
        try {
          info = probe.join();
        } catch (CompletionException e) {
          throw e.getCause() instanceof RuntimeException ? (RuntimeException) e.getCause() : e;
        }
        if (first == null) {
          first = info;
        }
        seen.add(info.hostId);
      }
    }
    this.copies = copies;
    LOG.info("{} model copies ready in the SDK harness on {}: loaded in {} ms, warmed up in {} ms", copies, first.device, first.loadMillis, first.warmupMillis);
  }

  private BatchFrames.HostInfo probe() {
    try {
      return BatchFrames.readHostInfo(run(BatchFrames.probe()));
    } catch (java.io.IOException e) {
      throw new IllegalStateException("unreadable probe answer from the SDK harness", e);
    }
  }

  /** Runs one batch as one bundle; callable from several threads at once. */
  public DynamicBatcher.BatchHandler<InputT, Outcome<OutputT>> handler() {
    if (transfer == BatchTransfer.INLINE) {
      return batch -> BatchFrames.readOutcomes(run(BatchFrames.batch(batch, inputCoder)), outputCoder);
    }
    return batch -> {
      BatchExchange.Slot<InputT, OutputT> slot = BatchExchange.park(batch);
      try {
        BatchFrames.checkAnsweredRef(run(BatchFrames.batchRef(slot.handle)), slot.handle, batch.size());
        List<Outcome<OutputT>> outcomes = slot.outcomes();
        if (outcomes == null) {
          throw new HarnessFailure("the inference stage answered batch " + slot.handle + " without its outcomes", null);
        }
        return outcomes;
      } finally {
        BatchExchange.remove(slot);
      }
    };
  }

  /** {@link #handler} once per model copy. */
  @Override
  public List<DynamicBatcher.BatchHandler<InputT, Outcome<OutputT>>> handlers() {
    List<DynamicBatcher.BatchHandler<InputT, Outcome<OutputT>>> handlers = new ArrayList<>();
    for (int i = 0; i < copies; i++) {
      handlers.add(handler());
    }
    return handlers;
  }

  private byte[] run(byte[] frame) {
    AtomicReference<byte[]> result = new AtomicReference<>();
    OutputReceiverFactory outputs =
        new OutputReceiverFactory() {
          @Override
          @SuppressWarnings("unchecked")
          public <T> FnDataReceiver<T> create(String pCollectionId) {
            return value -> result.set(((WindowedValue<byte[]>) value).getValue());
          }
        };
    try (RemoteBundle bundle = stage.getBundle(outputs, StateRequestHandler.unsupported(), BundleProgressHandler.ignored())) {
      FnDataReceiver<WindowedValue<?>> input = bundle.getInputReceivers().values().iterator().next();
      input.accept(WindowedValue.valueInGlobalWindow(frame));
    } catch (Exception e) {
      throw new HarnessFailure("the inference stage's bundle failed in the SDK harness: " + e.getMessage(), e);
    }
    byte[] answer = result.get();
    if (answer == null) {
      throw new HarnessFailure("the inference stage's bundle ended without a result", null);
    }
    return answer;
  }

  /** The device, load and warm-up times and parameter bytes of the first copy. */
  @Override
  public String device() {
    return first.device;
  }

  @Override
  public long loadMillis() {
    return first.loadMillis;
  }

  @Override
  public long warmupMillis() {
    return first.warmupMillis;
  }

  @Override
  public long parameterBytes() {
    return first.parameterBytes;
  }

  /**
   * Ends the harness and returns once it has torn down every model copy (the harness does that on
   * its own threads after its control stream closed), or after 30 s with a warning.
   */
  @Override
  public void close() throws Exception {
    try {
      stage.close();
    } finally {
      jobBundleFactory.close();
    }
    java.util.concurrent.atomic.AtomicInteger live = HostedModelFn.live(owner);
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(TEARDOWN_WAIT_MILLIS);
    while (live.get() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    if (live.get() > 0) {
      LOG.warn("{} model copies were not torn down by the SDK harness within {} ms", live.get(), TEARDOWN_WAIT_MILLIS);
    } else {
      HostedModelFn.forget(owner);
    }
  }

  private static void closeQuietly(FnApiModelHosts<?, ?> hosts, JobBundleFactory jobBundles) {
    try {
      if (hosts != null) {
        hosts.close();
      } else {
        jobBundles.close();
      }
    } catch (Exception e) {
      LOG.warn("closing the SDK harness after a failed start failed too", e);
    }
  }

  /**
   * The stage {@code Impulse -> ParDo(fn)} with the ParDo alone in it: its input is the
   * impulse's {@code byte[]} PCollection, fed by this class instead, and its output is declared
   * as the stage's (nothing consumes it, so the fuser leaves it internal).
   */
  private static ExecutableStage inferenceStage(HostedModelFn<?, ?> fn, PortablePipelineOptions options) {
    Pipeline pipeline = Pipeline.create(options);
    pipeline.apply("Batches", Impulse.create()).apply("Infer", ParDo.of(fn)).setCoder(ByteArrayCoder.of());
    RunnerApi.Pipeline proto = PipelineTranslation.toProto(pipeline, SdkComponents.create(options));
    FusedPipeline fused = GreedyPipelineFuser.fuse(proto);
    ExecutableStage stage = fused.getFusedStages().iterator().next();
    String output = null;
    for (RunnerApi.PTransform t : proto.getComponents().getTransformsMap().values()) {
      if (t.getUniqueName().equals("Infer")) {
        output = t.getOutputsMap().values().iterator().next();
      }
    }
    if (output == null || fused.getFusedStages().size() != 1) {
      throw new IllegalStateException("unexpected inference stage: " + fused.getFusedStages());
    }
    return ImmutableExecutableStage.ofFullComponents(
        proto.getComponents(),
        stage.getEnvironment(),
        stage.getInputPCollection(),
        stage.getSideInputs(),
        stage.getUserStates(),
        stage.getTimers(),
        stage.getTransforms(),
        List.of(PipelineNode.pCollection(output, proto.getComponents().getPcollectionsOrThrow(output))),
        stage.getWireCoderSettings());
  }
}
