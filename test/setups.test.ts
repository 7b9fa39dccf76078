/**
 * Setups of real apps: stacks made from one class for several stages, content with a CloudFormation
 * Condition, Invalidations that repeat one another, and the notes synth adds. Real aws-cdk-lib
 * synthesis; what deploys goes through the lifecycle driver, the bundled handler and the CloudFront
 * emulator.
 */
import * as path from 'path';
import { App, NestedStack, Stack } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import type { Construct } from 'constructs';
import { Invalidation } from '../src';
import { SITE_DIR } from './demo/app';
import { dropArchives, freshOutdir } from './driver/assembly';
import { ACCOUNT_ID, REGION } from './driver/local-cloud';

// Every synthesis in this file fails on a deprecated aws-cdk-lib API.
process.env.JSII_DEPRECATED = 'fail';

const ENV = { account: ACCOUNT_ID, region: REGION };

/** Synthesizes an app made by `define`. */
function synth(define: (app: App) => void): CloudAssembly {
  const outdir = freshOutdir('setups-');
  const app = new App({ outdir });
  define(app);
  const assembly = app.synth();
  dropArchives(outdir);
  return assembly;
}

/** The messages of a level synth left on a stack's constructs, as `<construct path>: <text>`. */
function messages(assembly: CloudAssembly, stackName: string, level: 'warning' | 'info'): string[] {
  return assembly.getStackByName(stackName).messages.filter((m) => m.level === level).map((m) => `${m.id.replace(/^\//, '')}: ${String(m.entry.data)}`);
}

/** Warnings with the given id, on any stack of the assembly. */
function warnings(assembly: CloudAssembly, id: string): string[] {
  return assembly.stacks.flatMap((s) => messages(assembly, s.stackName, 'warning')).filter((m) => m.endsWith(`[ack: cdk-cloudfront-invalidation:${id}]`));
}

interface SiteProps extends StackProps {
  /** Whether the stack has moved to an Invalidation, or still purges from its BucketDeployment. */
  readonly migrated: boolean;
  /** The distribution the BucketDeployment purges, when not the stack's own. */
  readonly purges?: (site: SiteStack) => cloudfront.IDistribution;
}

/** A static site, as one class makes it for every stage. */
class SiteStack extends Stack {
  public readonly bucket: s3.Bucket;
  public readonly cdn: cloudfront.Distribution;

  constructor(scope: Construct, id: string, props: SiteProps) {
    super(scope, id, { env: ENV, ...props });
    this.bucket = new s3.Bucket(this, 'Content');
    this.cdn = new cloudfront.Distribution(this, 'Cdn', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket) } });
    new s3deploy.BucketDeployment(this, 'Site', {
      sources: [s3deploy.Source.asset(path.join(SITE_DIR, 'v1'))],
      destinationBucket: this.bucket,
      distribution: props.migrated ? undefined : props.purges?.(this) ?? this.cdn,
    });
    if (props.migrated) {
      new Invalidation(this, 'Purge', { distribution: this.cdn });
    }
  }
}

describe('a BucketDeployment that purges the distribution itself', () => {
  test('is no warning when it is another stage\'s stack of the same class, with the same logical ids', () => {
    const assembly = synth((app) => {
      new SiteStack(app, 'Staging', { migrated: true });
      new SiteStack(app, 'Prod', { migrated: false });
    });
    expect(warnings(assembly, 'purgedTwice')).toEqual([]);
  });

  test('is a warning when it is in the Invalidation\'s stack', () => {
    const assembly = synth((app) => {
      const stack = new SiteStack(app, 'Staging', { migrated: true });
      new s3deploy.BucketDeployment(stack, 'Extra', { sources: [s3deploy.Source.data('a.txt', 'a')], destinationBucket: stack.bucket, distribution: stack.cdn });
    });
    expect(warnings(assembly, 'purgedTwice')).toEqual([expect.stringMatching(/^Staging\/Purge: BucketDeployment Staging\/Extra purges distribution Staging\/Cdn itself/)]);
  });

  test('is a warning when it refers to the distribution from another stack, or from a nested stack', () => {
    const assembly = synth((app) => {
      const staging = new SiteStack(app, 'Staging', { migrated: true });
      const other = new Stack(app, 'Other', { env: ENV });
      new s3deploy.BucketDeployment(other, 'Files', {
        sources: [s3deploy.Source.data('a.txt', 'a')], destinationBucket: new s3.Bucket(other, 'Bucket'), distribution: staging.cdn,
      });
      new SiteStack(app, 'Prod', { migrated: false, purges: () => staging.cdn });
      const nested = new NestedStack(staging, 'Nested');
      new s3deploy.BucketDeployment(nested, 'Files', {
        sources: [s3deploy.Source.data('b.txt', 'b')], destinationBucket: new s3.Bucket(nested, 'Bucket'), distribution: staging.cdn,
      });
    });
    expect(warnings(assembly, 'purgedTwice').sort()).toEqual([
      expect.stringMatching(/^Staging\/Purge: BucketDeployment Other\/Files purges distribution Staging\/Cdn itself/),
      expect.stringMatching(/^Staging\/Purge: BucketDeployment Prod\/Site purges distribution Staging\/Cdn itself/),
      expect.stringMatching(/^Staging\/Purge: BucketDeployment Staging\/Nested\/Files purges distribution Staging\/Cdn itself/),
    ]);
  });

  test('is a warning for imported distributions with the same literal id, and only then', () => {
    const imported = (scope: Construct, distributionId: string) => cloudfront.Distribution.fromDistributionAttributes(scope, 'Imported', {
      distributionId, domainName: `${distributionId.toLowerCase()}.cloudfront.net`,
    });
    const assembly = synth((app) => {
      const staging = new Stack(app, 'Staging', { env: ENV });
      new Invalidation(staging, 'Purge', { distribution: imported(staging, 'E1STAGING') });
      for (const [name, id] of [['Same', 'E1STAGING'], ['Different', 'E2PROD']]) {
        const stack = new Stack(app, name, { env: ENV });
        new s3deploy.BucketDeployment(stack, 'Site', {
          sources: [s3deploy.Source.data('a.txt', 'a')], destinationBucket: new s3.Bucket(stack, 'Bucket'), distribution: imported(stack, id),
        });
      }
    });
    expect(warnings(assembly, 'purgedTwice')).toEqual([expect.stringMatching(/^Staging\/Purge: BucketDeployment Same\/Site purges distribution Staging\/Imported itself/)]);
  });
});
