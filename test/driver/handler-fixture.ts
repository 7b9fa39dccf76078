/**
 * A synthesized stack whose handler the handler-level suites run, and CloudFormation requests for
 * it made by hand with test/support/requests.ts (the lifecycle driver makes its own from templates).
 */
import { randomUUID } from 'crypto';
import { App, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import type { SynthesizedStack } from './assembly';
import { freshOutdir, readStack } from './assembly';
import { ACCOUNT_ID, deployInvalidationHandler, LocalCloud, REGION } from './local-cloud';
import type { LocalCloudOptions } from './local-cloud';
import { Invalidation } from '../../src';
import type { InvalidationRequests } from '../support/requests';
import { invalidationRequests } from '../support/requests';

/** Distributions the fixture's handler may invalidate. */
export const SITE = 'E1SITE00000000';
export const OTHER = 'E2OTHER0000000';
/** A distribution its IAM policy does not name. */
export const NOT_GRANTED = 'E3NOTGRANTED00';
export const STACK_ID = `arn:aws:cloudformation:${REGION}:${ACCOUNT_ID}:stack/HandlerTest/${randomUUID()}`;

/** A stack with one Invalidation for each of SITE and OTHER, synthesized into a fresh cdk.out. */
export function synthHandlerStack(): SynthesizedStack {
  const outdir = freshOutdir('handler-test-');
  const app = new App({ outdir });
  const stack = new Stack(app, 'HandlerTest', { env: { account: ACCOUNT_ID, region: REGION } });
  for (const id of [SITE, OTHER]) {
    const distribution = cloudfront.Distribution.fromDistributionAttributes(stack, id, { distributionId: id, domainName: `${id}.cloudfront.net` });
    new Invalidation(stack, `Invalidate${id}`, { distribution });
  }
  return readStack(app.synth(), 'HandlerTest');
}

/**
 * Requests for the function with the given ARN: of the Invalidation `InvalidateSite` of SITE in the
 * stack STACK_ID, each with a fresh request id, and without a ResponseURL (whoever sends one adds it).
 */
export function requests(functionArn: string): InvalidationRequests {
  return invalidationRequests({ serviceToken: functionArn, distributionId: SITE, stackId: STACK_ID, logicalId: 'InvalidateSite', requestId: randomUUID });
}

/** A local cloud running the fixture stack's handler, and requests for it. */
export interface HandlerCloud {
  readonly cloud: LocalCloud;
  readonly fn: { name: string; arn: string };
  readonly r: InvalidationRequests;
}

/**
 * Starts a local cloud (Lambda retrying failures after 50 and 100 ms) with the given distributions,
 * and deploys the synthesized fixture's handler to it. Close it with `stopHandlerCloud`.
 */
export async function startHandlerCloud(
  synthesized: SynthesizedStack, options: LocalCloudOptions = {}, distributions: readonly string[] = [SITE],
): Promise<HandlerCloud> {
  const cloud = await LocalCloud.start({ retryDelaysMs: [50, 100], ...options });
  distributions.forEach((id) => cloud.cloudfront.addDistribution({ id }));
  const fn = deployInvalidationHandler(cloud, synthesized, STACK_ID);
  return { cloud, fn, r: requests(fn.arn) };
}

/** Lets the invocations still running end, then closes the local cloud. */
export async function stopHandlerCloud(cloud: LocalCloud | undefined): Promise<void> {
  await cloud?.lambda.idle();
  await cloud?.close();
}
