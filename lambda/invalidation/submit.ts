/**
 * Submitting a job's batches within CloudFront's limits: at most 3000 paths and 15 wildcard paths in
 * progress per distribution (docs/cloudfront.md, "Limits and paths"). Before each batch the handler
 * counts what is in progress and waits for room; TooManyInvalidationsInProgress, throttling and
 * 5xx are retried with backoff until the deadline.
 */
import { MAX_PATHS_IN_PROGRESS, MAX_WILDCARDS_IN_PROGRESS } from './batches';
import { ACCESS_DENIED_RETRY_MS, CLOCK_SKEW_MS } from './budgets';
import type { InvalidationState } from './cloudfront';
import { describeError, errorCode, isRetryable, serviceError } from './errors';
import type { Batch, Job } from './plan';
import { describeTarget } from './plan';
import { retry, NOT_YET, within } from './retry';
import type { Invocation, JobProgress, PhaseOutcome } from './runtime';
import { callSignal, OK } from './runtime';
import { pathKind } from '../../src/shared/paths';

/** Pages of ListInvalidations read when counting what is in progress. */
export const LIST_PAGES = 3;

/** In-progress invalidations of others whose paths are looked up; past that, CloudFront decides. */
export const MAX_LOOKUPS = 25;


/** A batch's CallerReference. */
export function batchReference(job: Job, batch: Batch): string {
  return `${job.reference}-${batch.number}`;
}

/** How a batch reads in messages. */
export function batchLabel(job: Job, batch: Batch): string {
  return `batch ${batch.number} of ${job.batches.length}, ${batch.paths.length} paths, CallerReference ${batchReference(job, batch)}`;
}

/**
 * Submits every batch of the job not yet accepted, recording the ids in `progress`. Ends `ok` when
 * all are accepted, `timeout` at the deadline, `handoff` when this invocation is out of time, and
 * `fail` on an error that waiting cannot mend.
 */
export async function submitJob(invocation: Invocation, job: Job, progress: JobProgress, deadline: number): Promise<PhaseOutcome> {
  const state: SubmitState = { foreignPaths: new Map() };
  for (const batch of job.batches) {
    if (!progress.ids[batch.number - 1]) {
      const submitted = await submitBatch(invocation, job, batch, progress, deadline, state);
      if (submitted.kind !== 'ok') {
        return submitted;
      }
    }
  }
  progress.acceptedAt ??= invocation.rt.now();
  return OK;
}

/** What submitting a job learns along the way. */
interface SubmitState {
  /** Paths of invalidations in progress that are not the job's, by id. */
  readonly foreignPaths: Map<string, readonly string[]>;
  /** When CloudFront first denied the handler, if it did. */
  deniedSince?: number;
}

async function submitBatch(
  invocation: Invocation, job: Job, batch: Batch, progress: JobProgress, deadline: number, state: SubmitState,
): Promise<PhaseOutcome> {
  const { rt } = invocation;
  let waitingFor = '';
  let denied = false;
  let lastError: unknown;
  // At first, the job's own batches still in progress may be known to leave no room: then pause
  // before asking CloudFront, which has the last word after that.
  let ownLoad = ownLoadProblem(job, batch, progress);
  const submitted = await retry(async () => {
    const room = ownLoad ?? await capacityProblem(invocation, job, batch, progress, deadline, state.foreignPaths);
    ownLoad = undefined;
    if (progress.ids[batch.number - 1]) {
      rt.log('submitted before', { batch: batch.number, id: progress.ids[batch.number - 1] });
      return true;
    }
    if (room) {
      waitingFor = room;
      return NOT_YET;
    }
    const sentAt = rt.now();
    const created = await rt.api.create(job.target, batchReference(job, batch), batch.paths, callSignal(invocation, deadline));
    progress.ids[batch.number - 1] = created.id;
    // CloudFront gives back the invalidation its CallerReference already made: created before this call, it is not new.
    if (created.createTime === undefined || created.createTime >= sentAt - CLOCK_SKEW_MS) {
      progress.created = (progress.created ?? 0) + 1;
    }
    progress.completed[batch.number - 1] = created.status === 'Completed';
    rt.log('submitted', { batch: batch.number, of: job.batches.length, id: created.id, paths: batch.paths.length, callerReference: batchReference(job, batch) });
    return true;
  }, {
    pacing: within(invocation, deadline),
    retryable: (e) => {
      // A call cut off at the deadline says nothing new: what CloudFront said before is what the reason reports.
      if (errorCode(e) === 'AbortError' && waitingFor) {
        return true;
      }
      denied = errorCode(e) === 'AccessDenied';
      if (denied) {
        state.deniedSince ??= rt.now();
        if (rt.now() - state.deniedSince >= ACCESS_DENIED_RETRY_MS) {
          return false;
        }
      } else if (!isRetryable(e)) {
        return false;
      }
      waitingFor = serviceError('CloudFront', e);
      lastError = e;
      return true;
    },
    retrying: (e) => rt.log('retrying', { batch: batch.number, error: errorCode(e) }),
  });
  switch (submitted.kind) {
    case 'ok':
      return OK;
    case 'fail':
      return {
        kind: 'fail',
        reason: denied
          ? iamReason(invocation, job, batch, state, submitted.error)
          : `Could not invalidate ${describeTarget(job.target)} (${batchLabel(job, batch)}): ${serviceError('CloudFront', submitted.error)}`,
      };
    case 'timeout': {
      if (denied) {
        return { kind: 'fail', reason: iamReason(invocation, job, batch, state, lastError) };
      }
      const pending = job.batches.filter((b) => !progress.ids[b.number - 1]);
      return {
        kind: 'timeout',
        detail: `CloudFront has not accepted ${pending.length} of ${job.batches.length} batches for ${describeTarget(job.target)} `
          + `(next: ${batchLabel(job, batch)}); last: ${waitingFor}`,
      };
    }
    default:
      return { kind: 'handoff' };
  }
}

/** Wildcard and other paths of a list, as the in-progress limits count them. */
function load(paths: readonly string[]): { wildcards: number; others: number } {
  const wildcards = paths.filter((p) => pathKind(p) === 'wildcard').length;
  return { wildcards, others: paths.length - wildcards };
}

/**
 * Why the batch cannot fit beside the job's own batches that were submitted and not yet seen
 * completed, or undefined when it may: known without a call, and checked again (with a call)
 * after a pause.
 */
function ownLoadProblem(job: Job, batch: Batch, progress: JobProgress): string | undefined {
  const pending = job.batches.filter((b) => b !== batch && progress.ids[b.number - 1] && !progress.completed[b.number - 1]);
  if (pending.length === 0) {
    return undefined;
  }
  const own = load(pending.flatMap((b) => b.paths));
  const next = load(batch.paths);
  if (own.wildcards + next.wildcards > MAX_WILDCARDS_IN_PROGRESS || own.others + next.others > MAX_PATHS_IN_PROGRESS) {
    return `in-progress limits: ${pending.length} earlier batches of this invalidation are in progress`;
  }
  return undefined;
}

/** The reason of a deploy failed by a denial that outlasted the retries. */
function iamReason(invocation: Invocation, job: Job, batch: Batch, state: SubmitState, e: unknown): string {
  const action = job.target.tenantId ? 'cloudfront:CreateInvalidationForDistributionTenant' : 'cloudfront:CreateInvalidation';
  const seconds = Math.round((invocation.rt.now() - (state.deniedSince ?? invocation.rt.now())) / 1000);
  return `IAM does not allow the handler's role ${action} on ${describeTarget(job.target)}; retried for ${seconds} s `
    + `(at most ${ACCESS_DENIED_RETRY_MS / 1000} s) in case a policy changed in this deploy had not applied yet (${batchLabel(job, batch)}): ${serviceError('CloudFront', e)}`;
}

/**
 * Why the batch would pass CloudFront's in-progress limits now, or undefined when it fits (or when
 * what is in progress cannot be counted: then CloudFront has the last word). Finding one of the
 * job's own batches in progress (submitted by another delivery of the request) records its id.
 */
async function capacityProblem(
  invocation: Invocation, job: Job, batch: Batch, progress: JobProgress, deadline: number, foreignPaths: Map<string, readonly string[]>,
): Promise<string | undefined> {
  const { rt } = invocation;
  const own = new Map<string, readonly string[]>();
  job.batches.forEach((b) => progress.ids[b.number - 1] && own.set(progress.ids[b.number - 1], b.paths));
  let inProgress: string[];
  try {
    // One page as a rule: past a Completed one, older invalidations are as good as done.
    const listed = await rt.api.list(job.target, LIST_PAGES, callSignal(invocation, deadline), true);
    // What the list says of the job's own batches saves asking again.
    const completed = new Set(listed.filter((i) => i.status === 'Completed').map((i) => i.id));
    job.batches.forEach((b) => completed.has(progress.ids[b.number - 1]) && (progress.completed[b.number - 1] = true));
    inProgress = listed.filter((i) => i.status !== 'Completed').map((i) => i.id);
  } catch (e) {
    rt.log('could not count invalidations in progress', { error: describeError(e) });
    return undefined;
  }
  let wildcards = 0;
  let others = 0;
  let lookups = 0;
  for (const id of inProgress) {
    let paths = own.get(id) ?? foreignPaths.get(id);
    if (!paths) {
      // Counting stops at the deadline, or after so many lookups: then CloudFront decides.
      if (++lookups > MAX_LOOKUPS || rt.now() >= Math.min(deadline, invocation.workUntil)) {
        return undefined;
      }
      let state: InvalidationState;
      try {
        state = await rt.api.get(job.target, id, callSignal(invocation, deadline));
      } catch (e) {
        rt.log('could not read an invalidation in progress', { id, error: describeError(e) });
        return undefined;
      }
      paths = state.paths ?? [];
      foreignPaths.set(id, paths);
      const mine = job.batches.find((b) => state.callerReference === batchReference(job, b));
      if (mine) {
        progress.ids[mine.number - 1] = id;
      }
    }
    for (const p of paths) {
      if (pathKind(p) === 'wildcard') {
        wildcards++;
      } else {
        others++;
      }
    }
  }
  const batchWildcards = batch.paths.filter((p) => pathKind(p) === 'wildcard').length;
  const batchOthers = batch.paths.length - batchWildcards;
  if (wildcards + batchWildcards > MAX_WILDCARDS_IN_PROGRESS || others + batchOthers > MAX_PATHS_IN_PROGRESS) {
    return `in-progress limits: ${inProgress.length} invalidations in progress hold ${wildcards} of ${MAX_WILDCARDS_IN_PROGRESS} wildcard paths `
      + `and ${others} of ${MAX_PATHS_IN_PROGRESS} paths; the batch needs ${batchWildcards} and ${batchOthers}`;
  }
  return undefined;
}
