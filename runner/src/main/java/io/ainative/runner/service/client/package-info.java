/**
 * The asynchronous client operator in the data pipeline, its coordinator and what only it uses:
 * batching, request encoding, offloading to the object store, the instance pool. Rule: a class used
 * only by the calling side lives here; it never depends on the source.
 */
@Internal
package io.ainative.runner.service.client;

import org.apache.beam.sdk.annotations.Internal;
