package io.ainative.runner.service.client;

import io.ainative.runner.service.discovery.ServiceSpec;
import org.apache.beam.sdk.util.WindowedValue;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.operators.coordination.OperatorCoordinator;
import org.apache.flink.runtime.operators.coordination.OperatorEventGateway;
import org.apache.flink.streaming.api.operators.AbstractStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.CoordinatedOperatorFactory;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.api.operators.YieldingOperatorFactory;

/**
 * Creates a client operator of a service in its task, wired to its mailbox and to the operator
 * events of its {@link RpcClientCoordinator}, and that coordinator. The clients of RunInference
 * ({@link RpcClientOperator}) and of served stages ({@link StageClientOperator}), both {@link
 * AbstractClientOperator}s, differ only in the operator made.
 */
abstract class ClientOperatorFactory<O extends AbstractClientOperator<?, ?>>
    extends AbstractStreamOperatorFactory<WindowedValue<Object>>
    implements CoordinatedOperatorFactory<WindowedValue<Object>>,
        OneInputStreamOperatorFactory<WindowedValue<Object>, WindowedValue<Object>>,
        YieldingOperatorFactory<WindowedValue<Object>> {
  private static final long serialVersionUID = 1L;

  private final ServiceSpec service;
  private final String clientId;
  private final Class<O> operatorClass;

  ClientOperatorFactory(ServiceSpec service, String clientId, Class<O> operatorClass) {
    this.service = service;
    this.clientId = clientId;
    this.operatorClass = operatorClass;
  }

  abstract O newOperator(MailboxExecutor mailbox, OperatorEventGateway coordinator);

  @Override
  @SuppressWarnings("unchecked")
  public <T extends StreamOperator<WindowedValue<Object>>> T createStreamOperator(
      StreamOperatorParameters<WindowedValue<Object>> parameters) {
    OperatorID id = parameters.getStreamConfig().getOperatorID();
    OperatorEventGateway gateway = parameters.getOperatorEventDispatcher().getOperatorEventGateway(id);
    O operator = newOperator(getMailboxExecutor(), gateway);
    operator.setProcessingTimeService(processingTimeService);
    operator.setup(parameters.getContainingTask(), parameters.getStreamConfig(), parameters.getOutput());
    parameters.getOperatorEventDispatcher().registerEventHandler(id, operator);
    return (T) operator;
  }

  @Override
  @SuppressWarnings("rawtypes")
  public Class<? extends StreamOperator> getStreamOperatorClass(ClassLoader classLoader) {
    return operatorClass;
  }

  @Override
  public OperatorCoordinator.Provider getCoordinatorProvider(String operatorName, OperatorID operatorID) {
    return new RpcClientCoordinator.Provider(operatorID, service, clientId);
  }
}
