/**
 * Submitting a job's batches within CloudFront's limits: at most 3000 paths and 15 wildcard paths in
 * progress per distribution (CLOUDFRONT.md, "Limits and paths"). Before each batch the handler
 * counts what is in progress and waits for room; TooManyInvalidationsInProgress, throttling and
 * 5xx are retried with backoff until the deadline.
 */
import type { InvalidationState } from './cloudfront';
import { describeError, errorCode, isRetryable } from './cloudfront';
import type { Batch, Job } from './plan';
import { describeTarget } from './plan';
import type { Invocation, JobProgress, Step } from './runtime';
import { FIRST_BACKOFF_MS, MAX_BACKOFF_MS, OK, pause } from './runtime';
import { MAX_PATHS_IN_PROGRESS, MAX_WILDCARDS_IN_PROGRESS, pathKind } from '../../src/paths';

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
export async function submitJob(inv: Invocation, job: Job, progress: JobProgress, deadline: number): Promise<Step> {
  const foreignPaths = new Map<string, readonly string[]>();
  for (const batch of job.batches) {
    if (!progress.ids[batch.number - 1]) {
      const step = await submitBatch(inv, job, batch, progress, deadline, foreignPaths);
      if (step.kind !== 'ok') {
        return step;
      }
    }
  }
  return OK;
}

async function submitBatch(
  inv: Invocation, job: Job, batch: Batch, progress: JobProgress, deadline: number, foreignPaths: Map<string, readonly string[]>,
): Promise<Step> {
  const { rt } = inv;
  let delay = FIRST_BACKOFF_MS;
  let waitingFor = '';
  for (;;) {
    const room = await capacityProblem(inv, job, batch, progress, foreignPaths);
    if (progress.ids[batch.number - 1]) {
      rt.log('submitted before', { batch: batch.number, id: progress.ids[batch.number - 1] });
      return OK;
    }
    if (room) {
      waitingFor = room;
    } else {
      try {
        const created = await rt.api.create(job.target, batchReference(job, batch), batch.paths, rt.signal);
        progress.ids[batch.number - 1] = created.id;
        progress.completed[batch.number - 1] = created.status === 'Completed';
        rt.log('submitted', { batch: batch.number, of: job.batches.length, id: created.id, paths: batch.paths.length, callerReference: batchReference(job, batch) });
        return OK;
      } catch (e) {
        if (rt.signal.aborted) {
          return { kind: 'handoff' };
        }
        if (!isRetryable(e)) {
          return { kind: 'fail', reason: `CloudFront rejected the invalidation of ${describeTarget(job.target)} (${batchLabel(job, batch)}): ${describeError(e)}` };
        }
        waitingFor = describeError(e);
        rt.log('retrying', { batch: batch.number, error: errorCode(e) });
      }
    }
    const step = await pause(inv, delay, deadline);
    if (step.kind === 'timeout') {
      const pending = job.batches.filter((b) => !progress.ids[b.number - 1]);
      return {
        kind: 'timeout',
        detail: `CloudFront has not accepted ${pending.length} of ${job.batches.length} batches for ${describeTarget(job.target)} `
          + `(next: ${batchLabel(job, batch)}); last: ${waitingFor}`,
      };
    }
    if (step.kind !== 'ok') {
      return step;
    }
    delay = Math.min(delay * 2, MAX_BACKOFF_MS);
  }
}

/**
 * Why the batch would pass CloudFront's in-progress limits now, or undefined when it fits (or when
 * what is in progress cannot be counted: then CloudFront has the last word). Finding one of the
 * job's own batches in progress (submitted by another delivery of the request) records its id.
 */
async function capacityProblem(
  inv: Invocation, job: Job, batch: Batch, progress: JobProgress, foreignPaths: Map<string, readonly string[]>,
): Promise<string | undefined> {
  const { rt } = inv;
  const own = new Map<string, readonly string[]>();
  job.batches.forEach((b) => progress.ids[b.number - 1] && own.set(progress.ids[b.number - 1], b.paths));
  let inProgress: string[];
  try {
    inProgress = (await rt.api.list(job.target, LIST_PAGES, rt.signal)).filter((i) => i.status !== 'Completed').map((i) => i.id);
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
      if (++lookups > MAX_LOOKUPS) {
        return undefined;
      }
      let state: InvalidationState;
      try {
        state = await rt.api.get(job.target, id, rt.signal);
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
