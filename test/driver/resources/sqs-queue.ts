/**
 * `AWS::SQS::Queue`: its Ref is its URL; a queue a rule's dead-letter configuration names must
 * exist for EventBridge to send to it (`../deployed-queues`).
 */
import { ACCOUNT_ID, REGION } from '../local-cloud';
import { arn, simulated } from './simulated';

/** A queue. */
export const sqsQueue = simulated({
  identity(_at, properties, { name }) {
    // Its Ref is the queue's URL.
    const queueName = String(properties.QueueName ?? name.slice(0, 80));
    const url = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT_ID}/${queueName}`;
    return { physicalId: url, attributes: { Arn: arn('sqs', queueName), QueueName: queueName, QueueUrl: url } };
  },
  apply(context, deployed) {
    context.state.queues.putQueue(String(deployed.attributes.Arn), deployed.physicalId);
  },
  remove(context, deployed) {
    context.state.queues.deleteQueue(String(deployed.attributes.Arn));
  },
});
