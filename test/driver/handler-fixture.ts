/**
 * A synthesized stack whose handler the handler-level suites run, and hand-made CloudFormation
 * requests for it (the lifecycle driver makes its own from templates).
 */
import { randomUUID } from 'crypto';
import { App, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import type { SynthesizedStack } from './assembly';
import { freshOutdir, readStack } from './assembly';
import { ACCOUNT_ID, deployInvalidationHandler, LocalCloud, REGION } from './local-cloud';
import type { LocalCloudOptions } from './local-cloud';
import type { CloudFormationRequest } from '../../lambda/invalidation/protocol';
import { Invalidation } from '../../src';
import type { InvalidationResourceProperties } from '../../src/shared/contract';

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

export type Request = Omit<CloudFormationRequest, 'ResponseURL'>;

/** Makes requests for the function with the given ARN. */
export function requests(functionArn: string) {
  const props = (overrides: Partial<Omit<InvalidationResourceProperties, 'ServiceToken'>> = {}): InvalidationResourceProperties => ({
    ServiceToken: functionArn,
    DistributionId: SITE,
    Paths: ['/*'],
    Trigger: ['stack:1111'],
    WaitForCompletion: 'false',
    TimeoutSeconds: '60',
    FailOnTimeout: 'true',
    ...overrides,
  });
  const makeEvent = (overrides: Partial<Request> = {}): Request => ({
    RequestType: 'Create',
    RequestId: randomUUID(),
    StackId: STACK_ID,
    LogicalResourceId: 'InvalidateSite',
    ResourceType: 'Custom::CloudFrontInvalidation',
    ResourceProperties: props() as unknown as Record<string, unknown>,
    ...overrides,
  });
  const create = (overrides: Partial<Omit<InvalidationResourceProperties, 'ServiceToken'>>) =>
    makeEvent({ ResourceProperties: props(overrides) as unknown as Record<string, unknown> });
  const update = (oldProps: InvalidationResourceProperties, newProps: InvalidationResourceProperties, physicalId = 'InvalidateSite-abc') => makeEvent({
    RequestType: 'Update',
    PhysicalResourceId: physicalId,
    OldResourceProperties: oldProps as unknown as Record<string, unknown>,
    ResourceProperties: newProps as unknown as Record<string, unknown>,
  });
  return { props, makeEvent, create, update };
}

/** A local cloud running the fixture stack's handler, and requests for it. */
export interface HandlerCloud {
  readonly cloud: LocalCloud;
  readonly fn: { name: string; arn: string };
  readonly r: ReturnType<typeof requests>;
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
