/**
 * CloudFormation custom resource requests for an Invalidation, made by hand: `invalidationRequests`
 * makes them for a given function, stack and resource. The handler's pure phases (planning,
 * deciding) use `invalidationProperties` and `invalidationRequest`, whose ServiceToken and
 * ResponseURL are placeholders since no function runs them; the handler-level suites and the bench
 * use the `requests` of test/driver/handler-fixture.ts, which name the function they run. (The
 * lifecycle driver makes its own requests from templates.)
 */
import type { CloudFormationRequest } from '../../lambda/invalidation/protocol';
import { RESOURCE_TYPE } from '../../src/shared/contract';
import type { InvalidationResourceProperties } from '../../src/shared/contract';

/** The stack every request of the pure phases comes from. */
export const REQUEST_STACK_ID = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Site/1';

/** An Invalidation's resource properties as CloudFormation sends them. */
export type RequestProperties = InvalidationResourceProperties & Record<string, unknown>;

/** A request before it is sent: the sender adds the ResponseURL the answer goes to. */
export type UnsentRequest = Omit<CloudFormationRequest, 'ResponseURL'>;

/** What tells one suite's requests from another's: the function, distribution, stack and resource. */
export interface RequestSource {
  /** The ARN of the function the requests are for: the properties' ServiceToken. */
  readonly serviceToken: string;
  /** The distribution the properties invalidate. */
  readonly distributionId: string;
  /** The stack the requests come from. */
  readonly stackId: string;
  /** The Invalidation's logical id; an Update's physical id is `<logical id>-abc` unless given. */
  readonly logicalId: string;
  /** Each request's id: the same one every time, or made afresh for each request. */
  readonly requestId: string | (() => string);
}

/** Requests of one source, and the properties they carry. */
export interface InvalidationRequests {
  /**
   * An Invalidation's properties: `/*` of the source's distribution, trigger `stack:1`, no waiting,
   * a 60-second timeout that fails the deploy; `overrides` replace any of them, or add others.
   */
  properties(overrides?: Partial<RequestProperties>): RequestProperties;
  /** A Create of `properties()` for the source's resource, unless `overrides` say otherwise. */
  request(overrides?: Partial<CloudFormationRequest>): UnsentRequest;
  /** A Create of `properties(overrides)`. */
  create(overrides?: Partial<RequestProperties>): UnsentRequest;
  /** An Update of the resource with the given physical id from the old properties to the new. */
  update(oldProperties: RequestProperties, newProperties: RequestProperties, physicalId?: string): UnsentRequest;
}

/** Makes requests for an Invalidation of the given source. */
export function invalidationRequests(source: RequestSource): InvalidationRequests {
  const properties = (overrides: Partial<RequestProperties> = {}): RequestProperties => ({
    ServiceToken: source.serviceToken,
    DistributionId: source.distributionId,
    Paths: ['/*'],
    Trigger: ['stack:1'],
    WaitForCompletion: 'false',
    TimeoutSeconds: '60',
    FailOnTimeout: 'true',
    ...overrides,
  });
  const request = (overrides: Partial<CloudFormationRequest> = {}): UnsentRequest => ({
    RequestType: 'Create',
    RequestId: typeof source.requestId === 'string' ? source.requestId : source.requestId(),
    StackId: source.stackId,
    LogicalResourceId: source.logicalId,
    ResourceType: RESOURCE_TYPE,
    ResourceProperties: properties(),
    ...overrides,
  });
  return {
    properties,
    request,
    create: (overrides = {}) => request({ ResourceProperties: properties(overrides) }),
    update: (oldProperties, newProperties, physicalId = `${source.logicalId}-abc`) => request({
      RequestType: 'Update',
      PhysicalResourceId: physicalId,
      OldResourceProperties: oldProperties,
      ResourceProperties: newProperties,
    }),
  };
}

/**
 * The requests of the pure phases: for the function `arn:fn`, of the Invalidation `Purge` of
 * distribution E123 in the stack REQUEST_STACK_ID, each with request id `req-1`.
 */
const placeholders = invalidationRequests({ serviceToken: 'arn:fn', distributionId: 'E123', stackId: REQUEST_STACK_ID, logicalId: 'Purge', requestId: 'req-1' });

/** The properties of the pure phases' Invalidation (see `InvalidationRequests.properties`). */
export function invalidationProperties(overrides: Partial<RequestProperties> = {}): RequestProperties {
  return placeholders.properties(overrides);
}

/**
 * A request for the pure phases' Invalidation `Purge` of the stack REQUEST_STACK_ID: the Create of
 * `invalidationProperties()` with request id `req-1` and a placeholder ResponseURL, unless
 * `overrides` say otherwise.
 */
export function invalidationRequest(overrides: Partial<CloudFormationRequest> = {}): CloudFormationRequest {
  return { ResponseURL: 'https://example.invalid/response', ...placeholders.request(overrides) };
}
