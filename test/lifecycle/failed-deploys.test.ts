/**
 * End to end: the purge after a failed deploy where AWS is strict. Real synthesized stacks, the
 * lifecycle driver playing CloudFormation (IAM applied in CloudFormation's order and late, rule
 * targets validated as EventBridge validates them, `retainOnDelete: false` deletes removing files,
 * DeletionPolicy, deploys with rollback disabled), the real bundled handler and SDK clients.
 * The cases are those of docs/architecture.md, "Failed deploys", and the README's "Limitations"; the numbers in the names
 * only tell them apart.
 */
import type { IAspect } from 'aws-cdk-lib';
import { Aspects, CfnParameter, Duration, RemovalPolicy, CfnResource } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { IConstruct } from 'constructs';
import { Invalidation } from '../../src';
import { RESOURCE_TYPE } from '../../src/shared/contract';
import { logicalIdOf, SITE_DIR, STACK_NAME, synthSite } from '../demo/app';
import type { SiteOptions, SiteParts } from '../demo/app';
import type { SynthesizedStack } from '../driver/assembly';
import type { LifecycleDriver } from '../driver/driver';
import { coversPrefix, violations } from '../driver/invariants';
import type { StepReport } from '../driver/reports';
import { stackStatusChangeEvent } from '../emulator/eventbridge-events';
import { expectNoViolations, lifecycleDriverPerTest, withVersion } from '../support/deploys';

let driver: LifecycleDriver;
const start = lifecycleDriverPerTest((started) => (driver = started), { cloud: { cloudfront: { completionDelayMs: 200 } } });

/** A second distribution in front of the site's bucket: `Cdn2`. */
function secondCdn(stack: Parameters<NonNullable<SiteOptions['extend']>>[0], parts: SiteParts): cloudfront.Distribution {
  return new cloudfront.Distribution(stack, 'Cdn2', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(parts.bucket) } });
}

function physicalId(stack: SynthesizedStack, constructId: string): string {
  return driver.resource(STACK_NAME, logicalIdOf(stack, constructId))!.physicalId;
}

/** The invalidations of a distribution made after the last content change of the step (the rollback's last revert or delete). */
function purgedAfterLastChange(step: StepReport, distributionId: string) {
  const last = Math.max(...step.content.map((c) => c.landedAt));
  return step.invalidations.filter((i) => i.distributionId === distributionId && i.createdAtRequest > last);
}

/** A resource after both the site's Invalidation and another: `AfterBoth`, for a test to make fail. */
function afterBoth(stack: Parameters<NonNullable<SiteOptions['extend']>>[0], parts: SiteParts, other: Invalidation): void {
  const after = new ssm.StringParameter(stack, 'AfterBoth', { stringValue: 'after' });
  after.node.addDependency(parts.invalidation, other);
}

/** The example site with a resource after the purge that a test can make fail. */
const failsAfterPurge = (options: SiteOptions = {}) => synthSite({ recordPurge: true, ...options });
const lastPurge = (stack: SynthesizedStack) => logicalIdOf(stack, 'LastPurge');

describe('the purge after a failed deploy reaches what only the failed deploy named', () => {
  test('(1) an Invalidation the failed update added for a second distribution: its policy is gone by the cleanup, yet both are purged after the revert', async () => {
    await start({ iamPropagationMs: 300 });
    const v1 = synthSite({ site: 'v1', extend: (stack, parts) => secondCdn(stack, parts) });
    await driver.deploy(v1);
    const failing = synthSite({ site: 'v2', extend: (stack, parts) => afterBoth(stack, parts, new Invalidation(stack, 'Second', { distribution: secondCdn(stack, parts) })) });
    // A rollback slow enough for IAM to have applied the policy rolled back to by the cleanup.
    const step = await driver.deploy(failing, { fail: [logicalIdOf(failing, 'AfterBoth')], rollbackStepMs: 400 });
    expect(step.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    // The new Invalidation purged the second distribution, and the rollback's cleanup deleted it after its policy had gone back.
    expect(step.requests.map((r) => [r.phase, r.requestType, r.logicalId.replace(/[0-9A-F]{8}$/, '')])).toEqual(expect.arrayContaining([
      ['deploy', 'Create', 'Second'], ['rollback', 'Delete', 'Second'],
    ]));
    const second = physicalId(v1, 'Cdn2');
    expect(purgedAfterLastChange(step, second).some((i) => i.paths.includes('/*'))).toBe(true);
    expect(purgedAfterLastChange(step, physicalId(v1, 'Cdn')).some((i) => i.paths.includes('/*'))).toBe(true);
    expectNoViolations(driver, step);
  });

  test('(2) an Invalidation the failed update moved to another distribution: the one it moved to is purged after the revert too', async () => {
    await start();
    const v1 = synthSite({ site: 'v1', extend: (stack, parts) => secondCdn(stack, parts) });
    await driver.deploy(v1);
    const failing = synthSite({
      site: 'v2',
      recordPurge: true,
      extend: (stack, parts) => {
        const cdn2 = secondCdn(stack, parts);
        // Move the Invalidation: same construct, another distribution.
        (parts.invalidation.node.findChild('Resource').node.defaultChild as CfnResource).addPropertyOverride('DistributionId', cdn2.distributionId);
      },
    });
    const step = await driver.deploy(failing, { fail: [lastPurge(failing)] });
    expect(step.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(purgedAfterLastChange(step, physicalId(v1, 'Cdn2')).map((i) => i.paths)).toEqual([['/*']]);
    expect(purgedAfterLastChange(step, physicalId(v1, 'Cdn')).map((i) => i.paths)).toEqual([['/*']]);
  });

  test('(2) an Invalidation whose paths the failed update widened: the wider paths are purged after the revert', async () => {
    await start();
    await driver.deploy(synthSite({ site: 'v1', invalidation: { paths: ['/index.html'] } }));
    const failing = failsAfterPurge({ site: 'v2', invalidation: { paths: ['/*'] } });
    const step = await driver.deploy(failing, { fail: [lastPurge(failing)] });
    expect(step.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    const after = purgedAfterLastChange(step, physicalId(failing, 'Cdn')).map((i) => i.paths);
    expect(after).toEqual(expect.arrayContaining([['/*'], ['/index.html']]));
  });

  test('(3) a retainOnDelete: false deployment the failed update added: its files are deleted by the cleanup, and purged after that', async () => {
    await start();
    // The site's Invalidation purges the home page only: nothing of the template rolled back to covers /blog/.
    await driver.deploy(synthSite({ site: 'v1', invalidation: { paths: ['/index.html'] } }));
    const failing = failsAfterPurge({
      site: 'v1',
      invalidation: { paths: ['/index.html'] },
      extend: (stack, parts) => {
        const blog = new s3deploy.BucketDeployment(stack, 'Blog', {
          sources: [s3deploy.Source.asset(`${SITE_DIR}/v2`)],
          destinationBucket: parts.bucket,
          destinationKeyPrefix: 'blog/',
          retainOnDelete: false,
        });
        new Invalidation(stack, 'BlogPurge', { distribution: parts.distribution, paths: ['/blog/*'], trigger: undefined }).executeAfter(blog);
      },
    });
    const step = await driver.deploy(failing, { fail: [lastPurge(failing)] });
    expect(step.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    const removal = step.content.find((c) => c.prefix === 'blog/' && c.phase !== 'deploy');
    expect(removal).toBeDefined();
    const cdn = physicalId(failing, 'Cdn');
    const after = step.invalidations.filter((i) => i.distributionId === cdn && i.createdAtRequest > removal!.landedAt);
    expect(after.some((i) => coversPrefix(i.paths, 'blog/'))).toBe(true);
    expectNoViolations(driver, step);
  });

  test('(9) an Invalidation the failed update added under an app-wide Retain policy gets no Delete; the rule still purges what it named', async () => {
    await start();
    const retainAll: IAspect = {
      visit: (node: IConstruct) => (node instanceof CfnResource ? node.applyRemovalPolicy(RemovalPolicy.RETAIN) : undefined),
    };
    const v1 = synthSite({ site: 'v1', extend: (stack, parts) => { secondCdn(stack, parts); Aspects.of(stack).add(retainAll); } });
    await driver.deploy(v1);
    const failing = synthSite({
      site: 'v2',
      extend: (stack, parts) => {
        afterBoth(stack, parts, new Invalidation(stack, 'Second', { distribution: secondCdn(stack, parts) }));
        Aspects.of(stack).add(retainAll);
      },
    });
    expect(Object.values(failing.template.Resources).filter((r) => r.Type === RESOURCE_TYPE).map((r) => r.DeletionPolicy)).toEqual(['Retain', 'Retain']);
    const step = await driver.deploy(failing, { fail: [logicalIdOf(failing, 'AfterBoth')] });
    expect(step.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(step.requests.filter((r) => r.requestType === 'Delete')).toEqual([]);
    expect(purgedAfterLastChange(step, physicalId(v1, 'Cdn2')).map((i) => i.paths)).toEqual([['/*']]);
  });
});

describe('the rule\'s input holds for every value a user can give', () => {
  test.each(['/"quoted".html', '/back\\slash.html'])('(4) a path parameter whose value is %s: the rule is accepted, and a rollback purges its distribution whole', async (value) => {
    await start();
    const site = (version: string) => failsAfterPurge({
      site: version,
      extend: (stack, parts) => {
        const page = new CfnParameter(stack, 'PagePath', { type: 'String' });
        new Invalidation(stack, 'Page', { distribution: parts.distribution, paths: [page.valueAsString] });
      },
    });
    const first = await driver.deploy(site('v1'), { parameters: { PagePath: value } });
    expect(first.stackStatus).toBe('CREATE_COMPLETE');
    const failing = site('v2');
    const step = await driver.deploy(failing, { parameters: { PagePath: value }, fail: [lastPurge(failing)] });
    expect(step.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(purgedAfterLastChange(step, physicalId(failing, 'Cdn')).map((i) => i.paths)).toEqual([['/*']]);
    expectNoViolations(driver, step);
  });

  test('(4) a literal path with <id> in it is purged as written after a rollback, not with the event\'s id', async () => {
    await start();
    const site = (version: string) => failsAfterPurge({ site: version, invalidation: { paths: ['/promo<id>.html', '/index.html'] } });
    await driver.deploy(site('v1'));
    const failing = site('v2');
    const step = await driver.deploy(failing, { fail: [lastPurge(failing)] });
    expect(step.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(purgedAfterLastChange(step, physicalId(failing, 'Cdn')).map((i) => i.paths)).toEqual([['/index.html', '/promo%3Cid%3E.html']]);
  });

  test('(5) an Invalidation of 100 path parameters of 90 characters, more than 8192 characters once resolved: the rule is accepted, and a rollback purges the distribution', async () => {
    await start();
    const value = (i: number) => `/${String(i).padStart(3, '0')}${'p'.repeat(86)}`;
    const site = (version: string) => failsAfterPurge({
      site: version,
      extend: (stack, parts) => {
        const paths = Array.from({ length: 100 }, (_, i) => new CfnParameter(stack, `Path${i}`, { type: 'String' }).valueAsString);
        new Invalidation(stack, 'Pages', { distribution: parts.distribution, paths });
      },
    });
    const parameters = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`Path${i}`, value(i)]));
    const first = await driver.deploy(site('v1'), { parameters });
    expect(first.stackStatus).toBe('CREATE_COMPLETE');
    const failing = site('v2');
    const step = await driver.deploy(failing, { parameters, fail: [lastPurge(failing)] });
    expect(step.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(purgedAfterLastChange(step, physicalId(failing, 'Cdn')).map((i) => i.paths)).toEqual([['/*']]);
  });

  test.each(['arn-without-id', 'name'] as const)('(10) the stack\'s status event naming the stack by its %s still purges, and another stack\'s never', async (stackIdForm) => {
    await start({ cloud: { stackIdForm } });
    await driver.deploy(synthSite({ site: 'v1' }));
    const failing = failsAfterPurge({ site: 'v2' });
    const step = await driver.deploy(failing, { fail: [lastPurge(failing)] });
    expect(step.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(purgedAfterLastChange(step, physicalId(failing, 'Cdn')).map((i) => i.paths)).toEqual([['/*']]);
    expectNoViolations(driver, step);

    // A stack whose name starts with this one's is another stack: its event reaches no handler here.
    const before = driver.cloud.lambda.invocations.length;
    const other = `arn:aws:cloudformation:eu-west-1:123456789012:stack/${STACK_NAME}Staging/0b1c2d3e-0000-1111-2222-333344445555`;
    driver.cloud.eventbridge.putEvent(stackStatusChangeEvent({ id: 'other-stack', stackId: other, status: 'UPDATE_ROLLBACK_COMPLETE', time: new Date(), stackIdForm }), {});
    await driver.cloud.eventbridge.idle();
    await driver.cloud.lambda.idle();
    expect(driver.cloud.lambda.invocations.length).toBe(before);
  });
});

describe('every deadline counts from when CloudFormation sent the request', () => {
  const waiting = (site: string) => synthSite({ site, invalidation: { waitForCompletion: true, timeout: Duration.seconds(30) } });

  test('(8) a request that spent most of its ServiceTimeout in Lambda\'s queue still answers before CloudFormation stops waiting', async () => {
    await start({ cloud: { cloudfront: { completionDelayMs: 20_000 } } });
    await driver.deploy(synthSite({ site: 'v1' }));
    // ServiceTimeout 150 s (30 s and the answer margin), sent 140 s before Lambda starts it: 10 s left.
    const step = await driver.deploy(waiting('v2'), { requestAgeMs: 140_000 });
    const update = step.requests.find((r) => r.phase === 'deploy')!;
    expect(update.unanswered).toBeFalsy();
    expect(update.answer).toMatchObject({ Status: 'FAILED', Reason: expect.stringMatching(/^Timed out after 30 s/) });
  });

  test('(8) a request CloudFormation no longer waits for is left alone: no purge, no answer', async () => {
    await start();
    await driver.deploy(synthSite({ site: 'v1' }));
    const step = await driver.deploy(waiting('v2'), { requestAgeMs: 151_000 });
    const update = step.requests.find((r) => r.phase === 'deploy')!;
    expect(update.unanswered).toBe(true);
    await driver.cloud.lambda.idle();
    expect(update.answers ?? []).toEqual([]);
    expect(driver.cloud.cloudfront.requests.filter((r) => r.created && r.callerReference === update.answer?.Data?.CallerReference)).toEqual([]);
    // CloudFormation failed the resource; the rollback that follows is purged by the stack's rule, as any.
    expect(step.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(violations(step, driver.cloud.cloudfront)).toEqual([`Update of ${update.logicalId} (deploy) got no answer`]);
  });
});

describe('deploys that stop without rolling back', () => {
  test('(7) --no-rollback: a deploy failing before the purge stops at UPDATE_FAILED with the new files, which are purged then', async () => {
    await start();
    await driver.deploy(withVersion('v1'));
    const failing = withVersion('v2');
    const step = await driver.deploy(failing, { fail: [logicalIdOf(failing, 'Version')], disableRollback: true });
    expect(step.stackStatus).toBe('UPDATE_FAILED');
    expect(step.requests).toEqual([]);
    expect(purgedAfterLastChange(step, physicalId(failing, 'Cdn')).map((i) => i.paths)).toEqual([['/*']]);
    expectNoViolations(driver, step);

    // cdk rollback afterwards: the files go back, and are purged once more.
    const rolledBack = await driver.rollbackStack(STACK_NAME);
    expect(rolledBack.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(purgedAfterLastChange(rolledBack, physicalId(failing, 'Cdn')).map((i) => i.paths)).toEqual([['/*']]);
    expectNoViolations(driver, rolledBack);
  });

  test('(7) --no-rollback followed by a fixing deploy: purged at UPDATE_FAILED, and again by the fix', async () => {
    await start();
    await driver.deploy(withVersion('v1'));
    const failing = withVersion('v2');
    const stopped = await driver.deploy(failing, { fail: [logicalIdOf(failing, 'Version')], disableRollback: true });
    expect(stopped.stackStatus).toBe('UPDATE_FAILED');
    expect(purgedAfterLastChange(stopped, physicalId(failing, 'Cdn')).map((i) => i.paths)).toEqual([['/*']]);
    const fixed = await driver.deploy(withVersion('v3'));
    expect(fixed.stackStatus).toBe('UPDATE_COMPLETE');
    expectNoViolations(driver, fixed);
  });
});

describe('what cannot be purged, and says so', () => {
  test('(6) a failed first deploy whose Invalidation had run purges once more as the rollback deletes it; one that never ran purges nothing (Limitations)', async () => {
    await start();
    const ran = failsAfterPurge({ site: 'v1' });
    const step = await driver.deploy(ran, { fail: [lastPurge(ran)] });
    expect(step.stackStatus).toBe('ROLLBACK_COMPLETE');
    const deletes = step.requests.filter((r) => r.requestType === 'Delete');
    expect(deletes.map((r) => [r.stackStatus, r.answer?.Status])).toEqual([['ROLLBACK_IN_PROGRESS', 'SUCCESS']]);
    expect(step.invalidations).toHaveLength(2);

    await driver.destroy(STACK_NAME);
    const never = withVersion('v1');
    const failed = await driver.deploy(never, { fail: [logicalIdOf(never, 'Version')] });
    expect(failed.stackStatus).toBe('ROLLBACK_COMPLETE');
    expect([failed.requests, failed.invalidations, failed.deliveries]).toEqual([[], [], []]);
  });
});
