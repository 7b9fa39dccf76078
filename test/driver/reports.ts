/**
 * What the lifecycle driver reports of each step: the resources it changed, the requests it sent
 * custom resources, the content BucketDeployments put in buckets, the stack status changes and the
 * deliveries of their events.
 */
import type { Phase } from './options';
import type { CustomResourceAnswer } from '../emulator/cloudformation-response-urls';
import type { EmulatedInvalidation } from '../emulator/cloudfront';
import type { DeliveryRecord } from '../emulator/eventbridge';

/** A request CloudFormation sent a custom resource, and what became of it. */
export interface RequestRecord {
  readonly logicalId: string;
  readonly resourceType: string;
  readonly requestType: 'Create' | 'Update' | 'Delete';
  readonly requestId: string;
  readonly phase: Phase;
  /** The stack's status while the request ran. */
  readonly stackStatus: string;
  /** When the request was sent, in the sequence shared with CloudFront's requests. */
  readonly sentAt: number;
  /** ResourceProperties as sent. */
  readonly properties: Record<string, unknown>;
  /** OldResourceProperties as sent (Update). */
  readonly oldProperties?: Record<string, unknown>;
  /** PhysicalResourceId as sent (Update, Delete). */
  readonly physicalId?: string;
  answer?: CustomResourceAnswer;
  /** When the first answer arrived, in the sequence shared with CloudFront's requests. */
  answeredAt?: number;
  /** Every answer its ResponseURL received by the end of the step (a request delivered again may answer again). */
  answers?: readonly CustomResourceAnswer[];
  /** How many times Lambda delivered the request to the handler by the end of the step, retries included. */
  deliveries?: number;
  /** True when no answer came within the ServiceTimeout. */
  unanswered?: boolean;
}

/** A resource created, updated, deleted, failed, put back or left as it is. */
export interface ResourceChange {
  readonly logicalId: string;
  readonly type: string;
  /**
   * `skip`: left as it is, either skipped by ContinueUpdateRollback (ResourcesToSkip) or, in a
   * deletion, retained (DELETE_SKIPPED: DeletionPolicy or UpdateReplacePolicy Retain).
   */
  readonly action: 'create' | 'update' | 'delete' | 'fail' | 'revert' | 'skip';
  readonly phase: Phase;
  /** When the change finished, in the sequence shared with CloudFront's requests. */
  readonly finishedAt: number;
  /** The stack the resource belongs to (a nested stack's own name for its resources). */
  readonly stackName: string;
}

/** What a BucketDeployment put under a prefix of a bucket. */
export interface ContentChange {
  readonly bucket: string;
  readonly prefix: string;
  /** A short hash of the sources deployed there; `removed` when a BucketDeployment's Delete or move removed the files. */
  readonly version: string;
  /** Distributions with an origin on the bucket. */
  readonly distributions: readonly string[];
  readonly phase: Phase;
  /**
   * When the files had landed (or, `removed`, were gone), in the sequence shared with CloudFront's
   * requests: an invalidation created later purges them.
   */
  readonly landedAt: number;
  /**
   * The object keys (prefix included) added, changed or deleted, when the files of every source are
   * known (local folder assets without deploy-time values); undefined otherwise, when only a purge
   * of the whole prefix covers the change.
   */
  readonly changedKeys?: readonly string[];
}

/** A stack status change, and the event CloudFormation sent EventBridge for it. */
export interface StackEventRecord {
  readonly eventId: string;
  readonly stackName: string;
  readonly stackId: string;
  readonly status: string;
  /** When the stack reached the status, in the sequence shared with CloudFront's requests. */
  readonly reachedAt: number;
}

/** A delivery of a stack status event to a rule's target, with what Lambda made of it. */
export interface EventDelivery extends DeliveryRecord {
  /** Whether an invocation of this delivery ran to the end without error by the end of the step. */
  readonly handled: boolean;
  /** Whether an earlier step already handled the same event for the same target. */
  readonly handledBefore: boolean;
  /** How many times Lambda ran this delivery (its retries included). */
  readonly attempts: number;
  /** Whether the target function no longer exists by the end of the step (its stack was deleted). */
  readonly targetGone: boolean;
}

/** What one step (a deploy, a rollback, a deletion, a redelivery) did. */
export interface StepReport {
  readonly stackName: string;
  readonly stackStatus: string;
  readonly changes: readonly ResourceChange[];
  readonly requests: readonly RequestRecord[];
  readonly content: readonly ContentChange[];
  /** Invalidations CloudFront received during the step, deferred ones included. */
  readonly invalidations: readonly EmulatedInvalidation[];
  /** Stack status changes during the step (nested stacks' included). */
  readonly events: readonly StackEventRecord[];
  /** Deliveries of stack status events to rule targets during the step (late ones from earlier steps included). */
  readonly deliveries: readonly EventDelivery[];
  /** Deliveries held back, to come once the next step has begun. */
  readonly heldDeliveries: number;
  /**
   * Whether a stack is left where its changes wait for a later step: UPDATE_ROLLBACK_FAILED (its
   * rollback to be continued), or UPDATE_FAILED or CREATE_FAILED (to be rolled back or deployed again).
   */
  readonly rollbackPending: boolean;
}
