/**
 * A synthesized stack whose handler the handler-level suites run, and hand-made CloudFormation
 * requests for it (the lifecycle driver makes its own from templates).
 */
import { randomUUID } from 'crypto';
import { App, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import type { SynthesizedStack } from './assembly';
import { freshOutdir, readStack } from './assembly';
import { ACCOUNT_ID, REGION } from './local-cloud';
import type { CloudFormationRequest } from '../../lambda/invalidation/protocol';
import { Invalidation } from '../../src';
import type { InvalidationResourceProperties } from '../../src/contract';

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
