package io.ainative.harness.fnapi;

/** Lets tests of other packages see how many model copies the SDK harness holds. */
public final class HostedModelFnAccess {
  private HostedModelFnAccess() {}

  public static int live() {
    return HostedModelFn.liveInJvm();
  }
}
