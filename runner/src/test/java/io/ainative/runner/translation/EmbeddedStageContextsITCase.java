package io.ainative.runner.translation;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;

import io.ainative.runner.options.AiNativeFlinkPipelineOptions;
import io.ainative.runner.AiNativeFlinkRunner;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * A Java job's stages run in Beam's in-process SDK harness; when the job ends, each harness ends
 * before its servers close, so a clean job logs no error and prints no stack trace. (With Beam's
 * own stage contexts every job logged "Logging stream terminated unexpectedly" and "Multiplexer
 * hanging up" at ERROR, and the harness printed the first to stderr.)
 */
public class EmbeddedStageContextsITCase {
  static final AtomicLong SEEN = new AtomicLong();

  private final List<String> errors = Collections.synchronizedList(new ArrayList<>());
  private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
  private AbstractAppender appender;
  private PrintStream originalErr;

  @Before
  public void captureErrors() {
    appender =
        new AbstractAppender("errors", null, null, true, Property.EMPTY_ARRAY) {
          @Override
          public void append(LogEvent event) {
            errors.add(event.getLevel() + " " + event.getLoggerName() + ": " + event.getMessage().getFormattedMessage()
                + (event.getThrown() == null ? "" : " (" + event.getThrown() + ")"));
          }
        };
    appender.start();
    LoggerContext logging = (LoggerContext) LogManager.getContext(false);
    logging.getConfiguration().getRootLogger().addAppender(appender, Level.ERROR, null);
    logging.updateLoggers();
    originalErr = System.err;
    System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
  }

  @After
  public void stopCapturing() {
    System.setErr(originalErr);
    LoggerContext logging = (LoggerContext) LogManager.getContext(false);
    logging.getConfiguration().getRootLogger().removeAppender(appender.getName());
    logging.updateLoggers();
    appender.stop();
  }

  static final class Count extends DoFn<KV<Integer, Iterable<Integer>>, Void> {
    @ProcessElement
    public void process(@Element KV<Integer, Iterable<Integer>> group) {
      for (Integer ignored : group.getValue()) {
        SEEN.incrementAndGet();
      }
    }
  }

  @Test
  public void aCleanJob_endsItsInProcessHarnesses_withoutAnErrorOrAStackTrace() {
    SEEN.set(0);
    AiNativeFlinkPipelineOptions options = PipelineOptionsFactory.create().as(AiNativeFlinkPipelineOptions.class);
    options.setRunner(AiNativeFlinkRunner.class);
    options.setFlinkMaster("[local]");
    options.setParallelism(2);
    options.setNumberOfExecutionRetries(0);
    Pipeline p = Pipeline.create(options);
    // stages on both sides of a shuffle; they share the job's context, which ends with the last
    p.apply(Create.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10))
        .apply(WithKeys.of((Integer x) -> x % 3).withKeyType(TypeDescriptors.integers()))
        .apply(GroupByKey.create())
        .apply(ParDo.of(new Count()));

    // the stages' operators close, and with them the harnesses, before the job is reported done
    PipelineResult.State state = p.run().waitUntilFinish();

    assertThat(state, equalTo(PipelineResult.State.DONE));
    assertThat(SEEN.get(), equalTo(10L));
    assertThat(errors, empty());
    assertThat(stderr.toString(StandardCharsets.UTF_8), equalTo(""));
  }
}
