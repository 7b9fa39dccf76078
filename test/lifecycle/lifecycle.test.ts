/**
 * End to end: real synthesized stacks deployed by the lifecycle driver, the real bundled handler
 * from cdk.out in the Lambda stand-in, the real SDK against the CloudFront emulator.
 */
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Invalidation, InvalidationTrigger } from '../../src';
import { RESOURCE_TYPE } from '../../src/shared/contract';
import { logicalIdOf, SITE_DIR, STACK_NAME, synthSite } from '../demo/app';
import type { SiteOptions } from '../demo/app';
import type { SynthesizedStack } from '../driver/assembly';
import type { LifecycleDriver } from '../driver/driver';
import { coversPrefix, InvariantChecker, unhandledEvents, violations } from '../driver/invariants';
import type { StepReport } from '../driver/reports';
import { expectNoViolations, finishedAt, lifecycleDriverPerTest, withVersion } from '../support/deploys';

let driver: LifecycleDriver;
const start = lifecycleDriverPerTest((started) => (driver = started), { cloud: { cloudfront: { completionDelayMs: 200 } } });

/** The example site with the Invalidation on `onChangeOf(site)`, still after the files. */
function onItsVersion(site: string, options: SiteOptions = {}) {
  return synthSite({
    extend: (_stack, parts) => parts.invalidation.executeAfter(parts.deployment),
    ...options,
    site,
    invalidation: { trigger: InvalidationTrigger.onChangeOf(site) },
  });
}

/** The stack's UPDATE_ROLLBACK_COMPLETE event in a step, and the one invalidation its delivery made, after the files were back. */
function purgeFromRule(step: StepReport) {
  const complete = step.events.find((e) => e.stackName === STACK_NAME && e.status === 'UPDATE_ROLLBACK_COMPLETE');
  expect(complete).toBeDefined();
  const delivery = step.deliveries.find((d) => d.eventId === complete!.eventId && d.copy === 1);
  expect(delivery).toMatchObject({ outcome: 'invoked', handled: true });
  const revert = [...step.content].reverse().find((c) => c.phase === 'rollback')!;
  const after = step.invalidations.filter((i) => i.createdAtRequest > complete!.reachedAt);
  expect(after).toHaveLength(1);
  expect(after[0].createdAtRequest).toBeGreaterThan(revert.landedAt);
  expect(coversPrefix(after[0].paths, revert.prefix)).toBe(true);
  return { revert, purge: after[0], delivery: delivery! };
}

/** The logical id of the example site's BucketDeployment custom resource. */
function bucketDeploymentOf(stack: SynthesizedStack): string {
  return Object.keys(stack.template.Resources).find((id) => stack.template.Resources[id].Type === 'Custom::CDKBucketDeployment')!;
}

const summary = (step: StepReport) => step.requests.map((r) => [r.phase, r.requestType, r.logicalId.replace(/[0-9A-F]{8}$/, ''), r.answer?.Data?.Status]);

describe('the example site', () => {
  test('the first deploy purges /* once, after the BucketDeployment has copied the files', async () => {
    await start();
    const step = await driver.deploy(synthSite({ site: 'v1' }));
    expect(step.stackStatus).toBe('CREATE_COMPLETE');
    expect(step.invalidations).toHaveLength(1);
    expect(step.invalidations[0].paths).toEqual(['/*']);
    expect(step.invalidations[0].createdAtRequest).toBeGreaterThan(finishedAt(step, 'Custom::CDKBucketDeployment'));
    expectNoViolations(driver, step);
  });

  test('a redeploy with nothing changed does not even call the handler', async () => {
    await start();
    await driver.deploy(synthSite({ site: 'v1' }));
    const step = await driver.deploy(synthSite({ site: 'v1' }));
    expect(step.requests).toEqual([]);
    expect(step.invalidations).toEqual([]);
  });

  test('new site content purges once more, after the new files landed', async () => {
    await start();
    const first = await driver.deploy(synthSite({ site: 'v1' }));
    const step = await driver.deploy(synthSite({ site: 'v2' }));
    expect(step.invalidations).toHaveLength(1);
    expect(step.invalidations[0].createdAtRequest).toBeGreaterThan(finishedAt(step, 'Custom::CDKBucketDeployment'));
    expect(step.invalidations[0].callerReference).not.toBe(first.invalidations[0].callerReference);
    expectNoViolations(driver, step);
  });

  test('a request delivered again after it was answered creates nothing', async () => {
    await start();
    await driver.deploy(synthSite({ site: 'v1' }));
    await driver.deploy(synthSite({ site: 'v2' }));
    const step = await driver.redeliverLast(STACK_NAME);
    expect(step.requests[0].answer?.Status).toBe('SUCCESS');
    expect(step.invalidations).toEqual([]);
  });

  test('a rollback\'s Update delivered again after a later update rolled back too creates nothing', async () => {
    await start();
    await driver.deploy(synthSite({ site: 'v1' }));
    const failing = synthSite({ site: 'v2', recordPurge: true });
    const first = await driver.deploy(failing, { fail: [logicalIdOf(failing, 'LastPurge')] });
    expect(summary(first)).toEqual([['deploy', 'Update', 'Purge', 'Submitted'], ['rollback', 'Update', 'Purge', 'RolledBack']]);
    // An update that sends the handler nothing (the copy fails) and rolls back.
    const later = withVersion('v3');
    const second = await driver.deploy(later, { fail: [bucketDeploymentOf(later)] });
    expect([second.stackStatus, second.requests]).toEqual(['UPDATE_ROLLBACK_COMPLETE', []]);
    const step = await driver.redeliverLast(STACK_NAME);
    expect(step.requests.map((r) => [r.stackStatus, r.answer?.Status])).toEqual([['UPDATE_ROLLBACK_COMPLETE', 'SUCCESS']]);
    expect(step.invalidations).toEqual([]);
    expectNoViolations(driver, step);
  });

  test('every request delivered twice during the deploys still gives one invalidation each', async () => {
    await start();
    const steps = [
      await driver.deploy(synthSite({ site: 'v1' }), { duplicateDelivery: true }),
      await driver.deploy(synthSite({ site: 'v2' }), { duplicateDelivery: true }),
    ];
    expect(steps.map((s) => s.invalidations.length)).toEqual([1, 1]);
    steps.forEach((step) => expectNoViolations(driver, step));
  });

  test('deleting the stack sends a Delete that succeeds and invalidates nothing', async () => {
    await start();
    await driver.deploy(synthSite({ site: 'v1' }));
    const step = await driver.destroy(STACK_NAME);
    expect(step.stackStatus).toBe('DELETE_COMPLETE');
    expect(step.requests.map((r) => [r.requestType, r.resourceType, r.answer?.Status])).toEqual([['Delete', RESOURCE_TYPE, 'SUCCESS']]);
    expect(step.invalidations).toEqual([]);
    expectNoViolations(driver, step);
  });

  test('deleting the stack after the distribution is already gone still succeeds', async () => {
    await start();
    await driver.deploy(synthSite({ site: 'v1' }));
    driver.cloud.cloudfront.deleteDistribution(driver.resource(STACK_NAME, logicalIdOf(synthSite(), 'Cdn'))!.physicalId);
    const step = await driver.destroy(STACK_NAME);
    expect(step.stackStatus).toBe('DELETE_COMPLETE');
    expect(step.requests.map((r) => r.answer?.Status)).toEqual(['SUCCESS']);
  });

  test('renaming the Invalidation replaces it: the new one purges, the old one is deleted without purging', async () => {
    await start();
    await driver.deploy(synthSite({ site: 'v1' }));
    const step = await driver.deploy(synthSite({ site: 'v1', invalidationId: 'Refresh' }));
    expect(summary(step)).toEqual([['deploy', 'Create', 'Refresh', 'Submitted'], ['cleanup', 'Delete', 'Purge', 'Deleted']]);
    expect(step.invalidations).toHaveLength(1);
    expectNoViolations(driver, step);
  });
});

describe('rollbacks: the stack\'s rule purges once the rollback is complete', () => {
  test.each(['dependencies-first', 'dependents-first'] as const)(
    'a deploy that fails after the purge rolls back, and the content put back is purged once, after it landed (rollback %s)',
    async (rollbackOrder) => {
      await start({ rollbackOrder });
      await driver.deploy(synthSite({ site: 'v1' }));
      const v2 = await driver.deploy(synthSite({ site: 'v2' }));
      const failing = synthSite({ site: 'v3', recordPurge: true });
      const step = await driver.deploy(failing, { fail: [logicalIdOf(failing, 'LastPurge')] });

      expect(step.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
      const { revert, purge } = purgeFromRule(step);
      expect(revert.version).toBe(v2.content[0].version);
      // The Invalidation's own rollback purges nothing, and gives back the rolled-back-to attributes.
      const rollback = step.requests.find((r) => r.phase === 'rollback')!;
      expect(rollback.answer).toMatchObject({ Status: 'SUCCESS', Data: { Status: 'RolledBack', InvalidationId: v2.invalidations[0].id } });
      expect(step.invalidations).toHaveLength(2);
      const earlier = driver.steps.slice(0, -1).flatMap((s) => s.invalidations.map((i) => i.callerReference));
      expect(earlier).not.toContain(purge.callerReference);
      expectNoViolations(driver, step);
    },
  );

  test.each(['dependencies-first', 'dependents-first'] as const)(
    'a deploy that fails before the invalidation\'s turn: the files are purged after the rollback put them back (rollback %s)',
    async (rollbackOrder) => {
      await start({ rollbackOrder });
      await driver.deploy(withVersion('v1'));
      const failing = withVersion('v2');
      const step = await driver.deploy(failing, { fail: [logicalIdOf(failing, 'Version')] });

      expect(step.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
      // The files changed and went back; CloudFormation never asked the Invalidation.
      expect(step.content.map((c) => c.phase)).toEqual(['deploy', 'rollback']);
      expect(step.requests).toEqual([]);
      purgeFromRule(step);
      expect(step.invalidations).toHaveLength(1);
      expectNoViolations(driver, step);
    },
  );

  test('with the onChangeOf trigger too, a deploy failing before the purge is purged after its rollback', async () => {
    await start();
    await driver.deploy(onItsVersion('v1'));
    const failing = onItsVersion('v2', {
      extend: (stack, parts) => {
        parts.invalidation.executeAfter(parts.deployment);
        new ssm.StringParameter(stack, 'Version', { stringValue: 'v2' });
      },
    });
    const step = await driver.deploy(failing, { fail: [logicalIdOf(failing, 'Version')] });
    expect([step.stackStatus, step.requests]).toEqual(['UPDATE_ROLLBACK_COMPLETE', []]);
    purgeFromRule(step);
    expectNoViolations(driver, step);
  });

  test.each(['after', 'before'])('late duplicates of a failed update\'s requests, arriving during its rollback, add no purge (failing %s the purge)', async (when) => {
    await start();
    await driver.deploy(synthSite({ site: 'v1' }));
    const failing = when === 'after' ? synthSite({ site: 'v2', recordPurge: true }) : withVersion('v2');
    const step = await driver.deploy(failing, { fail: [logicalIdOf(failing, when === 'after' ? 'LastPurge' : 'Version')], lateDuplicates: true });
    expect(step.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    purgeFromRule(step);
    expect(step.invalidations).toHaveLength(when === 'after' ? 2 : 1);
    expectNoViolations(driver, step);
  });

  test('a failed update that switches the trigger to onChangeOf: the Invalidation\'s rollback purges nothing, the rule purges once', async () => {
    await start();
    await driver.deploy(synthSite({ site: 'v1' }));
    const failing = onItsVersion('v2', { recordPurge: true });
    const step = await driver.deploy(failing, { fail: [logicalIdOf(failing, 'LastPurge')] });
    expect(step.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(summary(step)).toEqual([['deploy', 'Update', 'Purge', 'Submitted'], ['rollback', 'Update', 'Purge', 'RolledBack']]);
    purgeFromRule(step);
    expectNoViolations(driver, step);
  });

  test('an invalidation whose own update fails is rolled back too, and the files put back are purged once, after they landed', async () => {
    await start();
    await driver.deploy(synthSite({ site: 'v1' }));
    driver.cloud.cloudfront.failNext('CreateInvalidation', 'Malformed');
    const step = await driver.deploy(synthSite({ site: 'v2' }));
    expect(step.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(step.requests.map((r) => [r.phase, r.answer?.Status, r.answer?.Data?.Status])).toEqual([
      ['deploy', 'FAILED', 'Failed'],
      ['rollback', 'SUCCESS', 'RolledBack'],
    ]);
    purgeFromRule(step);
    expectNoViolations(driver, step);
  });

  test('a failed update that renames the Invalidation: the new one, deleted by the rollback\'s cleanup, purges before it answers, and the rule purges the old', async () => {
    await start();
    await driver.deploy(synthSite({ site: 'v1' }));
    const failing = synthSite({ site: 'v2', invalidationId: 'Refresh', recordPurge: true });
    const step = await driver.deploy(failing, { fail: [logicalIdOf(failing, 'LastPurge')] });
    expect(step.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(summary(step)).toEqual([['deploy', 'Create', 'Refresh', 'Submitted'], ['rollback', 'Delete', 'Refresh', 'Deleted']]);
    const cleanup = step.requests[1];
    expect(cleanup.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS');
    const revert = step.content.find((c) => c.phase === 'rollback')!;
    const fromDelete = step.invalidations.filter((i) => i.createdAtRequest > revert.landedAt && i.createdAtRequest < cleanup.answeredAt!);
    expect(fromDelete).toHaveLength(1);
    purgeFromRule(step);
    expectNoViolations(driver, step);
  });

  test('a failing deploy that also renames the Invalidation before its turn: the rule of the template rolled back to purges', async () => {
    await start();
    await driver.deploy(synthSite({ site: 'v1' }));
    const failing = withVersion('v2', { invalidationId: 'Refresh' });
    const step = await driver.deploy(failing, { fail: [logicalIdOf(failing, 'Version')] });
    expect([step.stackStatus, step.requests]).toEqual(['UPDATE_ROLLBACK_COMPLETE', []]);
    purgeFromRule(step);
    expectNoViolations(driver, step);
  });

  test('a stack status that cannot be read for a while is read again, never taken for "not a rollback"', async () => {
    await start();
    await driver.deploy(synthSite({ site: 'v1' }));
    let throttled = 0;
    // Two of the handler's reads in a row, each after the SDK's own retries.
    driver.cloud.cloudformation.throttleDescribeStacks = ({ status }) => status === 'UPDATE_ROLLBACK_IN_PROGRESS' && ++throttled <= 6;
    const failing = synthSite({ site: 'v2', recordPurge: true });
    const step = await driver.deploy(failing, { fail: [logicalIdOf(failing, 'LastPurge')] });

    expect(throttled).toBeGreaterThan(6);
    expect(summary(step)).toEqual([['deploy', 'Update', 'Purge', 'Submitted'], ['rollback', 'Update', 'Purge', 'RolledBack']]);
    purgeFromRule(step);
    expect(step.invalidations).toHaveLength(2);
    expectNoViolations(driver, step);
  });

  test('a slow rollback: the purge comes once it is over, after the files are back', async () => {
    await start({ rollbackOrder: 'dependencies-first' });
    await driver.deploy(synthSite({ site: 'v1' }));
    const failing = synthSite({ site: 'v2', recordPurge: true });
    const step = await driver.deploy(failing, { fail: [logicalIdOf(failing, 'LastPurge')], rollbackStepMs: 1500 });
    const { purge } = purgeFromRule(step);
    const lastRevert = Math.max(...step.changes.filter((c) => c.phase === 'rollback').map((c) => c.finishedAt));
    expect(purge.createdAtRequest).toBeGreaterThan(lastRevert);
    expectNoViolations(driver, step);
  });
});

describe('purges the old rollback machinery lost', () => {
  test('a cleanup Delete whose invocation is killed right after it answers: its purge was made before the answer, and Lambda\'s retry adds none', async () => {
    await start();
    await driver.deploy(synthSite({ site: 'v1' }));
    let crashed = 0;
    driver.cloud.cloudformation.onAnswer = (token, answer) => {
      if (answer.Data?.Status === 'Deleted' && driver.stackStatus(STACK_NAME) === 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS') {
        crashed += driver.cloud.lambda.crashWhere((payload) => String((payload as { ResponseURL?: string })?.ResponseURL).includes(token));
      }
    };
    const failing = synthSite({ site: 'v2', invalidationId: 'Refresh', recordPurge: true });
    const step = await driver.deploy(failing, { fail: [logicalIdOf(failing, 'LastPurge')] });

    expect(crashed).toBe(1);
    const cleanup = step.requests.find((r) => r.requestType === 'Delete')!;
    // Lambda ran the killed invocation again; the retry found the work done.
    expect(cleanup.deliveries).toBe(2);
    const revert = step.content.find((c) => c.phase === 'rollback')!;
    expect(step.invalidations.filter((i) => i.createdAtRequest > revert.landedAt && i.createdAtRequest < cleanup.answeredAt!)).toHaveLength(1);
    purgeFromRule(step);
    expect(step.invalidations).toHaveLength(3);
    expectNoViolations(driver, step);
  });

  test('a hand-off to a fresh invocation that IAM denies at first: the rollback purge fails the invocation, and Lambda\'s retry makes it', async () => {
    await start({ cloud: { lambdaTimeoutMs: 4000, retryDelaysMs: [500, 1000], cloudfront: { completionDelayMs: 200 } } });
    await driver.deploy(withVersion('v1'));
    const site = driver.resource(STACK_NAME, logicalIdOf(withVersion('v1'), 'Cdn'))!.physicalId;
    const allow = driver.cloud.authorizer;
    let denied = 0;
    driver.cloud.authorizer = (action, arn) => (action === 'lambda:InvokeFunction' && denied < 1 ? (denied++, false) : allow(action, arn));
    // Others' wildcards fill the distribution for longer than one invocation works, then complete.
    driver.cloud.cloudfront.seedInvalidation(site, Array.from({ length: 15 }, (_, i) => `/other${i}/*`), 6000);
    const failing = withVersion('v2');
    const step = await driver.deploy(failing, { fail: [logicalIdOf(failing, 'Version')] });

    expect(denied).toBe(1);
    const { delivery } = purgeFromRule(step);
    const runs = driver.cloud.lambda.invocations.filter((i) => i.payload === delivery.payload);
    expect(runs[0].outcome).toBe('error');
    expect(runs.length).toBeGreaterThan(1);
    expectNoViolations(driver, step);
  });

  test('cloudformation:DescribeStackResource denied by a permissions boundary: the rollback purge needs it not, and every request is still answered', async () => {
    await start();
    await driver.deploy(synthSite({ site: 'v1' }));
    const allow = driver.cloud.authorizer;
    driver.cloud.authorizer = (action, arn) => action !== 'cloudformation:DescribeStackResource' && allow(action, arn);
    const failing = synthSite({ site: 'v2', recordPurge: true });
    const step = await driver.deploy(failing, { fail: [logicalIdOf(failing, 'LastPurge')] });

    expect(step.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(step.requests.map((r) => r.answer?.Status)).toEqual(['SUCCESS', 'SUCCESS']);
    purgeFromRule(step);
    expectNoViolations(driver, step);
  });

  test('a late duplicate of an older update delivered during a rollback (onChangeOf trigger) creates nothing beyond what the requests allow', async () => {
    await start();
    await driver.deploy(onItsVersion('v1'));
    const v2 = await driver.deploy(onItsVersion('v2'));
    expect(v2.invalidations).toHaveLength(1);
    const failing = onItsVersion('v3', { recordPurge: true });
    const step = await driver.deploy(failing, { fail: [logicalIdOf(failing, 'LastPurge')], staleDuplicate: true });

    const stale = step.requests.find((r) => r.phase === 'redelivery')!;
    expect([stale.requestId, stale.stackStatus]).toEqual([v2.requests[0].requestId, 'UPDATE_ROLLBACK_IN_PROGRESS']);
    expect(stale.answer?.Status).toBe('SUCCESS');
    // The forward purge of v3, and the rule's after the rollback: nothing for the duplicate.
    expect(step.invalidations).toHaveLength(2);
    purgeFromRule(step);
    expectNoViolations(driver, step);
  });

  test('a rollback that ends UPDATE_ROLLBACK_FAILED purges nothing; continued later, it purges once, after the files are back', async () => {
    await start();
    await driver.deploy(withVersion('v1'));
    const failing = withVersion('v2');
    const step = await driver.deploy(failing, { fail: [logicalIdOf(failing, 'Version')], failRollback: [bucketDeploymentOf(failing)] });
    expect(step.stackStatus).toBe('UPDATE_ROLLBACK_FAILED');
    expect(step.content.map((c) => c.phase)).toEqual(['deploy']);
    expect(step.invalidations).toEqual([]);
    expect(step.deliveries).toEqual([]);
    const checker = new InvariantChecker(driver.cloud.cloudfront);
    expect(checker.check(step)).toEqual([]);

    const resumed = await driver.continueUpdateRollback(STACK_NAME);
    expect(resumed.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(resumed.content.map((c) => c.phase)).toEqual(['rollback']);
    purgeFromRule(resumed);
    expect(resumed.invalidations).toHaveLength(1);
    expect(checker.check(resumed)).toEqual([]);
    expect(checker.awaiting).toBe(0);
  });
});

describe('stack status events delivered at least once', () => {
  test('the UPDATE_ROLLBACK_COMPLETE event delivered twice creates nothing new', async () => {
    await start();
    await driver.deploy(withVersion('v1'));
    const failing = withVersion('v2');
    const step = await driver.deploy(failing, { fail: [logicalIdOf(failing, 'Version')], events: { twice: true } });
    const complete = step.deliveries.filter((d) => d.status === 'UPDATE_ROLLBACK_COMPLETE');
    expect(complete.map((d) => [d.copy, d.handled])).toEqual([[1, true], [2, true]]);
    expect(step.invalidations).toHaveLength(1);
    expectNoViolations(driver, step);
  });

  test('delivered late, once the next deploy has begun, it still purges', async () => {
    await start();
    await driver.deploy(withVersion('v1'));
    const failing = withVersion('v2');
    const checker = new InvariantChecker(driver.cloud.cloudfront);
    const step = await driver.deploy(failing, { fail: [logicalIdOf(failing, 'Version')], events: { late: 'next-step' } });
    expect([step.stackStatus, step.invalidations, step.heldDeliveries]).toEqual(['UPDATE_ROLLBACK_COMPLETE', [], 1]);
    expect(checker.check(step)).toEqual([]);
    expect(checker.awaiting).toBe(2);

    const next = await driver.deploy(withVersion('v1'));
    const late = next.deliveries.find((d) => d.status === 'UPDATE_ROLLBACK_COMPLETE')!;
    expect(late).toMatchObject({ late: true, handled: true });
    // Nothing changed in the next deploy: the only invalidation is the late purge.
    expect(next.invalidations).toHaveLength(1);
    expect(checker.check(next)).toEqual([]);
    expect(checker.awaiting).toBe(0);
  });

  test('delivered late by a delay, it still purges, once', async () => {
    await start();
    await driver.deploy(withVersion('v1'));
    const failing = withVersion('v2');
    const step = await driver.deploy(failing, { fail: [logicalIdOf(failing, 'Version')], events: { late: 1500, twice: true } });
    expect(step.deliveries.filter((d) => d.status === 'UPDATE_ROLLBACK_COMPLETE').map((d) => d.late)).toEqual([true, true]);
    expect(step.invalidations).toHaveLength(1);
    expectNoViolations(driver, step);
  });
});

describe('rollback purges that cannot be made', () => {
  test('a rollback purge whose every attempt dies is kept in the handler\'s dead-letter queue, and the checks say so', async () => {
    await start({ cloud: { retryDelaysMs: [50, 100], cloudfront: { completionDelayMs: 200 } } });
    await driver.deploy(withVersion('v1'));
    // Every invocation of the rollback purge dies at its first call to CloudFront, as out of memory.
    driver.cloud.cloudfront.onRequest(() => driver.cloud.lambda.crashWhere((payload) => !!(payload as { rollbackPurge?: unknown })?.rollbackPurge));
    const failing = withVersion('v2');
    const step = await driver.deploy(failing, { fail: [logicalIdOf(failing, 'Version')] });

    const delivery = step.deliveries.find((d) => d.status === 'UPDATE_ROLLBACK_COMPLETE')!;
    expect(delivery).toMatchObject({ outcome: 'invoked', handled: false, attempts: 3 });
    const queue = Object.keys(failing.template.Resources).find((id) => failing.template.Resources[id].Type === 'AWS::SQS::Queue')!;
    const failures = driver.cloud.lambda.asyncFailures.filter((f) => f.payload === delivery.payload);
    expect(failures.map((f) => f.deadLetterArn)).toEqual([driver.resource(STACK_NAME, queue)!.attributes.Arn]);
    expect(unhandledEvents(step)).toHaveLength(1);
    expect(violations(step, driver.cloud.cloudfront).some((v) => v.includes('was not purged after it landed'))).toBe(true);
  });
});

describe('several invalidations', () => {
  test('three Invalidations in a stack share one handler and each purges its own paths', async () => {
    await start();
    const step = await driver.deploy(synthSite({
      extend: (stack, { distribution }) => {
        new Invalidation(stack, 'Images', { distribution, paths: ['/images/*'] });
        new Invalidation(stack, 'Feed', { distribution, paths: ['/feed.xml', '/feed.json'] });
      },
    }));
    expect(step.invalidations.map((i) => [...i.paths].sort().join(' ')).sort()).toEqual(['/*', '/feed.json /feed.xml', '/images/*']);
    const handlers = new Set(driver.cloud.lambda.invocations.map((i) => i.functionName));
    expect(handlers.size).toBe(1);
    expectNoViolations(driver, step);
  });

  test('two distributions in a stack are each purged, each with IAM for its own ARN', async () => {
    await start();
    const step = await driver.deploy(synthSite({
      extend: (stack) => {
        const bucket = new s3.Bucket(stack, 'Docs');
        const docs = new cloudfront.Distribution(stack, 'DocsCdn', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
        new s3deploy.BucketDeployment(stack, 'DocsSite', { sources: [s3deploy.Source.asset(`${SITE_DIR}/v2`)], destinationBucket: bucket });
        new Invalidation(stack, 'DocsPurge', { distribution: docs });
      },
    }));
    expect(new Set(step.invalidations.map((i) => i.distributionId)).size).toBe(2);
    expect(step.content).toHaveLength(2);
    expectNoViolations(driver, step);
  });
});

