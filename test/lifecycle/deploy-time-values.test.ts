/**
 * Values a followed deployment resolves at deploy time fire the invalidation: a config.json made
 * from an SSM parameter's name, where the parameter is replaced (a new name) and nothing else in
 * the deployment's template changes. Real synthesized stacks, the lifecycle driver, the bundled
 * handler, the CloudFront emulator.
 */
import { Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Invalidation, InvalidationTrigger } from '../../src';
import type { SynthesizedStack } from '../driver/assembly';
import type { LifecycleDriver } from '../driver/driver';
import { expectNoViolations, lifecycleDriverPerTest } from '../support/deploys';
import { ENV, synthStack } from '../support/synth';

let driver: LifecycleDriver;
const start = lifecycleDriverPerTest((started) => (driver = started), { cloud: { cloudfront: { completionDelayMs: 100 } } });
beforeEach(() => start());

/** A site whose config.json names an SSM parameter; `name` is the parameter's name (a new one replaces it). */
function siteWithConfig(name: string): SynthesizedStack {
  return synthStack('config-site-', 'ConfigSite', (app) => {
    const stack = new Stack(app, 'ConfigSite', { env: ENV });
    const bucket = new s3.Bucket(stack, 'Content');
    const distribution = new cloudfront.Distribution(stack, 'Cdn', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
    const endpoint = new ssm.StringParameter(stack, 'Endpoint', { parameterName: name, stringValue: 'https://api.example.com' });
    const deployment = new s3deploy.BucketDeployment(stack, 'Config', {
      sources: [s3deploy.Source.jsonData('config.json', { endpointParameter: endpoint.parameterName })],
      destinationBucket: bucket,
    });
    new Invalidation(stack, 'Purge', { distribution, trigger: InvalidationTrigger.onDeployment(deployment) });
  });
}

test('onDeployment fires when a parameter its config.json names is replaced, after the new file landed', async () => {
  await driver.deploy(siteWithConfig('/site/endpoint-v1'));
  const step = await driver.deploy(siteWithConfig('/site/endpoint-v2'));
  // The copy's template is the same; what CloudFormation resolves into it is not.
  const copy = step.content.filter((c) => c.phase === 'deploy');
  expect(copy).toHaveLength(1);
  expect(step.invalidations).toHaveLength(1);
  expect(step.invalidations[0].createdAtRequest).toBeGreaterThan(copy[0].landedAt);
  expectNoViolations(driver, step);
});

test('and not when nothing it resolves changes', async () => {
  await driver.deploy(siteWithConfig('/site/endpoint-v1'));
  const step = await driver.deploy(siteWithConfig('/site/endpoint-v1'));
  expect(step.invalidations).toEqual([]);
});
