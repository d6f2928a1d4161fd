package io.ainative.runner.rpc;

import org.apache.beam.sdk.util.WindowedValue;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.operators.coordination.OperatorCoordinator;
import org.apache.flink.runtime.operators.coordination.OperatorEventGateway;
import org.apache.flink.streaming.api.operators.AbstractStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.CoordinatedOperatorFactory;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.api.operators.YieldingOperatorFactory;

/** Creates the {@link StageClientOperator} in its task, and its coordinator ({@link RpcClientCoordinator}). */
final class StageClientOperatorFactory extends AbstractStreamOperatorFactory<WindowedValue<Object>>
    implements CoordinatedOperatorFactory<WindowedValue<Object>>,
        OneInputStreamOperatorFactory<WindowedValue<Object>, WindowedValue<Object>>,
        YieldingOperatorFactory<WindowedValue<Object>> {
  private static final long serialVersionUID = 1L;

  private final StageSpec spec;

  StageClientOperatorFactory(StageSpec spec) {
    this.spec = spec;
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T extends StreamOperator<WindowedValue<Object>>> T createStreamOperator(
      StreamOperatorParameters<WindowedValue<Object>> parameters) {
    OperatorID id = parameters.getStreamConfig().getOperatorID();
    OperatorEventGateway gateway = parameters.getOperatorEventDispatcher().getOperatorEventGateway(id);
    StageClientOperator operator = new StageClientOperator(spec, getMailboxExecutor(), gateway);
    operator.setProcessingTimeService(processingTimeService);
    operator.setup(parameters.getContainingTask(), parameters.getStreamConfig(), parameters.getOutput());
    parameters.getOperatorEventDispatcher().registerEventHandler(id, operator);
    return (T) operator;
  }

  @Override
  @SuppressWarnings("rawtypes")
  public Class<? extends StreamOperator> getStreamOperatorClass(ClassLoader classLoader) {
    return StageClientOperator.class;
  }

  @Override
  public OperatorCoordinator.Provider getCoordinatorProvider(String operatorName, OperatorID operatorID) {
    return new RpcClientCoordinator.Provider(operatorID, spec.service(), spec.stepName());
  }
}
