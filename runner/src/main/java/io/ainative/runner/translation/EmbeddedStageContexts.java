package io.ainative.runner.translation;

import io.ainative.harness.fnapi.EmbeddedHarnesses;
import java.lang.reflect.Field;
import java.util.concurrent.ConcurrentMap;
import org.apache.beam.runners.flink.translation.functions.FlinkExecutableStageContextFactory;
import org.apache.beam.runners.fnexecution.control.ExecutableStageContext;
import org.apache.beam.runners.fnexecution.control.JobBundleFactory;
import org.apache.beam.runners.fnexecution.control.ReferenceCountingExecutableStageContextFactory;
import org.apache.beam.runners.fnexecution.control.StageBundleFactory;
import org.apache.beam.runners.fnexecution.provisioning.JobInfo;
import org.apache.beam.sdk.util.construction.graph.ExecutableStage;
import org.apache.flink.api.java.ExecutionEnvironment;

/**
 * Makes Beam's {@link FlinkExecutableStageContextFactory} give a job's stage operators contexts
 * whose job bundle factory is {@link EmbeddedHarnesses}': an in-process SDK harness then ends
 * before its servers close, and a clean end of a stage logs no error.
 *
 * <p>Beam's operator takes that factory by its class, which has a private constructor, and the
 * factory makes one context factory per job on first use, kept in its private static map {@value
 * #JOB_FACTORIES_FIELD}. {@link #register} puts the runner's there first; it must run in each
 * operator's {@code open()} before Beam's, in the class loader that runs the operator. A Beam
 * upgrade that renames the map fails {@code open()} with a message naming it.
 */
final class EmbeddedStageContexts {
  static final String JOB_FACTORIES_FIELD = "jobFactories";

  private EmbeddedStageContexts() {}

  /** Makes the stages of {@code job} in this class loader use the runner's contexts; idempotent. */
  static void register(JobInfo job) {
    jobFactories().computeIfAbsent(
        job.jobId(),
        id -> ReferenceCountingExecutableStageContextFactory.create(
            EmbeddedStageContexts::create,
            // as Beam's: release at once where the operator is not loaded by Flink's class loader
            // (a job's user-code class loader goes away with the job)
            caller -> caller.getClass().getClassLoader() != ExecutionEnvironment.class.getClassLoader()));
  }

  @SuppressWarnings("unchecked")
  private static ConcurrentMap<String, ExecutableStageContext.Factory> jobFactories() {
    try {
      Field field = FlinkExecutableStageContextFactory.class.getDeclaredField(JOB_FACTORIES_FIELD);
      field.setAccessible(true);
      return (ConcurrentMap<String, ExecutableStageContext.Factory>) field.get(null);
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new IllegalStateException(
          "Cannot register the runner's stage contexts with Beam's FlinkExecutableStageContextFactory (static field '"
              + JOB_FACTORIES_FIELD + "')",
          e);
    }
  }

  private static ExecutableStageContext create(JobInfo job) {
    return new Context(EmbeddedHarnesses.jobBundleFactory(job));
  }

  /** A job's stage context: its stages' bundle factories come from one job bundle factory. */
  private static final class Context implements ExecutableStageContext {
    private final JobBundleFactory jobBundles;

    Context(JobBundleFactory jobBundles) {
      this.jobBundles = jobBundles;
    }

    @Override
    public StageBundleFactory getStageBundleFactory(ExecutableStage stage) {
      return jobBundles.forStage(stage);
    }

    @Override
    public void close() throws Exception {
      jobBundles.close();
    }
  }
}
