package io.ainative.runner.jobserver;

import java.io.IOException;

/** Job servers for the Python tests. */
final class JobServers {
  private JobServers() {}

  /** A job server on free ports (job, artifacts; expansion as given: 0 free, -1 none). */
  static AiNativeJobServer onFreePorts(int expansionPort) throws IOException {
    return AiNativeJobServer.fromArgs("--job-port=0", "--artifact-port=0", "--expansion-port=" + expansionPort);
  }

}
