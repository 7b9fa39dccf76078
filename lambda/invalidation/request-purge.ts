/**
 * Acting on a CloudFormation request's decision to purge (decide.ts): choosing a changedFiles
 * deploy's paths (manifests.ts), submitting within CloudFront's limits (submit.ts), waiting with
 * `waitForCompletion` (wait.ts), the purge's log line (purge-log.ts), and the verdict the answer is
 * made from (answer.ts).
 */
import type { Verdict } from './answer';
import { answerData } from './answer';
import type { Decision } from './decide';
import { changedFilesPlan } from './manifests';
import type { Job, Plan, Settings } from './plan';
import { withPaths } from './plan';
import type { CloudFormationRequest } from './protocol';
import { logPurge } from './purge-log';
import type { Invocation, Progress } from './runtime';
import { freshJob } from './runtime';
import { submitJob } from './submit';
import { awaitJob } from './wait';

/** What a request's invocation hands the next one. */
export interface RequestProgress extends Progress {
  /** The request is a Delete in a rollback's cleanup, which never waits. */
  readonly cleanup: boolean;
  /** Whether what to do is decided; false when reading the stack took this invocation's time. */
  readonly decided: boolean;
}

/** A purge ready to submit: its job and settings, its progress (handed on with the request), and how a changedFiles deploy chose its paths. */
export interface PreparedPurge {
  readonly job: Job;
  readonly settings: Settings;
  readonly progress: RequestProgress;
  readonly note: string;
}

/**
 * The job to submit, with a changedFiles deploy's paths chosen from its manifests, and its progress:
 * `earlier`'s once decided, a fresh one otherwise. `startedAt` is when the request's budget started.
 */
export async function preparePurge(
  invocation: Invocation, plan: Plan, decision: Extract<Decision, { kind: 'invalidate' }>, earlier: RequestProgress | undefined, startedAt: number,
): Promise<PreparedPurge> {
  const { rt } = invocation;
  let job = decision.job;
  let note = '';
  if (plan.action === 'invalidate' && plan.changedFiles && !decision.cleanup) {
    // Only the objects that changed; a rollback's cleanup purges the whole prefix, as the stack's rule does.
    const chosen = await changedFilesPlan(invocation, plan.changedFiles, startedAt + decision.settings.timeoutSeconds * 1000);
    job = withPaths(job, chosen.paths);
    note = chosen.note;
    rt.log('changed files', { note, paths: chosen.paths.length });
  }
  const progress = earlier?.decided
    ? earlier
    : { startedAt, jobs: [freshJob(job.batches.length)], invocationCount: earlier?.invocationCount ?? 1, cleanup: decision.cleanup, decided: true };
  rt.log('planned', {
    target: job.target,
    paths: job.batches.reduce((sum, b) => sum + b.paths.length, 0),
    batches: job.batches.length,
    callerReference: job.reference,
    cleanup: decision.cleanup,
  });
  return { job, settings: decision.settings, progress, note };
}

/**
 * Submits the job and, with `waitForCompletion`, waits for it, recording how far it got in its
 * progress; then logs the purge. The verdict, or undefined when this invocation ran out of time
 * and a fresh one is to go on.
 */
export async function purge(invocation: Invocation, event: CloudFormationRequest, prepared: PreparedPurge): Promise<Verdict | undefined> {
  const { job, settings, progress, note } = prepared;
  const { rt } = invocation;
  const deadline = progress.startedAt + settings.timeoutSeconds * 1000;
  let outcome = await submitJob(invocation, job, progress.jobs[0], deadline);
  if (outcome.kind === 'ok' && settings.waitForCompletion) {
    outcome = await awaitJob(invocation, job, progress.jobs[0], deadline);
  }
  if (outcome.kind === 'handoff') {
    return undefined;
  }
  const { ids } = progress.jobs[0];
  // No batch (no changed file): nothing submitted, and no reference to name.
  const found = { ids: ids.filter((id) => id).join(','), callerReference: job.batches.length > 0 ? job.reference : '' };
  const submitted = { paths: job.batches.filter((b) => ids[b.number - 1]).flatMap((b) => b.paths), note };
  if (job.batches.length > 0) {
    logPurge(rt, job, progress.jobs[0], {
      cause: progress.cleanup ? 'cleanup' : 'deploy',
      outcome: outcome.kind === 'ok' ? (settings.waitForCompletion ? 'completed' : 'accepted') : outcome.kind === 'fail' ? 'failed' : 'timed out',
      startedAt: progress.startedAt,
      stackId: event.StackId,
      logicalResourceId: event.LogicalResourceId,
      reason: outcome.kind === 'fail' ? outcome.reason : outcome.kind === 'timeout' ? outcome.detail : undefined,
    });
  }
  if (progress.cleanup) {
    // A Delete: its answer is SUCCESS whatever became of the purge (answer.ts, `deleteNeverFails`), so the log tells.
    rt.log(outcome.kind === 'ok' ? 'purged what the failed update had created' : 'could not purge what the failed update had created', { step: outcome, ids: found.ids });
  }
  switch (outcome.kind) {
    case 'ok':
      return { status: 'SUCCESS', data: answerData(settings.waitForCompletion ? 'Completed' : 'Submitted', found, '', submitted) };
    case 'fail':
      return { status: 'FAILED', reason: outcome.reason };
    case 'timeout': {
      const reason = `Timed out after ${settings.timeoutSeconds} s: ${outcome.detail}`;
      if (ids.every((id) => id) && !settings.failOnTimeout) {
        return { status: 'SUCCESS', data: answerData('TimedOut', found, reason, submitted) };
      }
      return { status: 'FAILED', reason };
    }
  }
}
