/**
 * Handing the rest of a request or a rollback purge to a fresh invocation of this function, when
 * this one runs out of time (lambda:InvokeFunction, through `Runtime.continueLater`).
 */
import type { JobProgress, Progress, Runtime } from './runtime';

/**
 * Starts a fresh invocation that resumes `payload` from a copy of `progress`, one invocation
 * further on; the progress handed on. Throws when the invocation cannot be started.
 */
export async function handOver<P extends Progress>(rt: Runtime, payload: object, progress: P): Promise<P> {
  const next: P = { ...progress, jobs: copyJobs(progress.jobs), invocationCount: progress.invocationCount + 1 };
  await rt.continueLater(payload, next);
  return next;
}

/** A copy of the jobs' progress, for the next invocation. */
function copyJobs(jobs: readonly JobProgress[]): JobProgress[] {
  return jobs.map((j) => ({ ...j, ids: [...j.ids], completed: [...j.completed] }));
}
