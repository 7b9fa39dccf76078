/**
 * cdk-nag's packs (the 2.x generation, at the aws-cdk-lib floor) over the library's resources, with
 * its defaults and with the documented compliance configuration, and over a site stack that uses it.
 * The package check (test/package) runs the newest aws-cdk-lib with the newest cdk-nag.
 */
import { App, Aspects, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks, HIPAASecurityChecks, NagSuppressions, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks } from 'cdk-nag';
import { Invalidation, InvalidationPaths, InvalidationTrigger } from '../../src';
import type { InvalidationHandlerSettings } from '../../src';
import { defineSite } from '../demo/app';
import { ENV } from '../support/synth';

// The checks synthesize under it too: no deprecated aws-cdk-lib API.
process.env.JSII_DEPRECATED = 'fail';

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

const cloudFrontArn = (resource: string) => `Resource::arn:<AWS::Partition>:cloudfront::123456789012:${resource}/*`;
const ACCOUNT_WIDE_CLOUDFRONT = {
  id: expect.stringMatching(/^CloudFrontInvalidationProviderPermissions/),
  rule: 'AwsSolutions-IAM5',
  reason: expect.stringContaining('must reach distributions only the failed deploy named'),
  appliesTo: [cloudFrontArn('distribution'), cloudFrontArn('distribution-tenant')],
};
const DEAD_LETTER_QUEUE = {
  id: expect.stringMatching(/^CloudFrontInvalidationProviderDeadLetters/),
  rule: 'Serverless-SQSRedrivePolicy',
  reason: expect.stringContaining('is a dead-letter queue'),
  appliesTo: undefined,
};
const TRACING = {
  id: expect.stringMatching(/^CloudFrontInvalidationProviderHandler/),
  rule: 'Serverless-LambdaTracing',
  reason: expect.stringContaining('tracing: lambda.Tracing.ACTIVE'),
  appliesTo: undefined,
};
const MANIFEST_READS = {
  id: expect.stringMatching(/^CloudFrontInvalidationProviderPermissions/),
  rule: 'AwsSolutions-IAM5',
  reason: expect.stringContaining('changedFiles manifests'),
  appliesTo: ['Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-123456789012-eu-west-1/*.invalidation-manifest'],
};

/** A stack with the library's resources only: three Invalidations of an imported distribution, one with changedFiles. */
function libraryStack(app: App, settings?: (stack: Stack) => InvalidationHandlerSettings): Stack {
  const stack = new Stack(app, 'Library', { env: ENV });
  const distribution = cloudfront.Distribution.fromDistributionAttributes(stack, 'Cdn', { distributionId: 'E1EXAMPLE', domainName: 'd.cloudfront.net' });
  new Invalidation(stack, 'Purge', { distribution });
  new Invalidation(stack, 'Feed', { distribution, paths: ['/feed.xml'], trigger: InvalidationTrigger.onChangeOf('v1'), waitForCompletion: true });
  new Invalidation(stack, 'Tenant', { distribution, distributionTenantId: 'dt_example', executeAfterStack: false, trigger: InvalidationTrigger.onChangeOf('v2') });
  Invalidation.configureHandler(stack, { logRemovalPolicy: RemovalPolicy.DESTROY, ...settings?.(stack) });
  return stack;
}

/** Findings (errors and warnings) of every pack on the library's own resources, as `path: rule[finding]`. */
function libraryFindings(stack: Stack) {
  const annotations = Annotations.fromStack(stack);
  return [...annotations.findError('*', Match.anyValue()), ...annotations.findWarning('*', Match.anyValue())]
    .filter((f) => /^\/Library\/(Purge|Feed|Tenant|CloudFrontInvalidationProvider)/.test(f.id))
    .map((f) => `${f.id}: ${String(f.entry.data).split(':')[0]}`);
}

const PACKS = {
  'AwsSolutions': () => new AwsSolutionsChecks({ logIgnores: true }),
  'Serverless': () => new ServerlessChecks({ logIgnores: true }),
  'NIST 800-53 R5': () => new NIST80053R5Checks({ logIgnores: true }),
  'HIPAA': () => new HIPAASecurityChecks({ logIgnores: true }),
  'PCI DSS 3.2.1': () => new PCIDSS321Checks({ logIgnores: true }),
};

test('with its defaults, the library\'s own resources raise no AwsSolutions or Serverless finding; each acknowledgement has its reason', () => {
  const app = new App();
  const stack = libraryStack(app);
  Aspects.of(app).add(PACKS.AwsSolutions());
  Aspects.of(app).add(PACKS.Serverless());
  expect(libraryFindings(stack)).toEqual([]);
  expect(acknowledgements(app.synth().getStackByName('Library').template)).toEqual([DEAD_LETTER_QUEUE, TRACING, ACCOUNT_WIDE_CLOUDFRONT]);
});

test('with changedFiles, the manifest reads are acknowledged too, for that bucket and those objects only', () => {
  const app = new App();
  const stack = libraryStack(app);
  const bucket = new s3.Bucket(stack, 'Site');
  const deployment = new s3deploy.BucketDeployment(stack, 'Files', { destinationBucket: bucket, sources: [s3deploy.Source.data('index.html', 'x')] });
  const other = cloudfront.Distribution.fromDistributionAttributes(stack, 'Cdn2', { distributionId: 'E2EXAMPLE', domainName: 'e.cloudfront.net' });
  new Invalidation(stack, 'PurgeChanged', { distribution: other, paths: InvalidationPaths.changedFiles(deployment) });
  Aspects.of(app).add(PACKS.AwsSolutions());
  Aspects.of(app).add(PACKS.Serverless());
  expect(libraryFindings(stack)).toEqual([]);
  expect(acknowledgements(app.synth().getStackByName('Library').template)).toEqual([DEAD_LETTER_QUEUE, TRACING, ACCOUNT_WIDE_CLOUDFRONT, MANIFEST_READS]);
});

/** The documented compliance configuration (README, "Compliance"). */
function compliance(stack: Stack): InvalidationHandlerSettings {
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  return {
    logEncryptionKey: new kms.Key(stack, 'LogKey', { enableKeyRotation: true }),
    vpc,
    reservedConcurrentExecutions: 5,
    tracing: lambda.Tracing.ACTIVE,
    failureAlarmActions: [new cwActions.SnsAction(sns.Topic.fromTopicArn(stack, 'Pager', 'arn:aws:sns:eu-west-1:123456789012:pager'))],
  };
}

test.each(Object.keys(PACKS))('with the documented compliance configuration, the library\'s own resources pass %s', (pack) => {
  const app = new App();
  const stack = libraryStack(app, compliance);
  Aspects.of(app).add(PACKS[pack as keyof typeof PACKS]());
  expect(libraryFindings(stack)).toEqual([]);
});

test('each acknowledgement is also written where cdk-nag 3 reads it, one key per finding cdk-nag reports, with the same reason', () => {
  const app = new App();
  const stack = libraryStack(app, compliance);
  const bucket = new s3.Bucket(stack, 'Site');
  const deployment = new s3deploy.BucketDeployment(stack, 'Files', { destinationBucket: bucket, sources: [s3deploy.Source.data('index.html', 'x')] });
  const other = cloudfront.Distribution.fromDistributionAttributes(stack, 'Cdn2', { distributionId: 'E2EXAMPLE', domainName: 'e.cloudfront.net' });
  new Invalidation(stack, 'PurgeChanged', { distribution: other, paths: InvalidationPaths.changedFiles(deployment) });
  Object.values(PACKS).forEach((pack) => Aspects.of(app).add(pack()));
  app.synth();
  // What cdk-nag 2 found and found acknowledged, by construct path.
  const suppressed = new Map<string, Set<string>>();
  for (const f of Annotations.fromStack(stack).findInfo('*', Match.stringLikeRegexp('^CdkNagSuppression'))) {
    const [, finding, rule] = /^CdkNagSuppression(?:\[(.*?)\])?: (\S+) was triggered but suppressed/.exec(String(f.entry.data))!;
    const path = f.id.replace(/\/Resource$/, '');
    suppressed.set(path, (suppressed.get(path) ?? new Set()).add(finding ? `${rule}[${finding}]` : rule));
  }
  const written = new Map<string, Set<string>>();
  for (const c of stack.node.findAll()) {
    for (const entry of c.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules')) {
      const path = `/${c.node.path}`.replace(/\/Resource$/, '');
      Object.keys(entry.data as object).forEach((key) => written.set(path, (written.get(path) ?? new Set()).add(key)));
    }
  }
  const sorted = (m: Map<string, Set<string>>) => [...m].map(([path, keys]) => [path, [...keys].sort()]).sort();
  expect(sorted(written).length).toBeGreaterThanOrEqual(4);
  // Every finding acknowledged for cdk-nag 2 is acknowledged for cdk-nag 3, by the same key; the only other key is the
  // tracing rule, acknowledged whatever the setting, which this configuration passes.
  for (const [path, keys] of suppressed) {
    expect([path, [...keys].filter((key) => !written.get(path)?.has(key))]).toEqual([path, []]);
  }
  const extra = [...written].flatMap(([path, keys]) => [...keys].filter((key) => !suppressed.get(path)?.has(key)).map((key) => `${path}: ${key}`));
  expect(extra).toEqual(['/Library/CloudFrontInvalidationProvider/Handler: Serverless-LambdaTracing']);
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
  expect(acknowledgements(app.synth().getStackByName('Site').template as never)).toEqual([DEAD_LETTER_QUEUE, TRACING, ACCOUNT_WIDE_CLOUDFRONT]);
});
