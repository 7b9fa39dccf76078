/**
 * Item 4's contenders: the example site purged by our Invalidation, by an AwsCustomResource calling
 * CreateInvalidation with a `Date.now()` CallerReference or with a fixed one, and by
 * `BucketDeployment({ distribution })`; and stand-ins for the handlers of the last three, doing
 * what aws-cdk-lib's handlers do, against the CloudFront emulator.
 */
import { randomUUID } from 'crypto';
import * as path from 'path';
import { CloudFrontClient, CreateInvalidationCommand, GetInvalidationCommand } from '@aws-sdk/client-cloudfront';
import type { CreateInvalidationCommandInput } from '@aws-sdk/client-cloudfront';
import { App, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { IConstruct } from 'constructs';
import { Invalidation } from '../../src';
import { SITE_DIR } from '../demo/app';
import type { SynthesizedStack } from '../driver/assembly';
import { dropArchives, freshOutdir, readStack } from '../driver/assembly';
import { ACCOUNT_ID, REGION } from '../driver/local-cloud';
import type { CustomResourceCall, CustomResourceModel } from '../driver/options';

export const STACK_NAME = 'Site';

export type Contender = 'ours' | 'awsCustomResourceDateNow' | 'awsCustomResourceFixed' | 'bucketDeployment';

export const CONTENDERS: Record<Contender, string> = {
  ours: 'Invalidation (this library)',
  awsCustomResourceDateNow: 'AwsCustomResource, CallerReference Date.now()',
  awsCustomResourceFixed: 'AwsCustomResource, fixed CallerReference',
  bucketDeployment: 'BucketDeployment({ distribution })',
};

/**
 * The example site (bucket, distribution, BucketDeployment of test/demo/site/<site>) purged by the
 * contender. With `failAfterPurge`, an SSM parameter `AfterPurge` that deploys after the purge,
 * for a deploy to fail there.
 */
export function synthContender(contender: Contender, site: string, failAfterPurge = false): SynthesizedStack {
  const outdir = freshOutdir('bench-scenario-');
  const app = new App({ outdir });
  const stack = new Stack(app, STACK_NAME, { env: { account: ACCOUNT_ID, region: REGION } });
  const bucket = new s3.Bucket(stack, 'Content');
  const distribution = new cloudfront.Distribution(stack, 'Cdn', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
  const deployment = new s3deploy.BucketDeployment(stack, 'Deploy', {
    sources: [s3deploy.Source.asset(path.join(SITE_DIR, site))],
    destinationBucket: bucket,
    ...(contender === 'bucketDeployment' ? { distribution, distributionPaths: ['/*'] } : {}),
  });
  let purge: IConstruct = deployment;
  if (contender === 'ours') {
    purge = new Invalidation(stack, 'Purge', { distribution });
  } else if (contender !== 'bucketDeployment') {
    // The snippet users paste: the same call on Create and Update, after the deployment.
    const call: cr.AwsSdkCall = {
      service: 'CloudFront',
      action: 'createInvalidation',
      parameters: {
        DistributionId: distribution.distributionId,
        InvalidationBatch: {
          CallerReference: contender === 'awsCustomResourceDateNow' ? Date.now().toString() : 'site-purge',
          Paths: { Quantity: 1, Items: ['/*'] },
        },
      },
      physicalResourceId: cr.PhysicalResourceId.of('site-purge'),
    };
    purge = new cr.AwsCustomResource(stack, 'Purge', {
      onCreate: call,
      onUpdate: call,
      policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: [distribution.distributionArn] }),
      installLatestAwsSdk: false,
    });
    purge.node.addDependency(deployment);
  }
  if (failAfterPurge) {
    new ssm.StringParameter(stack, 'AfterPurge', { stringValue: site }).node.addDependency(purge);
  }
  const synthesized = readStack(app.synth(), STACK_NAME);
  dropArchives(outdir);
  return synthesized;
}

/** The CloudFront client of the stand-ins, on the emulator. */
function client(endpoint: string): CloudFrontClient {
  return new CloudFrontClient({ endpoint, region: REGION, credentials: { accessKeyId: 'ASIAEXAMPLEOTHER', secretAccessKey: 'other-secret' } });
}

/**
 * aws-cdk-lib's AwsCustomResource handler (custom-resource-handlers/dist/custom-resources/
 * aws-custom-resource-handler): on Create and Update it makes the call its properties name for
 * that request type (`Create`, `Update`, JSON), with their parameters as given; on Delete, the
 * `Delete` call if any (none here).
 */
export function awsCustomResourceModel(endpoint: string): CustomResourceModel {
  const cloudfrontClient = client(endpoint);
  return async (call: CustomResourceCall) => {
    const raw = call.properties[call.requestType];
    if (typeof raw !== 'string') {
      return;
    }
    const sdkCall = JSON.parse(raw) as { action: string; parameters: CreateInvalidationCommandInput };
    if (sdkCall.action.toLowerCase() === 'createinvalidation') {
      await cloudfrontClient.send(new CreateInvalidationCommand(sdkCall.parameters));
    }
  };
}

/**
 * aws-cdk-lib's BucketDeployment handler (bucket-deployment-handler/index.py): after copying the
 * files (the driver has put them in the bucket), whenever DistributionId is set (Delete included),
 * CreateInvalidation of DistributionPaths (default: the key prefix as `/prefix/*`) with
 * CallerReference `str(uuid4())`, then boto3's `invalidation_completed` waiter, polling
 * GetInvalidation (every 20 s, 30 times, in the handler; every 50 ms here).
 */
export function bucketDeploymentModel(endpoint: string): CustomResourceModel {
  const cloudfrontClient = client(endpoint);
  return async (call: CustomResourceCall) => {
    const p = call.properties;
    if (!p.DistributionId) {
      return;
    }
    const prefix = String(p.DestinationBucketKeyPrefix ?? '').replace(/^\/?/, '/').replace(/\/?$/, '/');
    const paths = (p.DistributionPaths as string[] | undefined) ?? [`${prefix}*`];
    const created = await cloudfrontClient.send(new CreateInvalidationCommand({
      DistributionId: String(p.DistributionId),
      InvalidationBatch: { Paths: { Quantity: paths.length, Items: paths }, CallerReference: randomUUID() },
    }));
    const id = created.Invalidation!.Id!;
    for (let attempt = 0; attempt < 30; attempt++) {
      const got = await cloudfrontClient.send(new GetInvalidationCommand({ DistributionId: String(p.DistributionId), Id: id }));
      if (got.Invalidation?.Status === 'Completed') {
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('Waiter InvalidationCompleted failed: Max attempts exceeded');
  };
}
