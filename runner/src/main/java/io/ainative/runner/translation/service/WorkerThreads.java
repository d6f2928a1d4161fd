package io.ainative.runner.translation.service;

import java.util.List;
import java.util.Map;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.sdk.util.construction.BeamUrns;
import org.apache.beam.vendor.grpc.v1p60p1.com.google.protobuf.InvalidProtocolBufferException;

/**
 * How many threads the numeric libraries of a served stage's worker process may use.
 *
 * <p>Each instance of a served stage runs its own SDK worker process, and several instances share
 * a machine. OpenBLAS, MKL and OpenMP start one thread per core in every process by default, so
 * instances on one machine oversubscribe its cores and spin against each other. For a {@code
 * PROCESS} environment the runner therefore starts each instance's worker with {@code
 * OMP_NUM_THREADS}, {@code OPENBLAS_NUM_THREADS} and {@code MKL_NUM_THREADS} set to the stage's
 * {@code threads} setting, unless the environment's own {@code env} already sets that variable.
 * Other environments (the worker's process is not the runner's to start) are left as they are.
 */
final class WorkerThreads {
  /** The variables set, in the order they are added. */
  static final List<String> VARIABLES = List.of("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS");

  private static final String PROCESS_URN = BeamUrns.getUrn(RunnerApi.StandardEnvironments.Environments.PROCESS);

  private WorkerThreads() {}

  /** {@code stage} with its {@code PROCESS} environment's variables set to {@code threads}; otherwise unchanged. */
  static RunnerApi.ExecutableStagePayload limit(RunnerApi.ExecutableStagePayload stage, int threads) {
    RunnerApi.Environment environment = stage.getEnvironment();
    if (!PROCESS_URN.equals(environment.getUrn())) {
      return stage;
    }
    RunnerApi.ProcessPayload process;
    try {
      process = RunnerApi.ProcessPayload.parseFrom(environment.getPayload());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("the PROCESS environment of a served stage has an unreadable payload", e);
    }
    RunnerApi.ProcessPayload.Builder limited = process.toBuilder();
    for (String variable : VARIABLES) {
      if (!process.containsEnv(variable)) {
        limited.putEnv(variable, Integer.toString(threads));
      }
    }
    RunnerApi.Environment replaced = environment.toBuilder().setPayload(limited.build().toByteString()).build();
    RunnerApi.ExecutableStagePayload.Builder result = stage.toBuilder().setEnvironment(replaced);
    for (Map.Entry<String, RunnerApi.Environment> entry : stage.getComponents().getEnvironmentsMap().entrySet()) {
      if (entry.getValue().equals(environment)) {
        result.getComponentsBuilder().putEnvironments(entry.getKey(), replaced);
      }
    }
    return result.build();
  }
}
