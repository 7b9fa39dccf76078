/**
 * Carrying out the purge after a failed deploy (what to purge: rollback.ts): reading what the failed
 * deploy named from the stack's events, submitting each target (submit.ts), and handing the rest
 * to a fresh invocation when this one runs out of time.
 *
 * Nothing answers to anyone, so nothing is dropped quietly either: when the fresh invocation cannot
 * be started, or a target could not be submitted, or the stack's events could not be read, the
 * invocation fails, so that Lambda runs the event again (twice), then the dead-letter queue keeps it.
 */
import { ROLLBACK_PURGE_LIMIT_MS, STACK_EVENTS_LIMIT_MS } from './budgets';
import { describeError, retryableOrDenied, serviceError } from './errors';
import { handOver } from './handover';
import { logPurge } from './purge-log';
import { retry, within } from './retry';
import { ignoreReason, namedInEvents, planRollbackPurge, readFarEnough } from './rollback';
import type { Invocation, PhaseOutcome, Progress, Runtime, StackEvent } from './runtime';
import { callSignal, freshJob, invocationOf } from './runtime';
import { submitJob } from './submit';
import type { RollbackPurgeEvent, RollbackPurgeTarget } from '../../src/shared/contract';

/** Most pages of stack events read back to the stack's last stable status. */
export const MAX_STACK_EVENT_PAGES = 50;

/** What a rollback purge's invocation hands the next one. */
export interface RollbackProgress extends Progress {
  /** What the failed deploy named, read from the stack's events by the first invocation. */
  readonly found?: RollbackPurgeTarget[];
  /** Why the stack's events could not be read in full, when they could not: the purge then fails in the end, to be run again. */
  readonly unread?: string;
}

export class RollbackPurgeRun {
  private readonly invocation: Invocation;

  constructor(
    private readonly event: RollbackPurgeEvent,
    private progress: RollbackProgress | undefined,
    private readonly rt: Runtime,
    private readonly ownStackId?: string,
  ) {
    this.invocation = invocationOf(rt);
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
    const ignore = ignoreReason(this.event, this.ownStackId);
    if (ignore) {
      this.rt.log('ignored a rollback purge event', { why: ignore });
      return;
    }
    const purge = this.event.rollbackPurge;
    const emitted = Date.parse(purge.time);
    // From when CloudFormation emitted the event, whatever Lambda's queue and retries did since.
    const startedAt = Number.isFinite(emitted) && emitted <= this.rt.now() ? emitted : this.rt.now();
    const deadline = startedAt + ROLLBACK_PURGE_LIMIT_MS;
    if (this.progress?.found === undefined) {
      // The first invocation, or one that ran out of time reading the events before handing over.
      const read = await this.readFailedDeploy(Math.min(deadline, this.rt.now() + STACK_EVENTS_LIMIT_MS));
      if ('handoff' in read) {
        return this.continueElsewhere(this.progress ?? { startedAt, jobs: [], invocationCount: 1 });
      }
      this.rt.log('read the failed deploy\'s Invalidations from the stack events', { found: read.found, error: read.error });
      const jobs = planRollbackPurge(this.event, read.found).jobs.map((j) => freshJob(j.batches.length));
      this.progress = { startedAt, invocationCount: this.progress?.invocationCount ?? 1, jobs, found: read.found, unread: read.error };
    }
    const progress = this.progress;
    const planned = planRollbackPurge(this.event, progress.found);
    planned.fallbacks.forEach((why) => this.rt.log('rollback purge: a target could not be read as given', { why }));
    const failed = progress.unread ? [progress.unread] : [];
    for (const [i, job] of planned.jobs.entries()) {
      const purged: PhaseOutcome = await submitJob(this.invocation, job, progress.jobs[i], deadline);
      if (purged.kind === 'handoff') {
        return this.continueElsewhere(progress);
      }
      logPurge(this.rt, job, progress.jobs[i], {
        cause: 'failed deploy',
        outcome: purged.kind === 'ok' ? 'accepted' : purged.kind === 'fail' ? 'failed' : 'timed out',
        startedAt,
        stackId: purge.stackId,
        reason: purged.kind === 'fail' ? purged.reason : purged.kind === 'timeout' ? purged.detail : undefined,
      });
      if (purged.kind === 'ok') {
        this.rt.log('purged after the failed deploy', { target: job.target, ids: progress.jobs[i].ids.join(','), callerReference: job.reference, status: purge.status });
      } else {
        const reason = purged.kind === 'fail' ? purged.reason : `Timed out: ${purged.detail}`;
        this.rt.log('could not purge after the failed deploy', { target: job.target, reason });
        failed.push(reason);
      }
    }
    // Lambda tries again twice (what was submitted is found again by its CallerReference), then the
    // dead-letter queue keeps the event for whoever looks after the stack.
    if (failed.length > 0) {
      throw new Error(`The purge after the failed deploy of ${purge.stackId} (${purge.status}) is not complete: ${failed.join('; ')}`);
    }
  }

  /**
   * What the failed deploy named, from the stack's events (`namedInEvents`). Reads are retried
   * within `until`; what could not be read is an error, and the purge goes on with the template's
   * targets.
   */
  private async readFailedDeploy(until: number): Promise<{ found: RollbackPurgeTarget[]; error?: string } | { handoff: true }> {
    const purge = this.event.rollbackPurge;
    const stackId = this.ownStackId ?? purge.stackId;
    const events: StackEvent[] = [];
    let nextToken: string | undefined;
    let page = 0;
    // One try reads on from the last page read: a page that failed is read again, and the pauses go on growing.
    const read = await retry(async () => {
      for (;;) {
        if (page === MAX_STACK_EVENT_PAGES) {
          return { ...namedInEvents(events, purge, stackId), error: `the stack's events of the failed deploy go back more than ${MAX_STACK_EVENT_PAGES} pages` };
        }
        const next = await this.rt.stackEvents(stackId, nextToken, callSignal(this.invocation, until));
        page++;
        events.push(...next.events);
        if (!next.nextToken || readFarEnough(events, next.events, purge, stackId)) {
          const named = namedInEvents(events, purge, stackId);
          named.unreadable.forEach((logicalId) => this.rt.log('could not read the properties of a resource in the stack events', { logicalId }));
          return named;
        }
        nextToken = next.nextToken;
      }
    }, {
      pacing: within(this.invocation, until),
      retryable: retryableOrDenied(this.rt),
      failed: (e) => this.rt.log('could not read the stack events', { error: describeError(e) }),
    });
    if (read.kind === 'ok') {
      return read.value;
    }
    return read.kind === 'handoff'
      ? { handoff: true }
      : { found: [], error: `could not read what the failed deploy named: ${serviceError('CloudFormation DescribeStackEvents', read.error)}` };
  }

  private async continueElsewhere(progress: RollbackProgress): Promise<void> {
    try {
      const next = await handOver(this.rt, this.event, progress);
      this.rt.log('continuing the purge after the failed deploy in a new invocation', { invocationCount: next.invocationCount });
    } catch (e) {
      // Lambda runs the event again; what was submitted is found again by its CallerReference.
      throw new Error(`Could not continue the purge after the failed deploy in a new invocation: ${describeError(e)}`);
    }
  }
}
