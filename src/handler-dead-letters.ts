/**
 * The handler's dead-letter queue, and the alarm on it (the `failureAlarm` and
 * `failureAlarmActions` settings).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type { CfnResource } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { acknowledge } from './acknowledgements';

/** Keeps what neither Lambda's asynchronous retries nor the purge rule's could deliver, for 14 days. */
export function createDeadLetterQueue(scope: Construct): sqs.Queue {
  const queue = new sqs.Queue(scope, 'DeadLetters', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  acknowledge(queue.node.defaultChild as CfnResource, {
    id: 'Serverless-SQSRedrivePolicy',
    reason: 'This queue is a dead-letter queue: the last stop of the handler\'s failed invocations and undeliverable events, read by people.',
  });
  return queue;
}

/** An alarm that goes off when the dead-letter queue holds a message: a purge that has finally failed. */
export function createFailureAlarm(scope: Construct, deadLetterQueue: sqs.IQueue): cloudwatch.Alarm {
  return new cloudwatch.Alarm(scope, 'FailureAlarm', {
    alarmDescription: `A CloudFront purge of stack ${Stack.of(scope).stackName} has finally failed: read the message in the dead-letter `
      + 'queue and the handler\'s log, then purge by hand (README, "Troubleshooting").',
    metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}
