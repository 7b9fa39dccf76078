/**
 * CloudFormation custom resource requests for an Invalidation, made by hand for the handler's pure
 * phases (planning, deciding): no function runs them, so their ServiceToken and ResponseURL are
 * placeholders. The handler-level suites make theirs with test/driver/handler-fixture.ts, whose
 * requests name the function they run.
 */
import type { CloudFormationRequest } from '../../lambda/invalidation/protocol';
import type { InvalidationResourceProperties } from '../../src/shared/contract';

/** The stack every request made here comes from. */
export const REQUEST_STACK_ID = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Site/1';

/** An Invalidation's resource properties as CloudFormation sends them. */
export type RequestProperties = InvalidationResourceProperties & Record<string, unknown>;

/**
 * An Invalidation's properties: `/*` of distribution E123, trigger `stack:1`, no waiting, a
 * 60-second timeout that fails the deploy; `overrides` replace any of them, or add others.
 */
export function invalidationProperties(overrides: Record<string, unknown> = {}): RequestProperties {
  return {
    ServiceToken: 'arn:fn',
    DistributionId: 'E123',
    Paths: ['/*'],
    Trigger: ['stack:1'],
    WaitForCompletion: 'false',
    TimeoutSeconds: '60',
    FailOnTimeout: 'true',
    ...overrides,
  } as RequestProperties;
}

/**
 * A request for the Invalidation `Purge` of the stack REQUEST_STACK_ID: the Create of
 * `invalidationProperties()` with request id `req-1`, unless `overrides` say otherwise.
 */
export function invalidationRequest(overrides: Partial<CloudFormationRequest> = {}): CloudFormationRequest {
  return {
    RequestType: 'Create',
    RequestId: 'req-1',
    ResponseURL: 'https://example.invalid/response',
    StackId: REQUEST_STACK_ID,
    LogicalResourceId: 'Purge',
    ResourceType: 'Custom::CloudFrontInvalidation',
    ResourceProperties: invalidationProperties(),
    ...overrides,
  };
}
