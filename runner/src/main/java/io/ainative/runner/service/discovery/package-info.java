/**
 * The contract that a service's host and its clients share: what a service or served stage is
 * ({@link io.ainative.runner.service.discovery.ServiceSpec}, {@link
 * io.ainative.runner.service.discovery.StageSpec}), the ready instances and the events and link
 * that publish them, and the scaling requests. Rule: a class that both the source and the client
 * read lives here, and it depends on neither.
 */
@Internal
package io.ainative.runner.service.discovery;

import org.apache.beam.sdk.annotations.Internal;
