/**
 * Invalidations across stacks: nested stacks, and distributions of other stacks and accounts.
 */
import { NestedStack, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Invalidation } from '../../src';
import { RESOURCE_TYPE } from '../../src/shared/contract';
import { ENV, importedDistribution, newApp } from '../support/synth';
import { anchorOf, byPrefix, deployOrder, invalidationResources, only, resourcesOf, ruleInput, unescaped } from '../support/template';

// Every synthesis in this file fails on a deprecated aws-cdk-lib API.
process.env.JSII_DEPRECATED = 'fail';

describe('nested stacks', () => {
  test('a distribution in a nested stack, the Invalidation in its parent: no cycle', () => {
    const app = newApp();
    const parent = new Stack(app, 'Parent', { env: ENV });
    const nested = new NestedStack(parent, 'Cdn');
    const bucket = new s3.Bucket(nested, 'Bucket');
    const distribution = new cloudfront.Distribution(nested, 'Distribution', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
    new s3deploy.BucketDeployment(parent, 'Deploy', { sources: [s3deploy.Source.data('index.html', 'v1')], destinationBucket: bucket });
    new Invalidation(parent, 'Purge', { distribution });
    const parentTemplate = Template.fromStack(parent);
    const nestedTemplate = Template.fromStack(nested);
    const [nestedId] = only(parentTemplate.findResources('AWS::CloudFormation::Stack'));
    expect(anchorOf(parentTemplate)[1].DependsOn).toContain(nestedId);
    expect(only(invalidationResources(parentTemplate))[1].Properties.DistributionId).toEqual({ 'Fn::GetAtt': [nestedId, expect.stringMatching(/^Outputs\./)] });
    expect(nestedTemplate.findResources('AWS::CloudFormation::WaitConditionHandle')).toEqual({});
    deployOrder(resourcesOf(parentTemplate));
    deployOrder(resourcesOf(nestedTemplate));
  });

  test('a distribution in the parent, the Invalidation in a nested stack: no cycle, and the nested stack has its own handler and rule', () => {
    const app = newApp();
    const parent = new Stack(app, 'Parent', { env: ENV });
    const bucket = new s3.Bucket(parent, 'Bucket');
    const distribution = new cloudfront.Distribution(parent, 'Distribution', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
    const nested = new NestedStack(parent, 'Purging');
    new s3deploy.BucketDeployment(nested, 'Deploy', { sources: [s3deploy.Source.data('index.html', 'v1')], destinationBucket: bucket });
    new Invalidation(nested, 'Purge', { distribution });
    const parentTemplate = Template.fromStack(parent);
    const nestedTemplate = Template.fromStack(nested);
    expect(invalidationResources(parentTemplate)).toEqual({});
    expect(parentTemplate.findResources('AWS::Events::Rule')).toEqual({});
    const [, invalidation] = only(invalidationResources(nestedTemplate));
    expect(invalidation.Properties.DistributionId).toEqual({ Ref: expect.stringMatching(/Distribution/) });
    expect(ruleInput(nestedTemplate).rollbackPurge.targets.map((t) => ({ ...t, DistributionId: unescaped(t.DistributionId) })))
      .toEqual([{ DistributionId: invalidation.Properties.DistributionId, Paths: ['/*'] }]);
    expect(anchorOf(nestedTemplate)[1].DependsOn).toContain(byPrefix(nestedTemplate, 'DeployCustomResource')[0]);
    deployOrder(resourcesOf(parentTemplate));
    deployOrder(resourcesOf(nestedTemplate));
  });
});

describe('distributions from elsewhere', () => {
  test('a distribution from another stack becomes a cross-stack reference', () => {
    const app = newApp();
    const sites = new Stack(app, 'Sites', { env: ENV });
    const bucket = new s3.Bucket(sites, 'Bucket');
    const distribution = new cloudfront.Distribution(sites, 'Distribution', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
    const deploys = new Stack(app, 'Deploys', { env: ENV });
    new Invalidation(deploys, 'Invalidate', { distribution });
    const template = Template.fromStack(deploys);
    template.hasResourceProperties(RESOURCE_TYPE, { DistributionId: { 'Fn::ImportValue': Match.stringLikeRegexp('Distribution') } });
    expect(deploys.dependencies).toContain(sites);
  });

  test('a distribution of another account is an error naming the prop and the accounts', () => {
    const app = newApp();
    const sites = new Stack(app, 'Sites', { env: { account: '111111111111', region: 'us-east-1' } });
    const distribution = new cloudfront.Distribution(sites, 'Distribution', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(new s3.Bucket(sites, 'Bucket')) } });
    const deploys = new Stack(app, 'Deploys', { env: ENV });
    expect(() => new Invalidation(deploys, 'Invalidate', { distribution }))
      .toThrow(/Deploys\/Invalidate: distribution Sites\/Distribution belongs to account 111111111111, but the Invalidation's stack Deploys deploys to account 123456789012/);
  });

  test('an imported distribution of another account (by its env or its ARN) is an error too', () => {
    const app = newApp();
    const elsewhere = new Stack(app, 'Elsewhere', { env: { account: '111111111111', region: 'eu-west-1' } });
    const deploys = new Stack(app, 'Deploys', { env: ENV });
    expect(() => new Invalidation(deploys, 'ByEnv', { distribution: importedDistribution(elsewhere, 'E1') })).toThrow(/distribution Elsewhere\/E1 belongs to account 111111111111/);
    const byArn: cloudfront.IDistribution = Object.create(importedDistribution(deploys, 'E2'), { distributionArn: { value: 'arn:aws:cloudfront::222222222222:distribution/E2' } });
    expect(() => new Invalidation(deploys, 'ByArn', { distribution: byArn })).toThrow(/distribution Deploys\/E2 belongs to account 222222222222/);
  });

  test('accounts unknown at synth are not compared', () => {
    const app = newApp();
    const agnostic = new Stack(app, 'Agnostic');
    const elsewhere = new Stack(app, 'Elsewhere', { env: { account: '111111111111', region: 'eu-west-1' } });
    expect(() => new Invalidation(agnostic, 'Purge', { distribution: importedDistribution(elsewhere, 'E1') })).not.toThrow();
    expect(() => new Invalidation(elsewhere, 'Purge', { distribution: importedDistribution(agnostic, 'E2') })).not.toThrow();
  });
});
