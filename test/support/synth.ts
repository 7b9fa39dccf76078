/**
 * Synthesis for the tests: apps whose cloud assemblies go to folders removed after the test file,
 * the site stack the construct suites build on, and site files written for a BucketDeployment.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import type { AppProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { Invalidation } from '../../src';
import type { InvalidationProps } from '../../src';
import type { SynthesizedStack } from '../driver/assembly';
import { dropArchives, freshOutdir, readStack } from '../driver/assembly';
import { ACCOUNT_ID, REGION } from '../driver/local-cloud';

/** The account and region of the stacks under test: those of the local cloud. */
export const ENV = { account: ACCOUNT_ID, region: REGION };

/** What `cdk synth` sets: path and asset metadata, and the CDK metadata resource. */
export const CLI_CONTEXT = { 'aws:cdk:enable-path-metadata': true, 'aws:cdk:enable-asset-metadata': true, 'aws:cdk:version-reporting': true };

let sharedOutdir: string | undefined;

/**
 * An App that synthesizes into the one cloud assembly folder of the test file: every app stages the
 * same assets (the AWS CLI layer alone is 22 MB), which land there once instead of once per synthesis.
 */
export function newApp(props: AppProps = {}): App {
  sharedOutdir ??= freshOutdir('construct-test-');
  return new App({ outdir: sharedOutdir, ...props });
}

/** What to build in the site stack. */
export interface SiteStackOptions {
  /** The text of the deployed index.html. @default '<h1>v1</h1>' */
  readonly content?: string;
  /** Props of the Invalidation `Invalidate`, or false for a site without one. */
  readonly invalidation?: Partial<InvalidationProps> | false;
  /** @default newApp() */
  readonly app?: App;
  /** Adds to the stack once the site is built. */
  readonly extra?: (stack: Stack, distribution: cloudfront.Distribution, deployment: s3deploy.BucketDeployment) => void;
}

/**
 * The stack `Site`: a bucket, a distribution in front of it, a BucketDeployment `Deploy` of an
 * index.html, and an Invalidation `Invalidate` of the distribution; with its template.
 */
export function siteStack(options: SiteStackOptions = {}) {
  const app = options.app ?? newApp();
  const stack = new Stack(app, 'Site', { env: ENV });
  const bucket = new s3.Bucket(stack, 'Bucket');
  const distribution = new cloudfront.Distribution(stack, 'Distribution', {
    defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) },
  });
  const deployment = new s3deploy.BucketDeployment(stack, 'Deploy', {
    sources: [s3deploy.Source.data('index.html', options.content ?? '<h1>v1</h1>')],
    destinationBucket: bucket,
  });
  const invalidation = options.invalidation === false ? undefined : new Invalidation(stack, 'Invalidate', { distribution, ...options.invalidation });
  options.extra?.(stack, distribution, deployment);
  return { app, stack, distribution, deployment, invalidation, template: Template.fromStack(stack) };
}

/** A distribution imported into `stack` by its attributes, whose construct id and distribution id are both `id`. */
export function importedDistribution(stack: Stack, id: string): cloudfront.IDistribution {
  return cloudfront.Distribution.fromDistributionAttributes(stack, id, { distributionId: id, domainName: 'x.cloudfront.net' });
}

/**
 * Synthesizes the app `define` builds into a fresh cloud assembly folder (named from `prefix`,
 * removed after the test file), then deletes its zipped assets, which the lifecycle driver never reads.
 */
export function synthApp(prefix: string, define: (app: App) => void): CloudAssembly {
  const outdir = freshOutdir(prefix);
  const app = new App({ outdir });
  define(app);
  const assembly = app.synth();
  dropArchives(outdir);
  return assembly;
}

/** The stack `stackName` of the app `define` builds, synthesized as `synthApp` does, for the lifecycle driver. */
export function synthStack(prefix: string, stackName: string, define: (app: App) => void): SynthesizedStack {
  return readStack(synthApp(prefix, define), stackName);
}

/** Writes a site's files (path in the site to text) into a fresh folder, removed after the test file, and returns the folder. */
export function writeSite(files: Record<string, string>): string {
  const dir = freshOutdir('site-');
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  return dir;
}
