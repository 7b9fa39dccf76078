/**
 * The stack's rule that hands the handler a purge of every Invalidation once a deploy has failed
 * (`PURGE_STATUSES`), with the input `rollbackPurgeTemplate` writes.
 */
import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { fitRollbackTargets, ROLLBACK_PURGE_PATHS, rollbackPurgeTemplate } from './rollback-targets';
import type { RollbackPurgeTarget } from './shared/contract';
import { PURGE_STATUSES } from './shared/contract';

/**
 * Adds the rule `RollbackPurge` to `scope`: on the stack's own status events, it invokes `handlerFunction`
 * with the purge of `rollbackTargets` (read when the template is rendered), and sends what it
 * cannot deliver to `deadLetterQueue`.
 */
export function addRollbackPurgeRule(scope: Construct, handlerFunction: lambda.IFunction, deadLetterQueue: sqs.IQueue,
  rollbackTargets: readonly RollbackPurgeTarget[]): events.Rule {
  const stack = Stack.of(scope);
  const stackArnPrefix = `arn:${stack.partition}:cloudformation:${stack.region}:${stack.account}:stack/${stack.stackName}`;
  return new events.Rule(scope, 'RollbackPurge', {
    description: 'Purges the caches of every CloudFront Invalidation of the stack once a deploy has failed',
    eventPattern: {
      source: ['aws.cloudformation'],
      detailType: ['CloudFormation Stack Status Change'],
      detail: {
        // The stack's id as documented (its ARN), and the forms the documentation does not rule out: the handler
        // checks the stack again (docs/eventbridge.md, "Stack status events").
        'stack-id': [{ prefix: `${stackArnPrefix}/` }, stackArnPrefix, stack.stackName],
        'status-details': { status: PURGE_STATUSES },
      },
    },
    targets: [new targets.LambdaFunction(handlerFunction, {
      event: new RollbackPurgeInput(() => rollbackPurgeTemplate(fitRollbackTargets(stack, rollbackTargets)).text),
      // EventBridge's most: CloudFormation's events are delivered durably, and a purge must not be lost.
      retryAttempts: 185,
      maxEventAge: Duration.hours(24),
      deadLetterQueue,
    })],
  });
}

/**
 * The purge rule's input: an InputTransformer whose template is written by `rollbackPurgeTemplate`
 * when the template is rendered (the Invalidations are added after the provider).
 */
class RollbackPurgeInput extends events.RuleTargetInput {
  constructor(private readonly template: () => string) {
    super();
  }

  public bind(_rule: events.IRule): events.RuleTargetInputProperties {
    return { inputPathsMap: ROLLBACK_PURGE_PATHS, inputTemplate: Lazy.uncachedString({ produce: this.template }) };
  }
}
