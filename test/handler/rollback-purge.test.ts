/**
 * The purge after a rollback, as the stack's EventBridge rule hands it to the bundled handler
 * (taken from cdk.out, run in the Lambda stand-in, the real AWS SDK against the CloudFront
 * emulator, under the IAM its template gives it). The lifecycle tests let the driver emit the
 * events from real stack status changes; here they are made by hand to reach the faults.
 */
import { randomUUID } from 'crypto';
import { RESOURCE_TYPE } from '../../src/shared/contract';
import type { RollbackPurgeEvent, RollbackPurgeTarget } from '../../src/shared/contract';
import { OTHER, SITE, STACK_ID } from '../driver/handler-fixture';
import type { LocalCloud } from '../driver/local-cloud';
import { handlerCloudPerTest } from '../support/handler-cloud';
import type { InvalidationRequests } from '../support/requests';

let cloud: LocalCloud;
let fn: { name: string; arn: string };
let make: InvalidationRequests;
const start = handlerCloudPerTest((started) => ({ cloud, fn, r: make } = started), [SITE, OTHER]);

const STACK_NAME = STACK_ID.split('/')[1];

/** Records a stack event as CloudFormation would: the stack's own when `logicalId` is the stack's name. */
function stackEvent(status: string, at: number, resource: { logicalId?: string; properties?: object } = {}): void {
  const logicalId = resource.logicalId ?? STACK_NAME;
  cloud.cloudformation.addStackEvent({
    StackId: STACK_ID,
    EventId: randomUUID(),
    StackName: STACK_NAME,
    LogicalResourceId: logicalId,
    PhysicalResourceId: logicalId === STACK_NAME ? STACK_ID : '',
    ResourceType: logicalId === STACK_NAME ? 'AWS::CloudFormation::Stack' : RESOURCE_TYPE,
    Timestamp: new Date(at),
    ResourceStatus: status,
    ...(resource.properties ? { ResourceProperties: JSON.stringify(resource.properties) } : {}),
  });
}

/**
 * The event of a rollback that completed at `time`, and the stack's events of that update: it
 * started from UPDATE_COMPLETE, its Invalidations got `named` (properties of each), and it rolled back.
 */
function rollbackEvent(
  targets: RollbackPurgeTarget[], eventId = randomUUID(), time = Date.now(), named: object[] = [],
): RollbackPurgeEvent {
  stackEvent('UPDATE_COMPLETE', time - 5000);
  stackEvent('UPDATE_IN_PROGRESS', time - 4000);
  named.forEach((properties, i) => stackEvent('UPDATE_IN_PROGRESS', time - 3000 + i, { logicalId: `Invalidation${i}`, properties }));
  stackEvent('UPDATE_ROLLBACK_IN_PROGRESS', time - 2000);
  stackEvent('UPDATE_ROLLBACK_COMPLETE', time);
  return { rollbackPurge: { eventId, stackId: STACK_ID, status: 'UPDATE_ROLLBACK_COMPLETE', time: new Date(time).toISOString(), targets } };
}

async function deliver(event: RollbackPurgeEvent): Promise<void> {
  cloud.lambda.invokeAsync(fn.name, event);
  await cloud.lambda.idle();
}

const TARGETS = [{ DistributionId: SITE, Paths: ['/*'] }, { DistributionId: OTHER, Paths: ['/index.html', '/assets/*'] }];

describe('the purge after a rollback', () => {
  test('purges every target once, after which a second delivery of the same event creates nothing', async () => {
    await start();
    const event = rollbackEvent([...TARGETS, TARGETS[0]]);
    await deliver(event);
    expect(cloud.cloudfront.invalidations(SITE).map((i) => i.paths)).toEqual([['/*']]);
    expect(cloud.cloudfront.invalidations(OTHER).map((i) => [...i.paths].sort())).toEqual([['/assets/*', '/index.html']]);
    await deliver(event);
    expect(cloud.cloudfront.invalidations().length).toBe(2);
    // Another rollback is another event: it purges again.
    await deliver(rollbackEvent(TARGETS));
    expect(cloud.cloudfront.invalidations().length).toBe(4);
    expect(cloud.lambda.invocations.map((i) => i.outcome)).toEqual(['ok', 'ok', 'ok']);
  });

  test('writes one purge line per target, with the cause and the time since the stack status event', async () => {
    await start();
    await deliver(rollbackEvent(TARGETS, randomUUID(), Date.now() - 1000));
    const lines = cloud.lambda.logs().split('\n').filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.message === 'purge');
    expect(lines.map((l) => [l.cause, l.outcome, l.distributionId, l.pathCount, l.wildcardCount, l.stackId])).toEqual([
      ['failed deploy', 'accepted', SITE, 1, 1, STACK_ID],
      ['failed deploy', 'accepted', OTHER, 2, 1, STACK_ID],
    ]);
    expect(lines[0].msToAccepted as number).toBeGreaterThanOrEqual(1000);
  });

  test('an invocation killed after its first CreateInvalidation: Lambda\'s retry purges the rest and nothing twice', async () => {
    await start();
    cloud.cloudfront.onRequest((r) => {
      if (r.created && cloud.cloudfront.invalidations().length === 1) {
        cloud.lambda.crash(fn.name);
      }
    });
    await deliver(rollbackEvent(TARGETS));
    expect(cloud.lambda.invocations.map((i) => i.outcome)).toEqual(['crash', 'ok']);
    expect(cloud.cloudfront.invalidations(SITE)).toHaveLength(1);
    expect(cloud.cloudfront.invalidations(OTHER)).toHaveLength(1);
  });

  test('a hand-off to a fresh invocation that IAM denies fails the invocation, and Lambda\'s retry finishes the purge', async () => {
    await start({ lambdaTimeoutMs: 4000 });
    const allow = cloud.authorizer;
    let denied = 0;
    cloud.authorizer = (action, arn) => (action === 'lambda:InvokeFunction' ? (denied++, false) : allow(action, arn));
    // Others' wildcards fill the distribution for longer than one invocation works (a second: it
    // keeps three of its four for handing over), then complete.
    cloud.cloudfront.seedInvalidation(SITE, Array.from({ length: 15 }, (_, i) => `/other${i}/*`), 2000);
    await deliver(rollbackEvent([TARGETS[0]]));
    expect(denied).toBeGreaterThan(0);
    const outcomes = cloud.lambda.invocations.map((i) => i.outcome);
    expect(outcomes[0]).toBe('error');
    expect(outcomes[outcomes.length - 1]).toBe('ok');
    expect(cloud.cloudfront.invalidations(SITE).filter((i) => !i.paths[0].startsWith('/other')).map((i) => i.paths)).toEqual([['/*']]);
  });

  test('purges what the failed update named too, read from the stack\'s events back to its last stable status, and nothing older', async () => {
    await start();
    const invalidation = (DistributionId: string, Paths: string[]) => make.properties({ DistributionId, Paths, Trigger: ['x'] });
    // An older update's Invalidation, before the stack's last stable status: not this failure's.
    const now = Date.now();
    stackEvent('UPDATE_IN_PROGRESS', now - 9000);
    stackEvent('UPDATE_IN_PROGRESS', now - 8000, { logicalId: 'Older', properties: invalidation(OTHER, ['/older']) });
    await deliver(rollbackEvent([TARGETS[0]], randomUUID(), now, [invalidation(OTHER, ['/moved/*']), invalidation(SITE, ['/*'])]));
    expect(cloud.lambda.invocations.map((i) => i.outcome)).toEqual(['ok']);
    expect(cloud.cloudfront.invalidations(SITE).map((i) => i.paths)).toEqual([['/*']]);
    expect(cloud.cloudfront.invalidations(OTHER).map((i) => i.paths)).toEqual([['/moved/*']]);
  });

  test('stack events denied for a while (a policy not applied yet) are read again, and the purge completes in the first invocation', async () => {
    await start();
    const allow = cloud.authorizer;
    let denied = 0;
    cloud.authorizer = (action, arn) => (action === 'cloudformation:DescribeStackEvents' && denied < 2 ? (denied++, false) : allow(action, arn));
    const now = Date.now();
    await deliver(rollbackEvent([TARGETS[0]], randomUUID(), now, [make.properties({ DistributionId: OTHER, Paths: ['/moved/*'], Trigger: ['x'] })]));
    expect(denied).toBe(2);
    expect(cloud.lambda.invocations.map((i) => i.outcome)).toEqual(['ok']);
    expect(cloud.cloudfront.invalidations(OTHER).map((i) => i.paths)).toEqual([['/moved/*']]);
  });

  test('a distribution that is gone fails the invocation (so the dead-letter queue keeps the event) and still purges the others', async () => {
    await start();
    cloud.cloudfront.deleteDistribution(OTHER);
    await deliver(rollbackEvent(TARGETS));
    expect(cloud.cloudfront.invalidations(SITE)).toHaveLength(1);
    expect(cloud.lambda.invocations.map((i) => i.outcome)).toEqual(['error', 'error', 'error']);
    expect(cloud.lambda.invocations[0].error).toMatch(/NoSuchDistribution/);
    expect(cloud.cloudfront.invalidations(SITE)).toHaveLength(1);
  });
});

describe('late events', () => {
  test('an event delivered hours after the rollback still purges', async () => {
    await start();
    await deliver(rollbackEvent([TARGETS[0]], randomUUID(), Date.now() - 20 * 3600_000));
    expect(cloud.lambda.invocations.map((i) => i.outcome)).toEqual(['ok']);
    expect(cloud.cloudfront.invalidations(SITE)).toHaveLength(1);
  });
});
