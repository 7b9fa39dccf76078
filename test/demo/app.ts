/**
 * The example app: a static site in S3 behind CloudFront, deployed with a BucketDeployment and
 * purged by an Invalidation. The demo and the end-to-end tests deploy it with the lifecycle driver.
 */
import * as path from 'path';
import { App, CfnOutput, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Invalidation, InvalidationPaths } from '../../src';
import type { ChangedFilesOptions, InvalidationProps } from '../../src';
import type { SynthesizedStack } from '../driver/assembly';
import { dropArchives, freshOutdir, readStack } from '../driver/assembly';
import { ACCOUNT_ID, REGION } from '../driver/local-cloud';

export const STACK_NAME = 'ExampleSite';
export const SITE_DIR = path.join(__dirname, 'site');

export interface SiteOptions {
  /** The version of the site to deploy: a directory under test/demo/site, or a path. @default 'v1' */
  readonly site?: string;
  /** Also record the latest invalidation id in an SSM parameter (a resource that follows the purge). */
  readonly recordPurge?: boolean;
  /** Construct id of the Invalidation: changing it replaces the resource. @default 'Purge' */
  readonly invalidationId?: string;
  readonly invalidation?: Partial<InvalidationProps>;
  /** Purge only the files that changed (`InvalidationPaths.changedFiles`) instead of `/*`. */
  readonly changedFiles?: ChangedFilesOptions;
  /** Further constructs to add to the stack. */
  readonly extend?: (stack: Stack, parts: SiteParts) => void;
}

export interface SiteParts {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  readonly deployment: s3deploy.BucketDeployment;
  readonly invalidation: Invalidation;
}

/** Defines the example site in a stack. */
export function defineSite(stack: Stack, options: SiteOptions = {}): SiteParts {
  const bucket = new s3.Bucket(stack, 'Content', {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const distribution = new cloudfront.Distribution(stack, 'Cdn', {
    defaultBehavior: {
      origin: origins.S3BucketOrigin.withOriginAccessControl(bucket),
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
    },
    defaultRootObject: 'index.html',
  });
  const site = options.site ?? 'v1';
  const deployment = new s3deploy.BucketDeployment(stack, 'Site', {
    sources: [s3deploy.Source.asset(path.isAbsolute(site) ? site : path.join(SITE_DIR, site))],
    destinationBucket: bucket,
  });
  const paths = options.changedFiles ? InvalidationPaths.changedFiles(deployment, options.changedFiles) : undefined;
  const invalidation = new Invalidation(stack, options.invalidationId ?? 'Purge', { distribution, paths, ...options.invalidation });
  if (options.recordPurge) {
    new ssm.StringParameter(stack, 'LastPurge', { parameterName: '/example-site/last-purge', stringValue: invalidation.invalidationId });
  }
  new CfnOutput(stack, 'DistributionDomain', { value: distribution.distributionDomainName });
  new CfnOutput(stack, 'InvalidationIds', { value: invalidation.invalidationIds });
  const parts = { bucket, distribution, deployment, invalidation };
  options.extend?.(stack, parts);
  return parts;
}

/** Synthesizes the example app into a fresh cloud assembly and reads the stack back. */
export function synthSite(options: SiteOptions = {}): SynthesizedStack {
  const outdir = freshOutdir('example-site-');
  const app = new App({ outdir });
  defineSite(new Stack(app, STACK_NAME, { env: { account: ACCOUNT_ID, region: REGION } }), options);
  const stack = readStack(app.synth(), STACK_NAME);
  dropArchives(outdir);
  return stack;
}

/** The logical id CDK gave the resource of a top-level construct: its id and a hash. */
export function logicalIdOf(stack: SynthesizedStack, constructId: string): string {
  const ids = Object.keys(stack.template.Resources).filter((id) => new RegExp(`^${constructId}[0-9A-F]{8}$`).test(id));
  if (ids.length !== 1) {
    throw new Error(`expected one resource for ${constructId}, found ${ids.join(', ') || 'none'}`);
  }
  return ids[0];
}
