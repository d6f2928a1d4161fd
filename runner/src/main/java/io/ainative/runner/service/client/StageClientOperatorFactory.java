package io.ainative.runner.service.client;

import io.ainative.runner.service.discovery.StageSpec;
import org.apache.beam.sdk.annotations.Internal;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.runtime.operators.coordination.OperatorEventGateway;

/** Creates the {@link StageClientOperator} in its task, and its {@link RpcClientCoordinator}. */
@Internal
public final class StageClientOperatorFactory extends ClientOperatorFactory<StageClientOperator> {
  private static final long serialVersionUID = 1L;

  private final StageSpec spec;

  public StageClientOperatorFactory(StageSpec spec) {
    super(spec.service(), spec.stepName(), StageClientOperator.class);
    this.spec = spec;
  }

  @Override
  StageClientOperator newOperator(MailboxExecutor mailbox, OperatorEventGateway coordinator) {
    return new StageClientOperator(spec, mailbox, coordinator);
  }
}
