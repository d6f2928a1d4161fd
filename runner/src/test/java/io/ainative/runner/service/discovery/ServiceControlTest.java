package io.ainative.runner.service.discovery;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.hasItem;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.runtime.OperatorIDPair;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.jobgraph.JobVertex;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.DiscardingSink;
import org.junit.Test;

public class ServiceControlTest {

  /** Scaling requests find the client's coordinator by this id: it must be the one Flink assigns. */
  @Test
  public void clientOperatorId_isTheIdFlinkGivesTheOperatorWithThatUid() {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.fromSequence(0, 10)
        .uid("Ids")
        .map(x -> x + 1)
        .uid("Classify step/with odd name")
        .addSink(new DiscardingSink<>())
        .uid("Sink");
    JobGraph graph = env.getStreamGraph().getJobGraph();
    List<OperatorID> ids = new ArrayList<>();
    for (JobVertex vertex : graph.getVertices()) {
      for (OperatorIDPair pair : vertex.getOperatorIDs()) {
        ids.add(pair.getGeneratedOperatorID());
      }
    }
    assertThat(ids, hasItem(ServiceControl.clientOperatorId("Classify step/with odd name")));
  }
}
