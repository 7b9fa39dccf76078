/**
 * The purge after a rollback. CloudFormation sends EventBridge a "CloudFormation Stack Status
 * Change" event at every stack status change, with durable delivery; the stack's rule matches
 * UPDATE_ROLLBACK_COMPLETE of its own stack (every resource is back, cleanup included, also after a
 * failed rollback continued later) and hands the handler every Invalidation of the template rolled
 * back to (CLOUDFORMATION.md, "Stack status events").
 *
 * Each target is purged once, under a CallerReference made from the event's id: the same event
 * delivered twice, or retried by Lambda, creates nothing new, and every rollback gets new ones.
 * Nothing answers to anyone, so nothing is dropped quietly either: when this invocation runs out of
 * time the rest goes to a fresh one, and when that cannot be started, or a target could not be
 * submitted, the invocation fails, so that Lambda runs the event again (twice), then the
 * dead-letter queue keeps it.
 */
import { describeError } from './errors';
import type { Job } from './plan';
import { describeTarget, rollbackPurgeReference } from './plan';
import type { Invocation, Progress, Runtime, Step } from './runtime';
import { copyJobs, freshJob, invocation } from './runtime';
import { submitJob } from './submit';
import type { RollbackPurgeEvent, RollbackPurgeTarget } from '../../src/contract';
import { ROLLBACK_COMPLETE_STATUS } from '../../src/contract';
import { normalizePaths, planBatches } from '../../src/paths';

/**
 * How long one delivery of the event keeps trying (hand-overs to fresh invocations included) to get
 * every purge accepted, from its first invocation: CloudFront's in-progress limits clear within
 * minutes as a rule. Past that the invocation fails; Lambda runs the event twice more, each with a
 * budget of its own, then the dead-letter queue keeps it. It counts from the delivery, not from the
 * event: EventBridge may deliver an event hours late, and the content is still to be purged then.
 */
export const ROLLBACK_PURGE_LIMIT_MS = 60 * 60 * 1000;

/** Whether a payload is the stack rule's rollback purge. */
export function isRollbackPurgeEvent(payload: unknown): payload is RollbackPurgeEvent {
  return typeof payload === 'object' && payload !== null && 'rollbackPurge' in payload;
}

/**
 * The jobs of a rollback purge, one per distinct target, or why the event is not one to act on.
 * Pure: the same event always gives the same jobs.
 */
export function planRollbackPurge(
  event: RollbackPurgeEvent, ownStackId: string | undefined,
): { jobs: Job[]; fallbacks: string[] } | { ignore: string } {
  const purge = event.rollbackPurge;
  if (typeof purge?.eventId !== 'string' || !purge.eventId || typeof purge.stackId !== 'string' || !Array.isArray(purge.targets)) {
    return { ignore: 'the rollback purge event lacks its eventId, stackId or targets' };
  }
  if (ownStackId !== undefined && purge.stackId !== ownStackId) {
    return { ignore: `the event is about stack ${purge.stackId}, not this handler's stack ${ownStackId}` };
  }
  if (purge.status !== ROLLBACK_COMPLETE_STATUS) {
    return { ignore: `the stack status ${JSON.stringify(purge.status)} is not ${ROLLBACK_COMPLETE_STATUS}` };
  }
  const jobs = new Map<string, Job>();
  const fallbacks: string[] = [];
  for (const [i, target] of purge.targets.entries()) {
    const distributionId = typeof target?.DistributionId === 'string' ? target.DistributionId : '';
    if (!/^[A-Za-z0-9]+$/.test(distributionId)) {
      fallbacks.push(`targets[${i}]: DistributionId ${JSON.stringify(target?.DistributionId)} is not a distribution id; skipped`);
      continue;
    }
    const tenantId = typeof target.DistributionTenantId === 'string' && target.DistributionTenantId ? target.DistributionTenantId : undefined;
    const where = tenantId ? { distributionId, tenantId } : { distributionId };
    const paths = rollbackPaths(target, (why) => fallbacks.push(`targets[${i}] (${describeTarget(where)}): ${why}; purging /* instead`));
    const reference = rollbackPurgeReference(where, paths, purge.stackId, purge.eventId);
    jobs.set(reference, { target: where, reference, batches: planBatches(paths).map((p, n) => ({ number: n + 1, paths: p })) });
  }
  return { jobs: [...jobs.values()], fallbacks };
}

/** The target's paths, normalized; everything (`/*`) when they cannot be read: better too much than nothing. */
function rollbackPaths(target: RollbackPurgeTarget, fallback: (why: string) => void): string[] {
  if (!Array.isArray(target.Paths) || target.Paths.some((p) => typeof p !== 'string')) {
    fallback(`Paths ${JSON.stringify(target.Paths)?.slice(0, 200)} is not a list of strings`);
    return ['/*'];
  }
  try {
    return normalizePaths(target.Paths, 'Paths');
  } catch (e) {
    fallback((e as Error).message);
    return ['/*'];
  }
}

export class RollbackPurgeRun {
  private readonly inv: Invocation;

  constructor(
    private readonly event: RollbackPurgeEvent,
    private progress: Progress | undefined,
    private readonly rt: Runtime,
    private readonly ownStackId?: string,
  ) {
    this.inv = invocation(rt);
  }

  /** Nothing answers a rollback purge: an invocation stopped short hands over from within `run`. */
  get finished(): boolean {
    return false;
  }

  async answerSent(): Promise<void> {}

  async handOff(): Promise<void> {}

  /** An unexpected error fails the invocation, so that Lambda runs the event again. */
  async crash(e: unknown): Promise<void> {
    throw e;
  }

  /** Purges every target; throws when the event should be delivered again (see the file's comment). */
  async run(): Promise<void> {
    const planned = planRollbackPurge(this.event, this.ownStackId);
    if ('ignore' in planned) {
      this.rt.log('ignored a rollback purge event', { why: planned.ignore });
      return;
    }
    planned.fallbacks.forEach((why) => this.rt.log('rollback purge: a target could not be read as given', { why }));
    const progress = this.progress ??= { startedAt: this.rt.now(), jobs: planned.jobs.map((j) => freshJob(j.batches.length)), invocation: 1 };
    const deadline = progress.startedAt + ROLLBACK_PURGE_LIMIT_MS;
    const failed: string[] = [];
    for (const [i, job] of planned.jobs.entries()) {
      const step: Step = await submitJob(this.inv, job, progress.jobs[i], deadline);
      if (step.kind === 'handoff') {
        return this.continueElsewhere(progress);
      }
      if (step.kind === 'ok') {
        this.rt.log('purged after the rollback', { target: job.target, ids: progress.jobs[i].ids.join(','), callerReference: job.reference });
      } else {
        const reason = step.kind === 'fail' ? step.reason : `Timed out: ${step.detail}`;
        this.rt.log('could not purge after the rollback', { target: job.target, reason });
        failed.push(reason);
      }
    }
    // Lambda tries again twice (what was submitted is found again by its CallerReference), then the
    // dead-letter queue keeps the event for whoever looks after the stack.
    if (failed.length > 0) {
      throw new Error(`The purge after the rollback of ${this.event.rollbackPurge.stackId} is not complete: ${failed.join('; ')}`);
    }
  }

  private async continueElsewhere(progress: Progress): Promise<void> {
    const next: Progress = { ...progress, jobs: copyJobs(progress.jobs), invocation: progress.invocation + 1 };
    try {
      await this.rt.continueLater(this.event, next);
      this.rt.log('continuing the purge after the rollback in a new invocation', { invocation: next.invocation });
    } catch (e) {
      // Lambda runs the event again; what was submitted is found again by its CallerReference.
      throw new Error(`Could not continue the purge after the rollback in a new invocation: ${describeError(e)}`);
    }
  }
}
