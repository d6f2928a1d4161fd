package io.ainative.runner.translation.inprocess;

import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.reflect.DoFnInvoker;
import org.apache.beam.sdk.transforms.reflect.DoFnInvokers;
import org.checkerframework.checker.nullness.qual.Nullable;

/** A {@link StageNode} that runs a user's DoFn: its {@code @Setup} and {@code @Teardown}. */
abstract class DoFnNode extends StageNode {
  final DoFn<Object, Object> fn;
  final PipelineOptions options;
  /** Set between {@link #setup} and {@link #teardown}. */
  @Nullable DoFnInvoker<Object, Object> invoker;

  DoFnNode(DoFn<Object, Object> fn, PipelineOptions options) {
    this.fn = fn;
    this.options = options;
  }

  @Override
  void setup() {
    invoker = DoFnInvokers.tryInvokeSetupFor(fn, options);
  }

  @Override
  void teardown() {
    if (invoker != null) {
      invoker.invokeTeardown();
      invoker = null;
    }
  }
}
