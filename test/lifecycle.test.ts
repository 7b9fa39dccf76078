/**
 * End to end: real synthesized stacks deployed by the lifecycle driver, the real bundled handler
 * from cdk.out in the Lambda stand-in, the real SDK against the CloudFront emulator.
 */
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Invalidation, InvalidationTrigger } from '../src';
import { logicalIdOf, SITE_DIR, STACK_NAME, synthSite } from './demo/app';
import type { SiteOptions } from './demo/app';
import type { DriverOptions, StepReport } from './driver/driver';
import { LifecycleDriver } from './driver/driver';
import { coversPrefix, duplicateInvalidations, extraAnswers, uncoveredChanges, violations } from './driver/invariants';

let driver: LifecycleDriver;

async function start(options: DriverOptions = {}): Promise<LifecycleDriver> {
  driver = await LifecycleDriver.start({ cloud: { cloudfront: { completionDelayMs: 200 } }, ...options });
  return driver;
}

afterEach(async () => {
  await driver?.close();
});

function expectNoViolations(step: StepReport): void {
  expect(violations(step, driver.cloud.cloudfront)).toEqual([]);
}

/** The example site with an SSM parameter that a test can make fail: after the files land, before the purge. */
function withVersion(site: string) {
  return synthSite({ site, extend: (stack) => new ssm.StringParameter(stack, 'Version', { stringValue: site }) });
}

/** The example site with the Invalidation on `onChangeOf(site)` (no rollback guard), still after the files. */
function onItsVersion(site: string, options: SiteOptions = {}) {
  return synthSite({
    ...options,
    site,
    invalidation: { trigger: InvalidationTrigger.onChangeOf(site) },
    extend: (_stack, parts) => parts.invalidation.executeAfter(parts.deployment),
  });
}

/** The one invalidation created after the rollback put the files back, covering them. */
function purgeAfterRevert(step: StepReport) {
  const revert = step.content.find((c) => c.phase === 'rollback')!;
  const after = step.invalidations.filter((i) => i.createdAtRequest > revert.at);
  expect(after).toHaveLength(1);
  expect(coversPrefix(after[0].paths, revert.prefix)).toBe(true);
  return { revert, purge: after[0] };
}

function deploymentFinished(step: StepReport): number {
  const change = step.changes.find((c) => c.type === 'Custom::CDKBucketDeployment' && c.phase === 'deploy');
  expect(change).toBeDefined();
  return change!.at;
}

describe('the example site', () => {
  test('the first deploy purges /* once, after the BucketDeployment has copied the files', async () => {
    await start();
    const step = await driver.deploy(synthSite({ site: 'v1' }));
    expect(step.stackStatus).toBe('CREATE_COMPLETE');
    expect(step.invalidations).toHaveLength(1);
    expect(step.invalidations[0].paths).toEqual(['/*']);
    expect(step.invalidations[0].createdAtRequest).toBeGreaterThan(deploymentFinished(step));
    expectNoViolations(step);
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
    expect(step.invalidations[0].createdAtRequest).toBeGreaterThan(deploymentFinished(step));
    expect(step.invalidations[0].callerReference).not.toBe(first.invalidations[0].callerReference);
    expectNoViolations(step);
  });

  test('a request delivered again after it was answered creates nothing', async () => {
    await start();
    await driver.deploy(synthSite({ site: 'v1' }));
    await driver.deploy(synthSite({ site: 'v2' }));
    const step = await driver.redeliverLast(STACK_NAME);
    expect(step.requests[0].answer?.Status).toBe('SUCCESS');
    expect(step.invalidations).toEqual([]);
  });

  test('a rollback\'s request delivered again after a later update rolled back too creates nothing', async () => {
    await start();
    await driver.deploy(withVersion('v1'));
    const failing = withVersion('v2');
    const first = await driver.deploy(failing, { fail: [logicalIdOf(failing, 'Version')] });
    expect(first.requests.map((r) => [r.phase, r.answer?.Data?.Status])).toEqual([['deploy', 'Armed'], ['rollback', 'Deferred']]);
    // An update that sends the handler nothing (the guard goes, the copy fails) and rolls back.
    const later = onItsVersion('v3');
    const second = await driver.deploy(later, { fail: [Object.keys(later.template.Resources).find((id) => later.template.Resources[id].Type === 'Custom::CDKBucketDeployment')!] });
    expect([second.stackStatus, second.requests]).toEqual(['UPDATE_ROLLBACK_COMPLETE', []]);
    const step = await driver.redeliverLast(STACK_NAME);
    expect(step.requests.map((r) => [r.resourceType, r.answer?.Status])).toEqual([['Custom::CloudFrontInvalidationRollbackGuard', 'SUCCESS']]);
    expect(step.invalidations).toEqual([]);
    expectNoViolations(step);
  });

  test('every request delivered twice during the deploys still gives one invalidation each', async () => {
    await start();
    const steps = [
      await driver.deploy(synthSite({ site: 'v1' }), { duplicateDelivery: true }),
      await driver.deploy(synthSite({ site: 'v2' }), { duplicateDelivery: true }),
    ];
    expect(steps.map((s) => s.invalidations.length)).toEqual([1, 1]);
    steps.forEach(expectNoViolations);
  });

  test.each(['dependencies-first', 'dependents-first'] as const)(
    'a deploy that fails after the purge rolls back, and the content put back is purged once, after it landed (rollback %s)',
    async (rollbackOrder) => {
      await start({ rollbackOrder });
      await driver.deploy(synthSite({ site: 'v1' }));
      const v2 = await driver.deploy(synthSite({ site: 'v2' }));
      const failing = synthSite({ site: 'v3', recordPurge: true });
      const step = await driver.deploy(failing, { fail: [logicalIdOf(failing, 'LastPurge')] });

      expect(step.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
      const { revert, purge } = purgeAfterRevert(step);
      expect(revert.version).toBe(v2.content[0].version);
      const rollback = step.requests.filter((r) => r.phase === 'rollback');
      const invalidation = rollback.find((r) => r.resourceType === 'Custom::CloudFrontInvalidation')!;
      const guard = rollback.find((r) => r.resourceType === 'Custom::CloudFrontInvalidationRollbackGuard')!;
      // The invalidation leaves the purge to its guard, and gives back the rolled-back-to attributes.
      expect(invalidation.answer).toMatchObject({ Status: 'SUCCESS', Data: { Status: 'RolledBack', InvalidationId: v2.invalidations[0].id } });
      expect(guard.answer).toMatchObject({ Status: 'SUCCESS', Data: { Status: 'Deferred' } });
      if (rollbackOrder === 'dependencies-first') {
        // The guard was asked before the files were back: only deferring makes this right.
        expect(guard.sentAt).toBeLessThan(revert.at);
      }
      const earlier = driver.steps.slice(0, -1).flatMap((s) => s.invalidations.map((i) => i.callerReference));
      expect(earlier).not.toContain(purge.callerReference);
      expectNoViolations(step);
    },
  );

  test.each(['dependencies-first', 'dependents-first'] as const)(
    'a deploy that fails before the invalidation\'s turn: the guard purges after the rollback put the files back (rollback %s)',
    async (rollbackOrder) => {
      await start({ rollbackOrder });
      await driver.deploy(withVersion('v1'));
      const failing = withVersion('v2');
      const step = await driver.deploy(failing, { fail: [logicalIdOf(failing, 'Version')] });

      expect(step.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
      // The files changed and went back; CloudFormation never asked the invalidation itself.
      expect(step.content.map((c) => c.phase)).toEqual(['deploy', 'rollback']);
      expect(step.requests.map((r) => [r.phase, r.resourceType.replace('Custom::CloudFrontInvalidation', ''), r.answer?.Data?.Status])).toEqual([
        ['deploy', 'RollbackGuard', 'Armed'],
        ['rollback', 'RollbackGuard', 'Deferred'],
      ]);
      expect(step.invalidations).toHaveLength(1);
      expect(step.invalidations[0].createdAtRequest).toBeGreaterThan(step.content[1].at);
      expectNoViolations(step);
    },
  );

  test.each(['after', 'before'])('late duplicates of a failed update\'s requests, arriving during its rollback, add no purge (failing %s the purge)', async (when) => {
    await start();
    await driver.deploy(synthSite({ site: 'v1' }));
    const failing = when === 'after'
      ? synthSite({ site: 'v2', recordPurge: true })
      : synthSite({ site: 'v2', extend: (stack) => new ssm.StringParameter(stack, 'Version', { stringValue: 'v2' }) });
    const step = await driver.deploy(failing, { fail: [logicalIdOf(failing, when === 'after' ? 'LastPurge' : 'Version')], lateDuplicates: true });
    expect(step.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    const revert = step.content.find((c) => c.phase === 'rollback')!;
    expect(step.invalidations.filter((i) => i.createdAtRequest > revert.at)).toHaveLength(1);
    expect(step.invalidations).toHaveLength(when === 'after' ? 2 : 1);
    expectNoViolations(step);
  });

  test('a failed update that drops the rollback guard (trigger switched) leaves the purge to the invalidation, which makes it', async () => {
    await start();
    await driver.deploy(synthSite({ site: 'v1' }));
    const failing = onItsVersion('v2', { recordPurge: true });
    const step = await driver.deploy(failing, { fail: [logicalIdOf(failing, 'LastPurge')] });
    expect(step.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    const rollback = step.requests.filter((r) => r.phase === 'rollback');
    expect(rollback.map((r) => [r.resourceType, r.answer?.Data?.Status])).toEqual([['Custom::CloudFrontInvalidation', 'Deferred']]);
    purgeAfterRevert(step);
    expectNoViolations(step);
  });

  test('an invalidation whose own update fails is rolled back too, and the files put back are purged once, after they landed', async () => {
    await start();
    await driver.deploy(synthSite({ site: 'v1' }));
    driver.cloud.cloudfront.failNext('CreateInvalidation', 'Malformed');
    const step = await driver.deploy(synthSite({ site: 'v2' }));
    expect(step.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(step.requests.map((r) => [r.phase, r.resourceType.replace('Custom::CloudFrontInvalidation', ''), r.answer?.Status, r.answer?.Data?.Status])).toEqual([
      ['deploy', 'RollbackGuard', 'SUCCESS', 'Armed'],
      ['deploy', '', 'FAILED', 'Failed'],
      ['rollback', 'RollbackGuard', 'SUCCESS', 'Deferred'],
      ['rollback', '', 'SUCCESS', 'RolledBack'],
    ]);
    purgeAfterRevert(step);
    expectNoViolations(step);
  });

  test('a failed update that renames the Invalidation and drops its guard: the new one, deleted by the rollback, purges', async () => {
    await start();
    await driver.deploy(synthSite({ site: 'v1' }));
    const failing = onItsVersion('v2', { invalidationId: 'Refresh', recordPurge: true });
    const step = await driver.deploy(failing, { fail: [logicalIdOf(failing, 'LastPurge')] });
    expect(step.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(step.requests.map((r) => [r.phase, r.requestType, r.logicalId.replace(/[0-9A-F]{8}$/, ''), r.answer?.Data?.Status])).toEqual([
      ['deploy', 'Create', 'Refresh', 'Submitted'],
      ['rollback', 'Delete', 'Refresh', 'Deleted'],
    ]);
    const { purge } = purgeAfterRevert(step);
    // Submitted before the answer, while the handler's policy (deleted after the invalidation) still exists.
    expect(purge.createdAtRequest).toBeLessThan(step.requests[1].answeredAt!);
    expectNoViolations(step);
  });

  test('a stack status that cannot be read for a while is read again, never taken for "not a rollback"', async () => {
    await start();
    await driver.deploy(withVersion('v1'));
    let throttled = 0;
    // Two of the handler's reads in a row, each after the SDK's own retries.
    driver.cloud.cloudformation.throttleDescribeStacks = ({ status }) => status === 'UPDATE_ROLLBACK_IN_PROGRESS' && ++throttled <= 6;
    const failing = withVersion('v2');
    const step = await driver.deploy(failing, { fail: [logicalIdOf(failing, 'Version')] });

    expect(throttled).toBeGreaterThan(6);
    expect(step.requests.map((r) => [r.phase, r.answer?.Data?.Status])).toEqual([['deploy', 'Armed'], ['rollback', 'Deferred']]);
    expect(step.invalidations).toHaveLength(1);
    expect(step.invalidations[0].createdAtRequest).toBeGreaterThan(step.content[1].at);
    expectNoViolations(step);
  });

  test('an invocation that dies right after answering a rollback\'s request does not take the purge with it', async () => {
    await start({ rollbackOrder: 'dependencies-first' });
    await driver.deploy(withVersion('v1'));
    let crashed = 0;
    driver.cloud.cloudformation.onAnswer = (token, answer) => {
      if (answer.Data?.Status === 'Deferred') {
        crashed += driver.cloud.lambda.crashWhere((payload) => String((payload as { ResponseURL?: string })?.ResponseURL).includes(token));
      }
    };
    const failing = withVersion('v2');
    const step = await driver.deploy(failing, { fail: [logicalIdOf(failing, 'Version')] });

    expect(crashed).toBe(1);
    const revert = step.content.find((c) => c.phase === 'rollback')!;
    expect(step.invalidations).toHaveLength(1);
    expect(step.invalidations[0].createdAtRequest).toBeGreaterThan(revert.at);
    expectNoViolations(step);
  });

  test('a slow rollback whose status cannot be read for a while: the purge still waits for it to end', async () => {
    await start({ rollbackOrder: 'dependencies-first' });
    await driver.deploy(withVersion('v1'));
    let reads = 0;
    // The guard reads the status once to see the rollback; every later read fails while the rollback lasts.
    driver.cloud.cloudformation.throttleDescribeStacks = ({ status }) => status === 'UPDATE_ROLLBACK_IN_PROGRESS' && ++reads > 1;
    const failing = withVersion('v2');
    const step = await driver.deploy(failing, { fail: [logicalIdOf(failing, 'Version')], rollbackStepMs: 4000 });

    expect(reads).toBeGreaterThan(3);
    const revert = step.content.find((c) => c.phase === 'rollback')!;
    const guard = step.requests.find((r) => r.phase === 'rollback')!;
    expect(guard.sentAt).toBeLessThan(revert.at);
    expect(step.invalidations).toHaveLength(1);
    expect(step.invalidations[0].createdAtRequest).toBeGreaterThan(revert.at);
    expectNoViolations(step);
  });

  test('a failing deploy that also renames the Invalidation: the new guard, deleted by the rollback, purges', async () => {
    await start();
    await driver.deploy(synthSite({ site: 'v1' }));
    const failing = synthSite({ site: 'v2', invalidationId: 'Refresh', extend: (stack) => new ssm.StringParameter(stack, 'Version', { stringValue: 'v2' }) });
    const step = await driver.deploy(failing, { fail: [logicalIdOf(failing, 'Version')] });
    expect(step.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(step.requests.map((r) => [r.phase, r.requestType, r.logicalId.replace(/[0-9A-F]{8}$/, ''), r.answer?.Data?.Status])).toEqual([
      ['deploy', 'Create', 'RefreshRollbackGuard', 'Armed'],
      ['rollback', 'Delete', 'RefreshRollbackGuard', 'Deleted'],
    ]);
    const revert = step.content.find((c) => c.phase === 'rollback')!;
    expect(step.invalidations).toHaveLength(1);
    expect(step.invalidations[0].createdAtRequest).toBeGreaterThan(revert.at);
    expectNoViolations(step);
  });

  test('deleting the stack sends a Delete that succeeds and invalidates nothing', async () => {
    await start();
    await driver.deploy(synthSite({ site: 'v1' }));
    const step = await driver.destroy(STACK_NAME);
    expect(step.stackStatus).toBe('DELETE_COMPLETE');
    expect(step.requests.map((r) => [r.requestType, r.resourceType, r.answer?.Status])).toEqual([
      ['Delete', 'Custom::CloudFrontInvalidation', 'SUCCESS'],
      ['Delete', 'Custom::CloudFrontInvalidationRollbackGuard', 'SUCCESS'],
    ]);
    expect(step.invalidations).toEqual([]);
  });

  test('deleting the stack after the distribution is already gone still succeeds', async () => {
    await start();
    await driver.deploy(synthSite({ site: 'v1' }));
    driver.cloud.cloudfront.deleteDistribution(driver.resource(STACK_NAME, logicalIdOf(synthSite(), 'Cdn'))!.physicalId);
    const step = await driver.destroy(STACK_NAME);
    expect(step.stackStatus).toBe('DELETE_COMPLETE');
    expect(step.requests.map((r) => r.answer?.Status)).toEqual(['SUCCESS', 'SUCCESS']);
  });

  test('renaming the Invalidation replaces it: the new one purges, the old one is deleted without purging', async () => {
    await start();
    await driver.deploy(synthSite({ site: 'v1' }));
    const renamed = synthSite({ site: 'v1', invalidationId: 'Refresh' });
    const step = await driver.deploy(renamed);
    expect(step.requests.map((r) => [r.phase, r.requestType, r.logicalId.replace(/[0-9A-F]{8}$/, ''), r.answer?.Status])).toEqual([
      ['deploy', 'Create', 'RefreshRollbackGuard', 'SUCCESS'],
      ['deploy', 'Create', 'Refresh', 'SUCCESS'],
      ['cleanup', 'Delete', 'Purge', 'SUCCESS'],
      ['cleanup', 'Delete', 'PurgeRollbackGuard', 'SUCCESS'],
    ]);
    expect(step.invalidations).toHaveLength(1);
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
    expectNoViolations(step);
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
    expectNoViolations(step);
  });
});

describe('the invariant checks themselves', () => {
  const base: StepReport = { stackName: 'S', stackStatus: 'UPDATE_COMPLETE', changes: [], requests: [], content: [], invalidations: [] };
  const invalidation = (at: number, paths = ['/*'], ref = 'a-b-1') => ({
    id: `I${at}`, distributionId: 'E1', callerReference: ref, paths, createdAt: 0, createdAtRequest: at, completesAt: 0,
  });

  test('flag content that was not purged after it landed', () => {
    const content = [{ bucket: 'b', prefix: '', version: 'v2', distributions: ['E1'], phase: 'deploy' as const, at: 5 }];
    expect(uncoveredChanges({ ...base, content, invalidations: [invalidation(4)] })).toHaveLength(1);
    expect(uncoveredChanges({ ...base, content, invalidations: [invalidation(6, ['/other'])] })).toHaveLength(1);
    expect(uncoveredChanges({ ...base, content, invalidations: [invalidation(6)] })).toEqual([]);
  });

  test('flag more invalidations than the requests asked for', () => {
    const answer = { Status: 'SUCCESS' as const, PhysicalResourceId: 'p', StackId: 's', RequestId: 'r', LogicalResourceId: 'P', Data: { Status: 'Submitted' } };
    const request = {
      logicalId: 'P',
      resourceType: 'Custom::CloudFrontInvalidation',
      requestType: 'Update' as const,
      requestId: 'r',
      phase: 'deploy' as const,
      stackStatus: 'UPDATE_IN_PROGRESS',
      sentAt: 0,
      properties: { Paths: ['/*'] },
      answer,
    };
    expect(duplicateInvalidations({ ...base, requests: [request], invalidations: [invalidation(1)] })).toEqual([]);
    expect(duplicateInvalidations({ ...base, requests: [request], invalidations: [invalidation(1), invalidation(2, ['/*'], 'a-c-1')] })).toHaveLength(1);
    // A rollback left to the guard allows none, only when the guard was on both sides.
    const rollback = { ...request, stackStatus: 'UPDATE_ROLLBACK_IN_PROGRESS', properties: { Paths: ['/*'], RollbackGuard: 'true' }, oldProperties: { Paths: ['/a'] } };
    expect(duplicateInvalidations({ ...base, requests: [rollback], invalidations: [invalidation(1)] })).toEqual([]);
    const guarded = { ...rollback, oldProperties: { Paths: ['/a'], RollbackGuard: 'true' } };
    expect(duplicateInvalidations({ ...base, requests: [guarded], invalidations: [invalidation(1)] })).toHaveLength(1);
  });

  test('flag a request answered more often than it was delivered', () => {
    const answer = { Status: 'SUCCESS' as const, PhysicalResourceId: 'p', StackId: 's', RequestId: 'r', LogicalResourceId: 'P' };
    const request = {
      logicalId: 'P',
      resourceType: 'Custom::CloudFrontInvalidation',
      requestType: 'Create' as const,
      requestId: 'r',
      phase: 'deploy' as const,
      stackStatus: 'CREATE_IN_PROGRESS',
      sentAt: 0,
      properties: {},
      answer,
    };
    expect(extraAnswers({ ...base, requests: [{ ...request, answers: [answer, { ...answer, Status: 'FAILED' }], deliveries: 2 }] })).toEqual([]);
    expect(extraAnswers({ ...base, requests: [{ ...request, answers: [answer, answer], deliveries: 1 }] })).toHaveLength(1);
  });
});
