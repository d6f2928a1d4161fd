/**
 * Planning of the services: which RunInference transforms and served stages become RpcOperators,
 * how they are grouped ({@link io.ainative.runner.translation.service.SharedService}) and which
 * source and client operator each gets. Rule: code that runs only while the job graph is built lives
 * here; it may use every {@code service} package, and none of them may use it.
 */
@Internal
package io.ainative.runner.translation.service;

import org.apache.beam.sdk.annotations.Internal;
