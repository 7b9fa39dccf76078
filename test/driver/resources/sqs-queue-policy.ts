/**
 * `AWS::SQS::QueuePolicy`: its statements decide whether EventBridge may send a rule's
 * undeliverable events to the queues it names (`../deployed-queues`).
 */
import { plainIdentity } from './other';
import { simulated } from './simulated';

/** A queue policy. */
export const sqsQueuePolicy = simulated({
  identity: plainIdentity,
  apply(context, deployed) {
    context.state.queues.putPolicy(`${context.stack.name}/${deployed.logicalId}`, {
      queues: (deployed.properties.Queues ?? []) as string[],
      statements: (deployed.properties.PolicyDocument as { Statement: unknown[] }).Statement,
    });
  },
  remove(context, deployed) {
    context.state.queues.deletePolicy(`${context.stack.name}/${deployed.logicalId}`);
  },
});
