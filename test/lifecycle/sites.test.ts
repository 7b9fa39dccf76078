/**
 * End to end, the way people build sites: what each trigger fires on, BucketDeployments with key
 * prefixes, an API purged by Lambda version, distributions from another stack, imported or in a
 * nested stack, and distribution tenants. Real synthesized stacks, the lifecycle driver, the
 * bundled handler, the CloudFront emulator.
 */
import * as path from 'path';
import { App, CfnResource, NestedStack, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Invalidation, InvalidationPaths, InvalidationTrigger } from '../../src';
import { SITE_DIR } from '../demo/app';
import type { SynthesizedStack } from '../driver/assembly';
import { readStack } from '../driver/assembly';
import type { LifecycleDriver } from '../driver/driver';
import { coversPrefix } from '../driver/invariants';
import { expectNoViolations, finishedAt, lifecycleDriverPerTest } from '../support/deploys';
import { ENV, synthApp } from '../support/synth';

let driver: LifecycleDriver;
const start = lifecycleDriverPerTest((started) => (driver = started), { cloud: { cloudfront: { completionDelayMs: 100 } } });
beforeEach(() => start());

/** Synthesizes an app made by `define` and returns its stacks by name. */
function synth(define: (app: App) => void): Record<string, SynthesizedStack> {
  const assembly = synthApp('sites-', define);
  return Object.fromEntries(assembly.stacks.map((s) => [s.stackName, readStack(assembly, s.stackName)]));
}

describe('onDeployment, with the deployment\'s key prefix', () => {
  function siteWithAssets(assets: string, apiMemory = 128) {
    return synth((app) => {
      const stack = new Stack(app, 'Assets', { env: ENV });
      const bucket = new s3.Bucket(stack, 'Content');
      const distribution = new cloudfront.Distribution(stack, 'Cdn', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
      const deployment = new s3deploy.BucketDeployment(stack, 'Static', {
        sources: [s3deploy.Source.asset(path.join(SITE_DIR, assets))],
        destinationBucket: bucket,
        destinationKeyPrefix: 'static/',
      });
      new lambda.Function(stack, 'Api', { runtime: lambda.Runtime.NODEJS_20_X, handler: 'index.h', code: lambda.Code.fromInline('exports.h=1'), memorySize: apiMemory });
      new Invalidation(stack, 'Purge', { distribution, trigger: InvalidationTrigger.onDeployment(deployment), paths: InvalidationPaths.ofDeployment(deployment) });
    }).Assets;
  }

  test('new content produces exactly one invalidation of /static/*, after the deployment\'s copy finished', async () => {
    await driver.deploy(siteWithAssets('v1'));
    const step = await driver.deploy(siteWithAssets('v2'));
    expect(step.invalidations).toHaveLength(1);
    expect(step.invalidations[0].paths).toEqual(['/static/*']);
    expect(step.invalidations[0].createdAtRequest).toBeGreaterThan(finishedAt(step, 'Custom::CDKBucketDeployment'));
    expectNoViolations(driver, step);
  });

  test('a change elsewhere in the stack does not fire it', async () => {
    await driver.deploy(siteWithAssets('v1'));
    const step = await driver.deploy(siteWithAssets('v1', 512));
    expect(step.changes.some((c) => c.type === 'AWS::Lambda::Function')).toBe(true);
    expect(step.invalidations).toEqual([]);
  });
});

describe('onChangeOf', () => {
  function api(code: string, extra?: string) {
    return synth((app) => {
      const stack = new Stack(app, 'Api', { env: ENV });
      const origin = new lambda.Function(stack, 'Handler', { runtime: lambda.Runtime.NODEJS_20_X, handler: 'index.h', code: lambda.Code.fromInline(code) });
      const url = origin.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
      const distribution = new cloudfront.Distribution(stack, 'Cdn', { defaultBehavior: { origin: new origins.FunctionUrlOrigin(url) } });
      const schema = ssm.StringParameter.valueForStringParameter(stack, '/api/schema-version');
      new Invalidation(stack, 'Purge', { distribution, paths: ['/api/*'], trigger: InvalidationTrigger.onChangeOf(origin.currentVersion.version, schema) });
      if (extra) {
        new ssm.StringParameter(stack, 'Note', { stringValue: extra });
      }
    }).Api;
  }

  test('a new Lambda version fires it; other changes, and none, do not', async () => {
    driver.putParameter('/api/schema-version', '3');
    expect((await driver.deploy(api('exports.h = () => 1;'))).invalidations).toHaveLength(1);
    expect((await driver.deploy(api('exports.h = () => 1;'))).invalidations).toHaveLength(0);
    expect((await driver.deploy(api('exports.h = () => 1;', 'unrelated'))).invalidations).toHaveLength(0);
    const step = await driver.deploy(api('exports.h = () => 2;', 'unrelated'));
    expect(step.invalidations.map((i) => i.paths)).toEqual([['/api/*']]);
    expect(step.invalidations[0].createdAtRequest).toBeGreaterThan(finishedAt(step, 'AWS::Lambda::Version'));
  });

  test('a new value of an SSM parameter fires it at the next deploy, with the same template', async () => {
    driver.putParameter('/api/schema-version', '3');
    const template = api('exports.h = () => 1;');
    await driver.deploy(template);
    expect((await driver.deploy(template)).invalidations).toHaveLength(0);
    driver.putParameter('/api/schema-version', '4');
    expect((await driver.deploy(template)).invalidations).toHaveLength(1);
  });
});

describe('distributions from elsewhere', () => {
  test('content in one stack, its distribution in another: the purge follows the content and reaches the other stack\'s distribution', async () => {
    const make = (site: string) => synth((app) => {
      const edge = new Stack(app, 'Edge', { env: ENV });
      const bucket = new s3.Bucket(edge, 'Content');
      const distribution = new cloudfront.Distribution(edge, 'Cdn', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
      const content = new Stack(app, 'Content', { env: ENV });
      new s3deploy.BucketDeployment(content, 'Site', { sources: [s3deploy.Source.asset(path.join(SITE_DIR, site))], destinationBucket: bucket });
      new Invalidation(content, 'Purge', { distribution });
    });
    const v1 = make('v1');
    await driver.deploy(v1.Edge);
    const first = await driver.deploy(v1.Content);
    expect(first.invalidations).toHaveLength(1);
    const edgeDistribution = driver.resource('Edge', Object.keys(v1.Edge.template.Resources).find((id) => id.startsWith('Cdn') && !id.includes('Origin'))!)!;
    expect(first.invalidations[0].distributionId).toBe(edgeDistribution.physicalId);
    const v2 = make('v2');
    await driver.deploy(v2.Edge);
    const step = await driver.deploy(v2.Content);
    expect(step.invalidations).toHaveLength(1);
    expectNoViolations(driver, step);
  });

  test('a distribution imported by attributes', async () => {
    const id = driver.cloud.cloudfront.addDistribution();
    const stack = synth((app) => {
      const s = new Stack(app, 'Imported', { env: ENV });
      const distribution = cloudfront.Distribution.fromDistributionAttributes(s, 'Cdn', { distributionId: id, domainName: 'd.cloudfront.net' });
      new Invalidation(s, 'Purge', { distribution, paths: ['/index.html'], trigger: InvalidationTrigger.onChangeOf('release-1') });
    }).Imported;
    const step = await driver.deploy(stack);
    expect(step.invalidations.map((i) => [i.distributionId, i.paths])).toEqual([[id, ['/index.html']]]);
  });
});

describe('distribution tenants and cache tags', () => {
  function tenantSite(site: string, failing = false) {
    return synth((app) => {
      const stack = new Stack(app, 'Tenants', { env: ENV });
      const bucket = new s3.Bucket(stack, 'Content');
      const distribution = new cloudfront.Distribution(stack, 'Cdn', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
      const tenant = new CfnResource(stack, 'Tenant', {
        type: 'AWS::CloudFront::DistributionTenant',
        properties: { DistributionId: distribution.distributionId, Name: 'shop-a', Domains: [{ Domain: 'shop-a.example.com' }] },
      });
      new s3deploy.BucketDeployment(stack, 'Site', { sources: [s3deploy.Source.asset(path.join(SITE_DIR, site))], destinationBucket: bucket });
      new Invalidation(stack, 'Purge', { distribution, distributionTenantId: tenant.ref });
      if (failing) {
        new ssm.StringParameter(stack, 'Version', { stringValue: site });
      }
    }).Tenants;
  }

  test('invalidates the tenant, and after a rollback the stack\'s rule purges the tenant', async () => {
    const first = await driver.deploy(tenantSite('v1'));
    const tenantId = driver.resource('Tenants', Object.keys(tenantSite('v1').template.Resources).find((id) => id.startsWith('Tenant'))!)!.physicalId;
    expect(first.invalidations.map((i) => i.tenantId)).toEqual([tenantId]);
    const failing = tenantSite('v2', true);
    const versionId = Object.keys(failing.template.Resources).find((id) => id.startsWith('Version'))!;
    const step = await driver.deploy(failing, { fail: [versionId] });
    expect(step.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(step.invalidations.map((i) => i.tenantId)).toEqual([tenantId]);
    expect(step.deliveries.map((d) => [d.status, d.handled])).toEqual([['UPDATE_ROLLBACK_COMPLETE', true]]);
    expectNoViolations(driver, step);
  });
});

describe('nested stacks', () => {
  /** The site's content in the parent stack; the distribution, or the Invalidation, in a nested stack. */
  function nestedSite(site: string, nested: 'distribution' | 'invalidation', failing = false) {
    return synth((app) => {
      const stack = new Stack(app, 'Parent', { env: ENV });
      const bucket = new s3.Bucket(stack, 'Content');
      const deployment = new s3deploy.BucketDeployment(stack, 'Site', { sources: [s3deploy.Source.asset(path.join(SITE_DIR, site))], destinationBucket: bucket });
      const edge = new NestedStack(stack, 'Edge');
      const distribution = new cloudfront.Distribution(nested === 'distribution' ? edge : stack, 'Cdn', {
        defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) },
      });
      if (nested === 'distribution') {
        new Invalidation(stack, 'Purge', { distribution });
      } else {
        new ssm.StringParameter(edge, 'Note', { stringValue: site });
        new Invalidation(edge, 'Purge', { distribution }).executeAfter(deployment);
      }
      if (failing) {
        new ssm.StringParameter(stack, 'Version', { stringValue: site });
      }
    }).Parent;
  }

  test.each(['distribution', 'invalidation'] as const)('the %s in a nested stack: deploys, purges new content after it landed, and after a rollback', async (nested) => {
    const first = await driver.deploy(nestedSite('v1', nested));
    expect(first.stackStatus).toBe('CREATE_COMPLETE');
    const nestedName = driver.nestedStackName('Parent', Object.keys(nestedSite('v1', nested).template.Resources).find((id) => id.startsWith('EdgeNestedStack'))!)!;
    expect(first.events.filter((e) => e.stackName === nestedName).map((e) => e.status)).toEqual(['CREATE_IN_PROGRESS', 'CREATE_COMPLETE']);
    expect(first.invalidations).toHaveLength(1);
    expectNoViolations(driver, first);

    const second = await driver.deploy(nestedSite('v2', nested));
    expect(second.stackStatus).toBe('UPDATE_COMPLETE');
    expect(second.invalidations).toHaveLength(1);
    expect(second.invalidations[0].createdAtRequest).toBeGreaterThan(finishedAt(second, 'Custom::CDKBucketDeployment'));
    expectNoViolations(driver, second);

    const failing = nestedSite('v3', nested, true);
    const step = await driver.deploy(failing, { fail: [Object.keys(failing.template.Resources).find((id) => id.startsWith('Version'))!] });
    expect(step.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    const revert = step.content.find((c) => c.phase === 'rollback')!;
    const ownerName = nested === 'invalidation' ? nestedName : 'Parent';
    const complete = step.events.find((e) => e.stackName === ownerName && e.status === 'UPDATE_ROLLBACK_COMPLETE')!;
    expect(complete).toBeDefined();
    const purges = step.invalidations.filter((i) => i.createdAtRequest > revert.landedAt);
    expect(purges).toHaveLength(1);
    expect(coversPrefix(purges[0].paths, revert.prefix)).toBe(true);
    expect(step.deliveries.map((d) => [d.stackId, d.handled])).toEqual([[driver.stackId(ownerName), true]]);
    expectNoViolations(driver, step);
  });
});
