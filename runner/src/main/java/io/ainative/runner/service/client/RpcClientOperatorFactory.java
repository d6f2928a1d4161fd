package io.ainative.runner.service.client;

import org.apache.beam.sdk.annotations.Internal;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.runtime.operators.coordination.OperatorEventGateway;

/** Creates the {@link RpcClientOperator} in its task, and its {@link RpcClientCoordinator}. */
@Internal
public final class RpcClientOperatorFactory extends ClientOperatorFactory<RpcClientOperator> {
  private static final long serialVersionUID = 1L;

  private final ClientConfig config;

  public RpcClientOperatorFactory(ClientConfig config, String clientId) {
    super(config.service, clientId, RpcClientOperator.class);
    this.config = config;
  }

  @Override
  RpcClientOperator newOperator(MailboxExecutor mailbox, OperatorEventGateway coordinator) {
    return new RpcClientOperator(config, mailbox, coordinator);
  }
}
