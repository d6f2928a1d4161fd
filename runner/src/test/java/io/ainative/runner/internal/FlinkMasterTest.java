package io.ainative.runner.internal;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.Assert.assertThrows;

import org.junit.Test;

public class FlinkMasterTest {

  @Test
  public void parse_acceptsLocalAutoAndRestAddresses() {
    assertThat(FlinkMaster.parse("[local]").kind(), equalTo(FlinkMaster.Kind.LOCAL));
    assertThat(FlinkMaster.parse(" [AUTO] ").kind(), equalTo(FlinkMaster.Kind.AUTO));
    FlinkMaster remote = FlinkMaster.parse("flink-jm.example:8081");
    assertThat(remote.kind(), equalTo(FlinkMaster.Kind.REMOTE));
    assertThat(remote.host(), equalTo("flink-jm.example"));
    assertThat(remote.port(), equalTo(8081));
    assertThat(FlinkMaster.parse("http://localhost:9000/").toString(), equalTo("localhost:9000"));
    assertThat(FlinkMaster.parse("https://[::1]:9000").host(), equalTo("::1"));
  }

  @Test
  public void parse_rejectsMalformedValues_namingTheOptionAndValue() {
    String[][] cases = {
      {"", "empty"},
      {"localhost", "port is missing"},
      {"localhost:", "port is missing"},
      {"localhost:http", "'http' is not a number"},
      {"localhost:0", "outside 1..65535"},
      {"localhost:70000", "outside 1..65535"},
      {"[collection]", "only bracketed values"},
      {"localhost:8081/jobs", "without a path"},
      {"bad host:8081", "not a host name"},
    };
    for (String[] c : cases) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FlinkMaster.parse(c[0]));
      assertThat(e.getMessage(), allOf(containsString("--flinkMaster '" + c[0] + "'"), containsString(c[1])));
    }
    assertThat(
        assertThrows(IllegalArgumentException.class, () -> FlinkMaster.parse(null)).getMessage(),
        containsString("--flinkMaster"));
  }
}
