/**
 * Deciding what to do about a CloudFormation request: pure code, the request's plan and what the
 * stack says in, an action out.
 *
 * - A Create, or an Update that changes the inputs while the stack goes forward, purges.
 * - An Update during a rollback purges nothing: the stack's EventBridge rule purges every
 *   Invalidation of the stack once the rollback is complete (see rollback.ts).
 * - A Delete purges nothing (I5), but when it takes back what a failed deploy created (`UNDO_STATUSES`):
 *   the Invalidation came with the deploy that failed, which may have purged new content now
 *   reverted. The stack's rule purges it again after the rollback (it reads the failed deploy's
 *   Invalidations from the stack's events), but a rule that the failed deploy created goes with
 *   the rollback, and this Delete is then the last chance. It submits before it answers.
 * - A request CloudFormation no longer waits for (its resource is not `*_IN_PROGRESS`) is a late
 *   duplicate: it is answered and does nothing.
 */
import type { Job, Plan, Recall, Settings } from './plan';
import type { CloudFormationRequest } from './protocol';
import { LEGACY_GUARD_RESOURCE_TYPE, RESOURCE_TYPE } from '../../src/shared/contract';

/** The stack status of a rollback's cleanup, when what the failed update created is deleted. */
export const ROLLBACK_CLEANUP_STATUS = 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS';

/**
 * The stack statuses in which a Delete takes back what a failed deploy created: a rollback's
 * cleanup, and the rollback of a failed first deploy, which deletes the library with the rest.
 */
export const UNDO_STATUSES = [ROLLBACK_CLEANUP_STATUS, 'ROLLBACK_IN_PROGRESS'];

/** What the stack says about a request, read before deciding. */
export interface Facts {
  /** Whether CloudFormation still waits for this request (its resource is `*_IN_PROGRESS`). */
  readonly late: boolean;
  /** The stack's status; undefined when it could not be read. */
  readonly stackStatus?: string;
  /** Why the stack's status could not be read, when it could not. */
  readonly stackStatusError?: string;
}

export type Decision =
  /** Answer at once, without touching CloudFront (but to recall earlier ids). */
  | { readonly kind: 'answer'; readonly status: string; readonly recall?: Recall }
  | { readonly kind: 'fail'; readonly reason: string }
  | {
    readonly kind: 'invalidate';
    readonly job: Job;
    readonly settings: Settings;
    /** A Delete in a rollback's cleanup: never waits (and, as every Delete, never fails: answer.ts, `deleteNeverFails`). */
    readonly cleanup: boolean;
  };

/**
 * Why the handler must not act on a request, or undefined when it may: it acts only for its own
 * stack (the construct tells it which), for its own resource types, and for the request types
 * CloudFormation sends; an Update or Delete names the resource's physical id (answering a new one
 * to an Update would read as a replacement).
 */
export function refusal(event: CloudFormationRequest, ownStackId: string | undefined): string | undefined {
  const text = (value: unknown) => JSON.stringify(value)?.slice(0, 120);
  if (!['Create', 'Update', 'Delete'].includes(event.RequestType)) {
    return `RequestType ${text(event.RequestType)} is not one CloudFormation sends (Create, Update or Delete)`;
  }
  if (typeof event.StackId !== 'string' || (ownStackId !== undefined && event.StackId !== ownStackId)) {
    return `StackId ${text(event.StackId)} is not this handler's stack${ownStackId ? ` ${ownStackId}` : ''}`;
  }
  if (event.ResourceType !== RESOURCE_TYPE && event.ResourceType !== LEGACY_GUARD_RESOURCE_TYPE) {
    return `ResourceType ${text(event.ResourceType)} is not ${RESOURCE_TYPE}`;
  }
  if (typeof event.RequestId !== 'string' || !event.RequestId || typeof event.LogicalResourceId !== 'string' || !event.LogicalResourceId) {
    return 'the request lacks its RequestId or LogicalResourceId';
  }
  if (event.RequestType !== 'Create' && (typeof event.PhysicalResourceId !== 'string' || !event.PhysicalResourceId)) {
    return `${event.RequestType === 'Update' ? 'an' : 'a'} ${event.RequestType} needs the resource's PhysicalResourceId`;
  }
  return undefined;
}

/** Whether the decision needs the stack's status: only an Update or Delete that would act does. */
export function needsStackStatus(event: CloudFormationRequest, plan: Plan): boolean {
  return plan.action === 'invalidate' && event.RequestType !== 'Create' && event.ResourceType !== LEGACY_GUARD_RESOURCE_TYPE;
}

/**
 * Whether the decision needs to know if the request is late: only an Update or Delete that would
 * act does. A late Create names the invalidation its first delivery made (its CallerReference is a
 * function of the request), so it creates nothing new, and a Create reads nothing of the stack.
 */
export function needsLateCheck(event: CloudFormationRequest, plan: Plan): boolean {
  // The same requests as need the stack's status.
  return needsStackStatus(event, plan);
}

export function decide(event: CloudFormationRequest, plan: Plan, facts: Facts): Decision {
  const deleted = event.RequestType === 'Delete';
  if (event.ResourceType === LEGACY_GUARD_RESOURCE_TYPE) {
    // A rollback guard of an earlier release, deleted after the stack moved to the stack's rule.
    return { kind: 'answer', status: deleted ? 'Deleted' : 'Unchanged' };
  }
  if (deleted) {
    // Only a live Delete that takes back what a failed deploy created purges; any other purges nothing,
    // one whose properties or stack status cannot be read included.
    const undo = plan.action === 'invalidate' && !facts.late && facts.stackStatus !== undefined && UNDO_STATUSES.includes(facts.stackStatus);
    return undo ? { kind: 'invalidate', job: plan.job, settings: { ...plan.settings, waitForCompletion: false }, cleanup: true } : { kind: 'answer', status: 'Deleted' };
  }
  if (plan.action === 'fail') {
    return { kind: 'fail', reason: plan.reason };
  }
  if (plan.action === 'none') {
    return { kind: 'answer', status: 'Unchanged', recall: plan.recall };
  }
  if (facts.late) {
    return { kind: 'answer', status: 'Late' };
  }
  if (event.RequestType === 'Create') {
    return { kind: 'invalidate', job: plan.job, settings: plan.settings, cleanup: false };
  }
  const status = facts.stackStatus;
  if (status === undefined) {
    const why = facts.stackStatusError ? ` (${facts.stackStatusError})` : '';
    return { kind: 'fail', reason: `Could not read the status of stack ${event.StackId}${why}, which tells a rollback from an update` };
  }
  if (status.startsWith('UPDATE_ROLLBACK_')) {
    // The content may not be back yet; the stack's rule purges once the rollback is complete.
    return { kind: 'answer', status: 'RolledBack', recall: plan.recall };
  }
  return { kind: 'invalidate', job: plan.job, settings: plan.settings, cleanup: false };
}
