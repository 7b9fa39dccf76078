/**
 * `AWS::SQS::QueuePolicy`: its statements decide whether EventBridge may send a rule's
 * undeliverable events to the queues it names (`../deployed-queues`).
 */
import { plainIdentity } from './other';
import { simulated } from './simulated';

/** A queue policy. */
export const sqsQueuePolicy = simulated({
  identity: plainIdentity,
  apply(at, deployed) {
    at.state.queues.putPolicy(`${at.stack.name}/${deployed.logicalId}`, {
      queues: (deployed.properties.Queues ?? []) as string[],
      statements: (deployed.properties.PolicyDocument as { Statement: unknown[] }).Statement,
    });
  },
  remove(at, deployed) {
    at.state.queues.deletePolicy(`${at.stack.name}/${deployed.logicalId}`);
  },
});
