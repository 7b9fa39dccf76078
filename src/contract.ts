/**
 * The custom resource's contract: the properties the construct writes and the data the handler
 * answers with. Imported by the handler, so it must not import aws-cdk-lib or constructs.
 */

/** The CloudFormation type of the custom resource. Changing it would replace every user's resources. */
export const RESOURCE_TYPE = 'Custom::CloudFrontInvalidation';

/**
 * The CloudFormation type of an invalidation's rollback guard: a companion resource with the same
 * inputs that deploys before the content, so that every rollback of a change reaches it, and purges
 * once the rollback has put the content back.
 */
export const GUARD_RESOURCE_TYPE = 'Custom::CloudFrontInvalidationRollbackGuard';

/**
 * ResourceProperties of a `Custom::CloudFrontInvalidation`. CloudFormation hands every scalar to
 * the handler as a string, so booleans and numbers are written as strings.
 */
export interface InvalidationResourceProperties {
  readonly ServiceToken: string;
  /** The distribution whose caches to purge. */
  readonly DistributionId?: string;
  /**
   * Instead of DistributionId, for a rollback guard whose distribution is in its own stack: the
   * distribution's logical id, looked up when the guard purges (a Ref would make it wait for the
   * distribution, which waits for it).
   */
  readonly DistributionLogicalId?: string;
  /** A distribution tenant to purge instead of the whole distribution. */
  readonly DistributionTenantId?: string;
  /** Instead of DistributionTenantId, for a rollback guard: the tenant's logical id in the stack. */
  readonly DistributionTenantLogicalId?: string;
  /** Paths and `#cache-tags`, as the user wrote them. */
  readonly Paths: string[];
  /** What the invalidation follows: a change here (after normalization) fires it. */
  readonly Trigger: string[];
  /** `'true'` to answer only once CloudFront completed every batch. */
  readonly WaitForCompletion: string;
  /** Seconds the handler may spend on one request before it answers a timeout. */
  readonly TimeoutSeconds: string;
  /** `'false'` to answer SUCCESS, with a warning in the data, when waiting for completion times out. */
  readonly FailOnTimeout: string;
  /** `'true'` when a rollback guard purges after rollbacks, so the invalidation itself need not. */
  readonly RollbackGuard?: string;
}

/** Keys of the data the handler answers with; every key is always present. */
export const ATTRIBUTES = {
  /** Comma-separated ids of the invalidations this deploy created, in batch order; empty if none. */
  INVALIDATION_IDS: 'InvalidationIds',
  /** Id of the first invalidation this deploy created; empty if none. */
  INVALIDATION_ID: 'InvalidationId',
  /** CallerReference of this deploy's invalidations (batch n adds `-n`); empty if none. */
  CALLER_REFERENCE: 'CallerReference',
  /**
   * `Submitted`, `Completed`, `TimedOut`, `Unchanged`, `Deferred` (a rollback's purge waits for the
   * rollback to end), `RolledBack` (the rollback guard purges), `Late` (a request delivered again
   * after it was answered), `Deleted`, `Failed` or, for a guard, `Armed`.
   */
  STATUS: 'Status',
  /** A warning, e.g. a timeout that was not allowed to fail the deployment; empty if none. */
  WARNING: 'Warning',
} as const;

/** Margin between the handler's own deadline and CloudFormation's ServiceTimeout, in seconds. */
export const ANSWER_MARGIN_SECONDS = 120;
/** Longest ServiceTimeout CloudFormation accepts for a custom resource, in seconds. */
export const MAX_SERVICE_TIMEOUT_SECONDS = 3600;
/** Longest `timeout` the construct accepts, in seconds. */
export const MAX_TIMEOUT_SECONDS = MAX_SERVICE_TIMEOUT_SECONDS - ANSWER_MARGIN_SECONDS;
