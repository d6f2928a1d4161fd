/**
 * RpcOperators: inference services that run as Flink tasks in their own pipelined region, and the
 * asynchronous client operator through which the pipeline calls them. This package holds the
 * public view of a service ({@link io.ainative.runner.service.ServiceStatus}); the machinery is in
 * its internal sub-packages: {@code discovery} (the contract both sides share), {@code source}
 * (the host) and {@code client} (the caller), planned by {@code translation.service}.
 *
 * <p>A service is a FLIP-27 source that never emits ({@code RpcServiceSource}): each reader hosts
 * an {@code InferenceServer} (gRPC, loopback or the TaskManager's address) and registers with the
 * source's split enumerator once its model is loaded and warmed up. The enumerator publishes the
 * ready instances through a {@code ServiceLink} that the client operator's coordinator ({@code
 * RpcClientCoordinator}) finds in Flink's {@code CoordinatorStore}; the coordinator pushes them to
 * its subtasks as operator events. All coordinators live in the JobManager, so the same code works
 * on an embedded MiniCluster and on a cluster. Data goes client to service directly over gRPC,
 * never through a Flink edge: the service vertices have no data edges to the pipeline and their
 * own slot-sharing group, so a failing instance restarts only its own region.
 *
 * <p><b>Scaling.</b> Flink 1.19 cannot change a vertex's parallelism without restarting the job,
 * so a service reserves {@code maxInstances} tasks ({@code --maxInferenceInstances}, at least its
 * {@code instances}), each holding a task slot of the service's slot-sharing group whether it
 * serves or not. The first {@code instances} readers start active ({@code ServiceInstance}:
 * server, model, threads); the others start parked (none of these). {@code ServiceControl} carries
 * a scaling request from the job's client (or the REST API) to a client operator's coordinator,
 * which passes it through the {@code ServiceLink} to the enumerator: it activates parked readers
 * (listed once warmed up, under a new activation number) or takes active ones out of the
 * membership and then parks them: they drain what they accepted for at most the drain timeout
 * ({@code --inferenceDrainTimeoutMillis}, 30 s), stop their server (clients re-route the requests
 * still held) and free the model once no call of it runs.
 *
 * <p>Served stages ({@code ServedStages}) use the same discovery for an SDK's own transform (a
 * Python {@code RunInference} with a Python model handler): the readers ({@code
 * StageServiceReader}) host the stage's SDK environment through Beam's {@code
 * DefaultJobBundleFactory} and run one bundle per request; the client ({@code
 * StageClientOperator}) sends batches of windowed elements and emits a batch's outputs once its
 * request succeeded. Both clients are {@code AbstractClientOperator}s: membership, routing,
 * back-pressure, held watermarks, checkpointed elements, metrics and the end of input are written
 * once there.
 */
package io.ainative.runner.service;
