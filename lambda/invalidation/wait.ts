/**
 * Waiting until CloudFront has completed a job's batches (`waitForCompletion`): one plain read
 * first (the SDK's waiter takes every error for "not yet"), then the SDK's waiter, within the
 * deadline and this invocation's time.
 */
import { FIRST_BACKOFF_MS, WAITER_MIN_LEFT_SECONDS } from './budgets';
import { errorCode, retryableOrDenied, serviceError } from './errors';
import type { Job } from './plan';
import { describeTarget } from './plan';
import { retry, NOT_YET, within } from './retry';
import type { Invocation, JobProgress, PhaseOutcome } from './runtime';
import { callSignal, OK } from './runtime';

/** Waits for every accepted batch of the job to complete, recording it in `progress`. */
export async function awaitJob(invocation: Invocation, job: Job, progress: JobProgress, deadline: number): Promise<PhaseOutcome> {
  for (const batch of job.batches) {
    if (!progress.completed[batch.number - 1]) {
      const completed = await awaitBatch(invocation, job, batch.number, progress, deadline);
      if (completed.kind !== 'ok') {
        return completed;
      }
    }
  }
  progress.completedAt ??= invocation.rt.now();
  return OK;
}

async function awaitBatch(invocation: Invocation, job: Job, number: number, progress: JobProgress, deadline: number): Promise<PhaseOutcome> {
  const { rt } = invocation;
  const id = progress.ids[number - 1];
  const completed = await retry(async () => {
    const seconds = Math.floor((Math.min(deadline, invocation.workUntil) - rt.now()) / 1000);
    const state = await rt.api.get(job.target, id, callSignal(invocation, deadline));
    const done = state.status === 'Completed' || (seconds > WAITER_MIN_LEFT_SECONDS && await rt.api.waitCompleted(job.target, id, seconds, callSignal(invocation, deadline)));
    return done || NOT_YET;
  }, {
    pacing: within(invocation, deadline),
    // A policy created in the same deploy may not apply yet to this read either.
    retryable: retryableOrDenied(rt),
    retrying: (e) => rt.log('retrying', { batch: number, error: errorCode(e) }),
    // The same pause between any two reads, after an error too (budgets.ts, `FIRST_BACKOFF_MS`).
    maxDelayMs: FIRST_BACKOFF_MS,
  });
  switch (completed.kind) {
    case 'ok':
      progress.completed[number - 1] = true;
      rt.log('completed', { batch: number, id });
      return OK;
    case 'fail':
      return { kind: 'fail', reason: `Could not follow invalidation ${id} of ${describeTarget(job.target)}: ${serviceError('CloudFront', completed.error)}` };
    case 'timeout': {
      const pending = job.batches.filter((b) => !progress.completed[b.number - 1]).map((b) => progress.ids[b.number - 1]);
      return { kind: 'timeout', detail: `invalidations ${pending.join(', ')} of ${describeTarget(job.target)} are still in progress` };
    }
    default:
      return { kind: 'handoff' };
  }
}
