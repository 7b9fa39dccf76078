/**
 * A user's app, compiled against the packed library in a scratch folder by
 * test/package/check-package.js: five site stacks built from one class, as a user would write them.
 *
 * - PlainSite: a bucket, a distribution, a BucketDeployment and `new Invalidation(stack, 'Purge', { distribution })`;
 * - ChangedFilesSite: the same, purging `InvalidationPaths.changedFiles(deployment)`;
 * - ConditionalSite: the BucketDeployment's custom resource carries a CloudFormation Condition
 *   (on a parameter), and the Invalidation follows it with `InvalidationTrigger.onDeployment`;
 * - Staging and Prod: one class for both, Staging purged by an Invalidation, Prod still on
 *   `BucketDeployment({ distribution })` without one.
 *
 * Every finding on the app's own resources (bucket, distribution, BucketDeployment and its
 * aws-cdk-lib handler, and the compliance variant's VPC, key and topic) is acknowledged here, with
 * its reason: what is left is the library's.
 */
import { CfnCondition, CfnParameter, CfnWaitConditionHandle, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { App, CfnElement, CfnResource, StackProps } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Invalidation, InvalidationPaths, InvalidationTrigger } from 'cdk-cloudfront-invalidation';
import { acknowledge } from './nag';

export const ENV = { account: '123456789012', region: 'eu-west-1' };

/** How a site stack purges its distribution. */
export type Purge = 'plain' | 'changed-files' | 'conditional' | 'bucket-deployment';

export interface SiteStackProps extends StackProps {
  readonly purge: Purge;
  /** Runs once the site is defined: the compliance variant configures the handler there. */
  readonly configure?: (stack: SiteStack) => void;
}

export class SiteStack extends Stack {
  public readonly bucket: s3.Bucket;
  public readonly distribution: cloudfront.Distribution;
  public readonly deployment: s3deploy.BucketDeployment;
  public readonly invalidation?: Invalidation;

  constructor(scope: App, id: string, props: SiteStackProps) {
    super(scope, id, props);
    this.bucket = new s3.Bucket(this, 'Content', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.distribution = new cloudfront.Distribution(this, 'Cdn', {
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      },
      defaultRootObject: 'index.html',
    });
    this.deployment = new s3deploy.BucketDeployment(this, 'Site', {
      sources: [s3deploy.Source.asset('site')],
      destinationBucket: this.bucket,
      distribution: props.purge === 'bucket-deployment' ? this.distribution : undefined,
    });

    const distribution = this.distribution;
    switch (props.purge) {
      case 'plain':
        this.invalidation = new Invalidation(this, 'Purge', { distribution });
        break;
      case 'changed-files':
        this.invalidation = new Invalidation(this, 'Purge', { distribution, paths: InvalidationPaths.changedFiles(this.deployment) });
        break;
      case 'conditional': {
        const deploySite = new CfnParameter(this, 'DeploySite', { type: 'String', allowedValues: ['yes', 'no'], default: 'yes' });
        const condition = new CfnCondition(this, 'SiteDeployed', { expression: Fn.conditionEquals(deploySite.valueAsString, 'yes') });
        (this.deployment.node.findChild('CustomResource').node.defaultChild as CfnResource).cfnOptions.condition = condition;
        this.invalidation = new Invalidation(this, 'Purge', { distribution, trigger: InvalidationTrigger.onDeployment(this.deployment) });
        // A finding of the app's own that template validation must report, acknowledged: it shows that the validation ran
        // (aws-cdk-lib leaves a plugin with no finding, acknowledged or not, out of its report).
        const canary = new CfnWaitConditionHandle(this, 'ValidationCanary');
        canary.addOverride('DependsOn', [(this.deployment.node.findChild('CustomResource').node.defaultChild as CfnResource).logicalId]);
        acknowledge(canary, ['E3005', 'W2502'].map((rule) => ({
          id: `CloudFormation-Validate::${rule}`,
          reason: 'A DependsOn on a conditional resource, made on purpose to show that template validation runs.',
        })));
        break;
      }
      case 'bucket-deployment':
        break;
    }
    props.configure?.(this);
    acknowledgeSite(this);
  }
}

/** The app: every stack of it from one class. */
export function defineApp(app: App, configure?: (stack: SiteStack) => void): SiteStack[] {
  return [
    new SiteStack(app, 'PlainSite', { env: ENV, purge: 'plain', configure }),
    new SiteStack(app, 'ChangedFilesSite', { env: ENV, purge: 'changed-files', configure }),
    new SiteStack(app, 'ConditionalSite', { env: ENV, purge: 'conditional', configure }),
    new SiteStack(app, 'Staging', { env: ENV, purge: 'plain', configure }),
    new SiteStack(app, 'Prod', { env: ENV, purge: 'bucket-deployment', configure }),
  ];
}

/**
 * A rule acknowledged on one of the app's own constructs. `findings` names the findings of a rule
 * that reports several per resource (cdk-nag 3 acknowledges each as `RuleId[finding]`; cdk-nag 2
 * acknowledges the rule as a whole).
 */
export interface Acknowledgement {
  readonly id: string;
  readonly reason: string;
  readonly findings?: string[];
}

/** The same rule of each compliance pack (NIST 800-53 R5, HIPAA Security, PCI DSS 3.2.1), acknowledged for one reason. */
export function compliancePacks(rule: string, reason: string): Acknowledgement[] {
  return ['NIST.800.53.R5', 'HIPAA.Security', 'PCI.DSS.321'].map((pack) => ({ id: `${pack}-${rule}`, reason }));
}

function acknowledgeSite(stack: SiteStack): void {
  acknowledge(stack.bucket, [
    { id: 'AwsSolutions-S1', reason: 'The example site keeps no S3 server access logs.' },
    ...compliancePacks('S3BucketLoggingEnabled', 'The example site keeps no S3 server access logs.'),
    ...compliancePacks('S3BucketReplicationEnabled', 'The example site\'s content is deployed from source: no replica.'),
    ...compliancePacks('S3BucketVersioningEnabled', 'The example site\'s content is deployed from source: no versions.'),
    ...compliancePacks('S3DefaultEncryptionKMS', 'The example site is public content, encrypted with S3-managed keys.'),
  ]);
  acknowledge(stack.distribution, [
    { id: 'AwsSolutions-CFR1', reason: 'The example site is served worldwide: no geo restriction.' },
    { id: 'AwsSolutions-CFR2', reason: 'The example site has no WAF web ACL.' },
    { id: 'AwsSolutions-CFR3', reason: 'The example site keeps no CloudFront access logs.' },
    { id: 'AwsSolutions-CFR4', reason: 'The example site uses the default cloudfront.net certificate.' },
  ]);
  // BucketDeployment's handler (a singleton of the stack) is aws-cdk-lib's, not the library's.
  const handler = stack.node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
  if (handler) {
    const content = stack.getLogicalId(stack.bucket.node.defaultChild as CfnElement);
    acknowledge(handler, [
      { id: 'AwsSolutions-IAM4', reason: 'aws-cdk-lib\'s BucketDeployment handler uses the AWSLambdaBasicExecutionRole managed policy.', findings: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'] },
      {
        id: 'AwsSolutions-IAM5',
        reason: 'aws-cdk-lib\'s BucketDeployment handler reads the asset bucket and writes the site bucket with wildcards (and invalidates with its distribution prop).',
        findings: [
          ...['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*'].map((action) => `Action::${action}`),
          `Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-${stack.account}-${stack.region}/*`,
          `Resource::<${content}.Arn>/*`,
          'Resource::*',
        ],
      },
      { id: 'AwsSolutions-L1', reason: 'aws-cdk-lib chooses the BucketDeployment handler\'s runtime.' },
      { id: 'Serverless-LambdaLatestVersion', reason: 'aws-cdk-lib chooses the BucketDeployment handler\'s runtime.' },
      { id: 'Serverless-LambdaDLQ', reason: 'CloudFormation calls the BucketDeployment handler synchronously: nothing to dead-letter.' },
      { id: 'Serverless-LambdaDefaultMemorySize', reason: 'The example site is small: the BucketDeployment handler\'s default memory does.' },
      { id: 'Serverless-LambdaTracing', reason: 'The example site does not trace aws-cdk-lib\'s BucketDeployment handler.' },
      ...compliancePacks('LambdaDLQ', 'CloudFormation calls the BucketDeployment handler synchronously: nothing to dead-letter.'),
      ...compliancePacks('LambdaConcurrency', 'The BucketDeployment handler runs once per deploy of the example site.'),
      ...compliancePacks('LambdaInsideVPC', 'The example site\'s BucketDeployment handler reaches S3 outside the VPC.'),
      ...compliancePacks('IAMNoInlinePolicy', 'aws-cdk-lib gives the BucketDeployment handler\'s role its default (inline) policy.'),
    ]);
  }
}
