/**
 * What synth warns about (setups that purge twice, or never) and what it refuses (props CloudFront
 * or CloudFormation would refuse).
 */
import { CfnParameter, Duration, NestedStack, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Invalidation, InvalidationTrigger } from '../../src';
import type { InvalidationProps } from '../../src';
import { ENV, newApp, siteStack } from '../support/synth';
import { invalidationResources } from '../support/template';

// Every synthesis in this file fails on a deprecated aws-cdk-lib API.
process.env.JSII_DEPRECATED = 'fail';

describe('setups that purge twice, or never', () => {
  const warnings = (stack: Stack) => Annotations.fromStack(stack).findWarning('*', Match.anyValue()).map((w) => String(w.entry.data));

  test('a BucketDeployment that purges the same distribution itself is a warning naming the prop and what to do', () => {
    const { stack } = siteStack({
      extra: (site, distribution) => {
        new s3deploy.BucketDeployment(site, 'Purging', {
          sources: [s3deploy.Source.data('a.txt', 'a')], destinationBucket: new s3.Bucket(site, 'Other'), distribution,
        });
      },
    });
    expect(warnings(stack)).toEqual([expect.stringMatching(/BucketDeployment Site\/Purging purges distribution Site\/Distribution itself \(its distribution prop\).*Remove distribution/)]);
  });

  test('content another stack deploys into this stack\'s bucket, with onStackChange, is a warning saying what to do', () => {
    const app = newApp();
    const site = new Stack(app, 'Site', { env: ENV });
    const bucket = new s3.Bucket(site, 'Bucket');
    const distribution = new cloudfront.Distribution(site, 'Distribution', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
    new Invalidation(site, 'Purge', { distribution });
    const content = new Stack(app, 'Content', { env: ENV });
    new s3deploy.BucketDeployment(content, 'Files', { sources: [s3deploy.Source.data('a.txt', 'a')], destinationBucket: bucket });
    app.synth();
    expect(warnings(site)).toEqual([expect.stringMatching(/BucketDeployment Content\/Files \(stack Content\) puts files where distribution Site\/Distribution serves them from, but the trigger onStackChange follows stack Site only.*Put the Invalidation in stack Content/)]);
  });

  test('the Invalidation in another stack than the distribution and its content, with onStackChange, is a warning too', () => {
    const app = newApp();
    const site = new Stack(app, 'Site', { env: ENV });
    const bucket = new s3.Bucket(site, 'Bucket');
    const distribution = new cloudfront.Distribution(site, 'Distribution', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
    new s3deploy.BucketDeployment(site, 'Deploy', { sources: [s3deploy.Source.data('a.txt', 'a')], destinationBucket: bucket });
    const purges = new Stack(app, 'Purges', { env: ENV });
    new Invalidation(purges, 'Purge', { distribution });
    const followed = new Stack(app, 'Followed', { env: ENV });
    new Invalidation(followed, 'Purge', { distribution, trigger: InvalidationTrigger.onChangeOf('v1') });
    app.synth();
    expect(warnings(purges)).toEqual([expect.stringMatching(/BucketDeployment Site\/Deploy \(stack Site\) puts files where distribution Site\/Distribution serves them from.*follows stack Purges only/)]);
    expect(warnings(followed)).toEqual([]);
  });

  test('content in a nested stack of the Invalidation\'s stack gives no warning: onStackChange sees the nested stack change', () => {
    const app = newApp();
    const parent = new Stack(app, 'Parent', { env: ENV });
    const nested = new NestedStack(parent, 'Nested');
    const bucket = new s3.Bucket(nested, 'Bucket');
    const distribution = new cloudfront.Distribution(nested, 'Distribution', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
    new s3deploy.BucketDeployment(nested, 'Deploy', { sources: [s3deploy.Source.data('a.txt', 'a')], destinationBucket: bucket });
    new Invalidation(parent, 'Purge', { distribution });
    app.synth();
    expect(warnings(parent)).toEqual([]);
  });

  test('a warning is silenced by its id in the context key cdk-cloudfront-invalidation:acknowledgeWarning, at any aws-cdk-lib', () => {
    const make = (context?: Record<string, unknown>) => siteStack({
      app: newApp({ context }),
      extra: (site, distribution) => {
        new s3deploy.BucketDeployment(site, 'Purging', {
          sources: [s3deploy.Source.data('a.txt', 'a')], destinationBucket: new s3.Bucket(site, 'Other'), distribution,
        });
      },
    }).stack;
    expect(warnings(make())).toHaveLength(1);
    expect(warnings(make({ 'cdk-cloudfront-invalidation:acknowledgeWarning': 'cdk-cloudfront-invalidation:purgedTwice' }))).toEqual([]);
    expect(warnings(make({ 'cdk-cloudfront-invalidation:acknowledgeWarning': ['cdk-cloudfront-invalidation:other'] }))).toHaveLength(1);
  });

  test('the same deployment in the Invalidation\'s own stack, or followed by onDeployment, gives no warning', () => {
    expect(warnings(siteStack().stack)).toEqual([]);
  });

  test('failOnTimeout: false without waitForCompletion is a warning naming both props', () => {
    expect(warnings(siteStack({ invalidation: { failOnTimeout: false } }).stack)).toEqual([expect.stringMatching(/^failOnTimeout: false has no effect without waitForCompletion: true/)]);
    expect(warnings(siteStack({ invalidation: { failOnTimeout: false, waitForCompletion: true } }).stack)).toEqual([]);
  });

  test.each(['', ' ', 'dt_1 2'])('distributionTenantId %j is an error naming the prop', (tenant) => {
    expect(() => siteStack({ invalidation: { distributionTenantId: tenant } })).toThrow(/Site\/Invalidate: distributionTenantId ".*" is not a tenant id/);
  });
});

describe('validation at synth', () => {
  const make = (invalidation: Partial<InvalidationProps>) => () => siteStack({ invalidation });

  test.each([
    ['no leading slash', ['index.html'], /paths\[0\] "index.html" is not a valid invalidation path: a path must start with '\/'/],
    ['a star before the end', ['/a', '/img/*.png'], /paths\[1\] "\/img\/\*.png" .*'\*' may only be the last character/],
    ['a path over 4000 characters', [`/${'a'.repeat(4000)}`], /paths\[0\] "\/a{69}\.\.\.a{30}" \(4001 characters\) is not a valid invalidation path: .* at most 4000 characters long once encoded \(this one has 4001\)$/],
    ['a star after 1200 characters', [`/${'a'.repeat(1200)}*b`], /paths\[0\] "\/a+\.\.\.a+\*b" \(1203 characters\) .*'\*' may only be the last character of a path \(found at character 1202 of 1203\)$/],
    ['a path over 4000 characters once encoded', ['/ok', `/${'é'.repeat(700)}`], /paths\[1\] .* at most 4000 characters long once encoded \(this one has 4201\)/],
    ['an empty path', [''], /paths\[0\] "" .* may not be empty/],
    ['a tag without a name', ['#'], /paths\[0\] "#" .* needs a name/],
    ['a tag with a comma', ['#a,b'], /paths\[0\] "#a,b" .* other than ','/],
    ['a tag with a wildcard', ['#tag*'], /paths\[0\] "#tag\*" .* may not contain the wildcard/],
    ['a tag over 256 characters', [`#${'t'.repeat(257)}`], /at most 256 characters long \(this one has 257\)/],
    ['a tag outside ASCII', ['#caf\u00e9'], /ASCII characters 33-126/],
  ])('rejects %s', (_what, paths, message) => {
    expect(make({ paths })).toThrow(message);
  });

  test('rejects an empty path list, naming the prop', () => {
    expect(make({ paths: [] })).toThrow(/Site\/Invalidate: paths is empty/);
  });

  test('rejects a timeout CloudFormation cannot wait for, naming the prop and the value', () => {
    expect(make({ timeout: Duration.minutes(59) })).toThrow(/Site\/Invalidate: timeout is 59 minutes, but must be .* to 58 minutes/);
    expect(make({ timeout: Duration.millis(1500) })).toThrow(/timeout is 1 second 500 millis/);
    expect(make({ timeout: Duration.minutes(58) })).not.toThrow();
  });

  test('accepts cache tags and leaves tokens to the handler', () => {
    const { template } = siteStack({
      extra: (stack, distribution) => {
        const prefix = new CfnParameter(stack, 'Prefix');
        new Invalidation(stack, 'Tokens', { distribution, paths: [`/${prefix.valueAsString}/*`, '#product-42'] });
      },
    });
    expect(Object.keys(invalidationResources(template))).toHaveLength(2);
  });

  test('rejects onChangeOf and onDeployment without arguments', () => {
    expect(() => InvalidationTrigger.onChangeOf()).toThrow(/onChangeOf needs at least one value/);
    expect(() => InvalidationTrigger.onDeployment()).toThrow(/onDeployment needs at least one BucketDeployment/);
  });
});
