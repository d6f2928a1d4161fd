package io.ainative.runner.internal;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.hasItem;

import java.util.List;
import java.util.stream.Collectors;
import org.apache.beam.runners.fnexecution.provisioning.JobInfo;
import org.apache.beam.sdk.options.ExperimentalOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.util.construction.PipelineOptionsTranslation;
import org.junit.Test;

public class HarnessDataBuffersTest {
  private static JobInfo job(String... args) {
    return JobInfo.create("id", "name", "", PipelineOptionsTranslation.toProto(PipelineOptionsFactory.fromArgs(args).create()));
  }

  private static List<String> experiments(JobInfo job) {
    return PipelineOptionsTranslation.fromProto(job.pipelineOptions()).as(ExperimentalOptions.class).getExperiments().stream()
        .collect(Collectors.toList());
  }

  @Test
  public void addsTheSizeLimit_keepingOtherExperiments() {
    JobInfo job = HarnessDataBuffers.withLargeMessages(job("--experiments=beam_fn_api,other"));
    assertThat(experiments(job), contains("beam_fn_api", "other", "data_buffer_size_limit=" + HarnessDataBuffers.MESSAGE_BYTES));
  }

  @Test
  public void addsTheSizeLimit_withoutExperiments() {
    assertThat(experiments(HarnessDataBuffers.withLargeMessages(job())), hasItem("data_buffer_size_limit=" + HarnessDataBuffers.MESSAGE_BYTES));
  }

  @Test
  public void keepsTheUsersOwnLimit() {
    JobInfo job = HarnessDataBuffers.withLargeMessages(job("--experiments=data_buffer_size_limit=5000"));
    assertThat(experiments(job), contains("data_buffer_size_limit=5000"));
  }
}
