/**
 * The custom resource's contract: the properties the construct writes and the data the handler
 * answers with. Imported by the handler, so it must not import aws-cdk-lib or constructs.
 */

/** The CloudFormation type of the custom resource. Changing it would replace every user's resources. */
export const RESOURCE_TYPE = 'Custom::CloudFrontInvalidation';

/**
 * The type of the rollback guards of earlier releases. Templates no longer hold them; the handler
 * still answers their Delete (a stack upgraded from such a release deletes its guards) and purges nothing.
 */
export const LEGACY_GUARD_RESOURCE_TYPE = 'Custom::CloudFrontInvalidationRollbackGuard';

/**
 * The stack statuses after which the stack's EventBridge rule hands the handler a purge: the content
 * of a failed deploy is back as it was (`UPDATE_ROLLBACK_COMPLETE`, also when a rollback that
 * failed is continued with ContinueUpdateRollback or started by RollbackStack), or stays as the
 * failed deploy left it because rollback is disabled (`UPDATE_FAILED`, `CREATE_FAILED`: `cdk deploy
 * --no-rollback`). See docs/cloudformation.md, "Stack status events".
 */
export const PURGE_STATUSES = ['UPDATE_ROLLBACK_COMPLETE', 'UPDATE_FAILED', 'CREATE_FAILED'];

/** Environment variable of the handler function holding the id (ARN) of the stack it serves. */
export const STACK_ID_ENV = 'INVALIDATION_STACK_ID';

/** One distribution (or tenant) and paths to purge after a rollback: an Invalidation of the stack. */
export interface RollbackPurgeTarget {
  /** The distribution, resolved by CloudFormation. */
  readonly DistributionId: string;
  /** A tenant of the distribution, when the Invalidation purges one tenant only. */
  readonly DistributionTenantId?: string;
  /** Paths and `#cache-tags`, encoded (or `['/*']` when known only at deploy time, or too long to carry). */
  readonly Paths: string[];
}

/**
 * What the stack's EventBridge rule hands the handler (an InputTransformer of the CloudFormation
 * "CloudFormation Stack Status Change" event) once a deploy of the stack has failed and, unless
 * rollback is disabled, rolled back (`PURGE_STATUSES`). The rule, and so the list, is as in the
 * template rolled back to; what the failed deploy itself named, the handler reads from the stack's events.
 */
export interface RollbackPurgeEvent {
  readonly rollbackPurge: {
    /** The EventBridge event's `id`: a second delivery of the same event repeats it. */
    readonly eventId: string;
    /** `detail.stack-id`. */
    readonly stackId: string;
    /** `detail.status-details.status`. */
    readonly status: string;
    /** `time`, when the stack reached the status. */
    readonly time: string;
    /** Every Invalidation of the stack, equal entries once (`src/rollback-targets.ts`). */
    readonly targets: RollbackPurgeTarget[];
  };
}

/**
 * ResourceProperties of a `Custom::CloudFrontInvalidation`. CloudFormation hands every scalar to
 * the handler as a string, so booleans and numbers are written as strings.
 */
export interface InvalidationResourceProperties {
  readonly ServiceToken: string;
  /** The distribution whose caches to purge. */
  readonly DistributionId?: string;
  /** A distribution tenant to purge instead of the whole distribution. */
  readonly DistributionTenantId?: string;
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
  /**
   * Present for `InvalidationPaths.changedFiles`: purge only the objects that changed since the
   * previous deploy, from the manifests; `Paths` then holds the deployment's root wildcard, purged
   * when the previous manifest cannot be read.
   */
  readonly ChangedFiles?: ChangedFilesProperties;
}

/** How the handler works out the changed files of a deployment (`InvalidationPaths.changedFiles`). */
export interface ChangedFilesProperties {
  /** The bucket holding the manifest asset. */
  readonly ManifestBucket: string;
  /** The manifest's object key: a new key for every new content, so an Update holds the previous one. */
  readonly ManifestKey: string;
  /** The origin path of the distribution's origin for the deployment's bucket, without slashes at either end; empty for none. */
  readonly OriginPath: string;
  /** The viewer directory of the deployment, starting and ending with `/`. */
  readonly Root: string;
  /** A file name whose change also purges its directory's path; empty for none. */
  readonly IndexDocument: string;
  /** Most paths a deploy submits, as a string. */
  readonly MaxPaths: string;
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
   * `Submitted`, `Completed`, `TimedOut`, `Unchanged`, `RolledBack` (an Update of a rollback: the
   * stack's rule purges once the rollback is over), `Late` (a request delivered again after it was
   * answered), `Deleted` or `Failed`.
   */
  STATUS: 'Status',
  /** A warning, e.g. a timeout that was not allowed to fail the deployment; empty if none. */
  WARNING: 'Warning',
  /** How many paths this deploy submitted, wildcards and cache tags included (what CloudFront bills), as a string; `0` if none. */
  PATHS_SUBMITTED: 'PathsSubmitted',
  /** How many of them are wildcard paths, as a string; `0` if none. */
  WILDCARDS_SUBMITTED: 'WildcardsSubmitted',
  /**
   * For `InvalidationPaths.changedFiles`: how many objects changed and how many paths went out, or
   * why the deployment's root wildcard was purged instead; empty otherwise.
   */
  PATHS_NOTE: 'PathsNote',
} as const;

/** Margin between the handler's own deadline and CloudFormation's ServiceTimeout, in seconds. */
export const ANSWER_MARGIN_SECONDS = 120;
/** Longest ServiceTimeout CloudFormation accepts for a custom resource, in seconds. */
export const MAX_SERVICE_TIMEOUT_SECONDS = 3600;
/** Longest `timeout` the construct accepts, in seconds. */
export const MAX_TIMEOUT_SECONDS = MAX_SERVICE_TIMEOUT_SECONDS - ANSWER_MARGIN_SECONDS;
