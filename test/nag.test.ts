/**
 * cdk-nag's AwsSolutions pack over the library's resources and over a site stack that uses it.
 */
import { App, Aspects, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { AwsSolutionsChecks, NagSuppressions } from 'cdk-nag';
import { Invalidation, InvalidationTrigger } from '../src';
import { defineSite } from './demo/app';

// The checks synthesize under it too: no deprecated aws-cdk-lib API.
process.env.JSII_DEPRECATED = 'fail';

const ENV = { account: '123456789012', region: 'eu-west-1' };

function findings(stack: Stack) {
  const annotations = Annotations.fromStack(stack);
  const pattern = Match.stringLikeRegexp('AwsSolutions-');
  return [...annotations.findError('*', pattern), ...annotations.findWarning('*', pattern)]
    .map((f) => `${f.id}: ${String(f.entry.data).split(':')[0]}`);
}

/** The acknowledgements the library's own resources carry: resource, rule and what it applies to. */
type Acknowledged = { rules_to_suppress: Array<{ id: string; reason: string; applies_to?: unknown }> };
function acknowledgements(template: { Resources: Record<string, { Metadata?: { cdk_nag?: Acknowledged } }> }) {
  return Object.entries(template.Resources)
    .filter(([id]) => /^(Purge|Feed|Tenant|CloudFrontInvalidationProvider)/.test(id))
    .flatMap(([id, r]) => (r.Metadata?.cdk_nag?.rules_to_suppress ?? [])
      .map((rule) => ({ id, rule: rule.id, reason: rule.reason, appliesTo: rule.applies_to })));
}

const ACCOUNT_WIDE_CLOUDFRONT = {
  id: expect.stringMatching(/^CloudFrontInvalidationProviderPolicy/),
  rule: 'AwsSolutions-IAM5',
  reason: expect.stringContaining('must reach distributions only the failed deploy named'),
  appliesTo: [{ regex: '/^Resource::arn:<AWS::Partition>:cloudfront::[^:]+:distribution(-tenant)?\\/\\*$/g' }],
};

test('the library\'s own resources raise no AwsSolutions finding; the one it acknowledges is the account-wide CloudFront grant, with its reason', () => {
  const app = new App();
  const stack = new Stack(app, 'Library', { env: ENV });
  const distribution = cloudfront.Distribution.fromDistributionAttributes(stack, 'Cdn', { distributionId: 'E1EXAMPLE', domainName: 'd.cloudfront.net' });
  new Invalidation(stack, 'Purge', { distribution });
  new Invalidation(stack, 'Feed', { distribution, paths: ['/feed.xml'], trigger: InvalidationTrigger.onChangeOf('v1'), waitForCompletion: true });
  new Invalidation(stack, 'Tenant', { distribution, distributionTenantId: 'dt_example', executeAfterStack: false, trigger: InvalidationTrigger.onChangeOf('v2') });
  Invalidation.configureHandler(stack, { logRemovalPolicy: RemovalPolicy.DESTROY });
  Aspects.of(app).add(new AwsSolutionsChecks());
  expect(findings(stack)).toEqual([]);
  expect(acknowledgements(app.synth().getStackByName('Library').template)).toEqual([ACCOUNT_WIDE_CLOUDFRONT]);
});

test('a site stack using the construct passes AwsSolutions; every other suppression is for the site\'s own resources, with its reason', () => {
  const app = new App();
  const stack = new Stack(app, 'Site', { env: ENV });
  const { bucket, distribution } = defineSite(stack);
  NagSuppressions.addResourceSuppressions(bucket, [
    { id: 'AwsSolutions-S1', reason: 'The example site keeps no S3 server access logs; a real site would add a log bucket.' },
  ]);
  NagSuppressions.addResourceSuppressions(distribution, [
    { id: 'AwsSolutions-CFR1', reason: 'The example site is served worldwide: no geo restriction.' },
    { id: 'AwsSolutions-CFR2', reason: 'The example site has no WAF web ACL; a real site would decide on one.' },
    { id: 'AwsSolutions-CFR3', reason: 'The example site keeps no CloudFront access logs.' },
    { id: 'AwsSolutions-CFR4', reason: 'The example site uses the default cloudfront.net certificate, which allows only TLS 1.x as CloudFront sets it.' },
  ]);
  // BucketDeployment's handler is aws-cdk-lib's, not this library's.
  const bucketDeploymentHandler = stack.node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'))!;
  NagSuppressions.addResourceSuppressions(bucketDeploymentHandler, [
    { id: 'AwsSolutions-IAM4', reason: 'aws-cdk-lib\'s BucketDeployment handler uses the AWSLambdaBasicExecutionRole managed policy.' },
    { id: 'AwsSolutions-IAM5', reason: 'aws-cdk-lib\'s BucketDeployment handler reads the asset bucket and writes the site bucket with wildcards.' },
    { id: 'AwsSolutions-L1', reason: 'aws-cdk-lib chooses the BucketDeployment handler\'s runtime.' },
  ], true);
  Aspects.of(app).add(new AwsSolutionsChecks());
  expect(findings(stack)).toEqual([]);
  const resources = app.synth().getStackByName('Site').template.Resources as Record<string, { Metadata?: { cdk_nag?: unknown } }>;
  const suppressed = Object.keys(resources).filter((id) => resources[id].Metadata?.cdk_nag);
  expect(suppressed.length).toBeGreaterThan(0);
  expect(suppressed.filter((id) => /^(Purge|CloudFrontInvalidationProvider)/.test(id))).toEqual([ACCOUNT_WIDE_CLOUDFRONT.id]);
  expect(acknowledgements(app.synth().getStackByName('Site').template as never)).toEqual([ACCOUNT_WIDE_CLOUDFRONT]);
});
