/**
 * The RpcOperator host: the FLIP-27 source whose readers host an inference server or a served
 * stage and whose enumerator keeps the membership. Rule: a class used only inside the service's
 * own tasks or its split enumerator lives here; it never depends on the client.
 */
@Internal
package io.ainative.runner.service.source;

import org.apache.beam.sdk.annotations.Internal;
