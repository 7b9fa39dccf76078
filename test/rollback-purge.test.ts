/**
 * The purge after a rollback, as the stack's EventBridge rule hands it to the bundled handler
 * (taken from cdk.out, run in the Lambda stand-in, the real AWS SDK against the CloudFront
 * emulator, under the IAM its template gives it). The lifecycle tests let the driver emit the
 * events from real stack status changes; here they are made by hand to reach the faults.
 */
import { randomUUID } from 'crypto';
import type { SynthesizedStack } from './driver/assembly';
import { OTHER, SITE, STACK_ID, startHandlerCloud, stopHandlerCloud, synthHandlerStack } from './driver/handler-fixture';
import type { LocalCloud } from './driver/local-cloud';
import type { RollbackPurgeEvent, RollbackPurgeTarget } from '../src/contract';

let synthesized: SynthesizedStack;
let cloud: LocalCloud;
let fn: { name: string; arn: string };

beforeAll(() => {
  synthesized = synthHandlerStack();
});

async function start(options: { lambdaTimeoutMs?: number } = {}): Promise<void> {
  ({ cloud, fn } = await startHandlerCloud(synthesized, options, [SITE, OTHER]));
}

afterEach(() => stopHandlerCloud(cloud));

function rollbackEvent(targets: RollbackPurgeTarget[], eventId = randomUUID()): RollbackPurgeEvent {
  return { rollbackPurge: { eventId, stackId: STACK_ID, status: 'UPDATE_ROLLBACK_COMPLETE', time: new Date().toISOString(), targets } };
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

  test('needs nothing of CloudFormation: denied DescribeStacks and DescribeStackResource do not stop it', async () => {
    await start();
    const allow = cloud.authorizer;
    cloud.authorizer = (action, arn) => !action.startsWith('cloudformation:') && allow(action, arn);
    await deliver(rollbackEvent(TARGETS));
    expect(cloud.cloudfront.invalidations()).toHaveLength(2);
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
    const event = rollbackEvent([TARGETS[0]]);
    await deliver({ rollbackPurge: { ...event.rollbackPurge, time: new Date(Date.now() - 20 * 3600_000).toISOString() } });
    expect(cloud.lambda.invocations.map((i) => i.outcome)).toEqual(['ok']);
    expect(cloud.cloudfront.invalidations(SITE)).toHaveLength(1);
  });
});
