package io.ainative.runner.jobserver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Job servers for the Python tests. */
final class JobServers {
  private JobServers() {}

  /**
   * A job server on free ports whose embedded clusters bind their REST endpoint to a port the
   * operating system picks: the runner's default (8081 if it looks free) races with other JVMs
   * running embedded clusters on the same machine at the same time.
   */
  static AiNativeJobServer onFreePorts(int expansionPort) throws IOException {
    Path conf = Files.createTempDirectory("ainative-flink-conf");
    Files.writeString(conf.resolve("config.yaml"), "rest.bind-port: \"0\"\n");
    conf.toFile().deleteOnExit();
    conf.resolve("config.yaml").toFile().deleteOnExit();
    return AiNativeJobServer.fromArgs(
        "--job-port=0", "--artifact-port=0", "--expansion-port=" + expansionPort, "--flink-conf-dir=" + conf);
  }
}
