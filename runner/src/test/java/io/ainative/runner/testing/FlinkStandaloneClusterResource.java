package io.ainative.runner.testing;

import org.junit.rules.ExternalResource;
import org.junit.rules.TestRule;
import org.junit.rules.TestWatcher;
import org.junit.runner.Description;
import org.junit.runners.model.Statement;

/**
 * A JUnit 4 rule that starts a {@link FlinkStandaloneCluster} before the tests it wraps and closes
 * it after them. As a {@code @ClassRule} one cluster serves the whole class; as a {@code @Rule}
 * each test gets a fresh one (the builder builds a new cluster every time).
 *
 * <pre>{@code
 * @ClassRule
 * public static final FlinkStandaloneClusterResource CLUSTER =
 *     new FlinkStandaloneClusterResource(FlinkStandaloneCluster.builder().setTaskManagers(2));
 *
 * @Rule public final TestRule keepFilesOnFailure = CLUSTER.failureWatcher();
 * }</pre>
 *
 * <p>If a wrapped test fails, the cluster's configuration and logs are kept and their directory is
 * logged; otherwise they are deleted. As a {@code @Rule} the rule sees its test fail; as a {@code
 * @ClassRule} it sees only failures of the class block itself ({@code @BeforeClass}, {@code
 * @AfterClass}), because JUnit reports a test's failure to its listeners instead of throwing it,
 * hence {@link #failureWatcher()}. If the cluster does not start, the test fails with the
 * processes' log tails, nothing is left running and the files are kept.
 */
public final class FlinkStandaloneClusterResource extends ExternalResource {

  private final FlinkStandaloneCluster.Builder builder;
  // volatile: JUnit's Timeout rule runs each test on a thread of its own
  private volatile FlinkStandaloneCluster cluster;
  private volatile boolean failed;

  /** {@code builder} is used at each start, so later changes to it take effect then. */
  public FlinkStandaloneClusterResource(FlinkStandaloneCluster.Builder builder) {
    this.builder = builder;
  }

  /** The running cluster; only between the rule's start and its end. */
  public FlinkStandaloneCluster cluster() {
    if (cluster == null) {
      throw new IllegalStateException("the cluster runs only while the rule is applied");
    }
    return cluster;
  }

  /**
   * A per-test rule that tells this (class) rule when a test failed, so that it keeps the
   * cluster's files. Declare it as {@code @Rule public final TestRule w =
   * CLUSTER.failureWatcher();}.
   */
  public TestRule failureWatcher() {
    return new TestWatcher() {
      @Override
      protected void failed(Throwable e, Description description) {
        failed = true;
      }
    };
  }

  @Override
  public Statement apply(Statement base, Description description) {
    Statement recordingFailure =
        new Statement() {
          @Override
          public void evaluate() throws Throwable {
            try {
              base.evaluate();
            } catch (Throwable t) {
              failed = true;
              throw t;
            }
          }
        };
    return super.apply(recordingFailure, description);
  }

  @Override
  protected void before() throws Throwable {
    failed = false;
    FlinkStandaloneCluster starting = builder.build();
    try {
      starting.start();
    } catch (Throwable t) {
      // the processes are already stopped; keep the files, the failure message names them
      starting.closeAndKeepFiles();
      throw t;
    }
    cluster = starting;
  }

  @Override
  protected void after() {
    FlinkStandaloneCluster closing = cluster;
    cluster = null;
    if (failed) {
      closing.closeAndKeepFiles();
    } else {
      closing.close();
    }
  }
}
