/**
 * Carries one CloudFormation request through its phases: decide (decide.ts), submit within limits
 * (submit.ts), wait (wait.ts, with `waitForCompletion`), answer; handing the rest to a fresh
 * invocation when this one runs out of time. All I/O goes through `Runtime`.
 */
import { DELETE_READ_LIMIT_MS, RECALL_LIMIT_MS, RESOURCE_STATUS_LIMIT_MS } from './budgets';
import type { Decision } from './decide';
import { decide, needsLateCheck, needsStackStatus, refusal } from './decide';
import { deniedFor, describeError, errorCode, serviceError } from './errors';
import { changedFilesPlan } from './manifests';
import type { Job, Plan, Settings } from './plan';
import { describeTarget, newPhysicalId, planRequest, withPaths } from './plan';
import type { Answer, CloudFormationRequest } from './protocol';
import { requestSentAt } from './protocol';
import { logPurge } from './purge-log';
import type { Recalled } from './recall';
import { NOTHING_RECALLED, recall } from './recall';
import { retry, within } from './retry';
import type { Invocation, PhaseOutcome, Progress, ResourceState, Runtime } from './runtime';
import { callSignal, copyJobs, freshJob, invocationOf } from './runtime';
import { submitJob } from './submit';
import { awaitJob } from './wait';
import { ANSWER_MARGIN_SECONDS, ATTRIBUTES, MAX_TIMEOUT_SECONDS } from '../../src/shared/contract';
import { pathKind } from '../../src/shared/paths';

/** What a request's invocation hands the next one. */
export interface RequestProgress extends Progress {
  /** The request is a Delete in a rollback's cleanup, which never waits and never fails. */
  readonly cleanup: boolean;
  /** Whether what to do is decided; false when reading the stack took this invocation's time. */
  readonly decided: boolean;
}

/** What a deploy submitted: the paths of the batches CloudFront accepted, and for changedFiles how they were chosen. */
export interface Submitted {
  readonly paths: readonly string[];
  readonly note: string;
}

const NOTHING_SUBMITTED: Submitted = { paths: [], note: '' };

/** The answer's data: every attribute, always present. */
export function answerData(status: string, found: Recalled = NOTHING_RECALLED, warning = '', submitted: Submitted = NOTHING_SUBMITTED): Record<string, string> {
  return {
    [ATTRIBUTES.INVALIDATION_IDS]: found.ids,
    [ATTRIBUTES.INVALIDATION_ID]: found.ids.split(',')[0],
    [ATTRIBUTES.CALLER_REFERENCE]: found.callerReference,
    [ATTRIBUTES.STATUS]: status,
    [ATTRIBUTES.WARNING]: warning,
    [ATTRIBUTES.PATHS_SUBMITTED]: String(submitted.paths.length),
    [ATTRIBUTES.WILDCARDS_SUBMITTED]: String(submitted.paths.filter((p) => pathKind(p) === 'wildcard').length),
    // The answer's body must stay under 4 KB.
    [ATTRIBUTES.PATHS_NOTE]: submitted.note.slice(0, 500),
  };
}

export class RequestRun {
  private readonly plan: Plan;
  private readonly physicalId: string;
  private readonly invocation: Invocation;
  private progress: RequestProgress | undefined;
  /** This invocation has answered or handed over: whatever it still does must not act again. */
  private done = false;
  /** The answer on its way to CloudFormation, if one is. */
  private sending: Promise<void> | undefined;

  private readonly refused: string | undefined;
  /**
   * When the request's budget starts, unless this invocation continues an earlier one: when
   * CloudFormation sent it (its ResponseURL tells), so that time spent in Lambda's queue and in
   * earlier attempts counts; this invocation's start when the URL does not tell.
   */
  private readonly startedAt: number;

  constructor(
    private readonly event: CloudFormationRequest,
    progress: RequestProgress | undefined,
    private readonly rt: Runtime,
    ownStackId?: string,
  ) {
    this.refused = refusal(event, ownStackId);
    this.plan = this.refused ? { action: 'fail', reason: this.refused } : planRequest(event);
    // Echo the id CloudFormation gave: a new one on Update would read as a replacement.
    this.physicalId = event.PhysicalResourceId || (this.refused ? 'not-created' : newPhysicalId(event));
    this.progress = progress;
    this.invocation = invocationOf(rt);
    this.startedAt = Math.min(rt.now(), requestSentAt(event) ?? Infinity);
  }

  /** Whether this invocation is finished: it answered, or handed the request on. */
  get finished(): boolean {
    return this.done;
  }

  /** Settles once an answer this invocation is sending has gone out; throws when it could not be delivered. */
  async answerSent(): Promise<void> {
    try {
      await this.sending;
    } catch (e) {
      throw new AnswerNotDelivered(describeError(e));
    }
  }

  async run(): Promise<void> {
    const plan = this.plan;
    if (this.refused) {
      this.rt.log('refused a request that is not for this handler', { reason: this.refused });
      return this.reply('FAILED', `Refused: ${this.refused}`, undefined, true);
    }
    if (this.rt.now() >= this.answerUntil()) {
      // CloudFormation has stopped waiting and failed the resource: an answer now would be thrown away.
      this.rt.log('CloudFormation no longer waits for this request: nothing done', { sentAt: new Date(this.progress?.startedAt ?? this.startedAt).toISOString() });
      this.done = true;
      return;
    }
    const budget = plan.action === 'invalidate' ? plan.settings.timeoutSeconds * 1000 : undefined;
    if (!this.progress && budget !== undefined && this.rt.now() >= this.startedAt + budget) {
      // The whole timeout went by before this invocation began (Lambda's queue, earlier attempts): say so, rather than fail at the first call.
      const ago = Math.round((this.rt.now() - this.startedAt) / 1000);
      return this.reply('FAILED', `Timed out after ${budget / 1000} s: CloudFormation sent this request ${ago} s before the handler could start on it`);
    }
    let decision: Decision;
    if (this.progress?.decided && plan.action === 'invalidate') {
      // A continuation: the decision was made by an earlier invocation.
      decision = { kind: 'invalidate', job: plan.job, settings: plan.settings, cleanup: this.progress.cleanup };
    } else {
      const late = needsLateCheck(this.event, plan) && await this.isLate();
      const stack = !late && needsStackStatus(this.event, plan) ? await this.readStack(plan) : {};
      if ('handoff' in stack) {
        // Out of time before the stack could be read: a fresh invocation decides, within the same budget.
        this.progress ??= { startedAt: this.startedAt, jobs: [], invocation: 1, cleanup: false, decided: false };
        return this.handOff();
      }
      decision = decide(this.event, plan, { late, ...stack });
    }
    switch (decision.kind) {
      case 'fail':
        return this.reply('FAILED', decision.reason);
      case 'answer': {
        this.rt.log(`${this.event.RequestType}: nothing to invalidate`, { status: decision.status, why: plan.action === 'none' ? plan.why : undefined });
        const until = Math.min(this.invocation.workUntil, this.rt.now() + RECALL_LIMIT_MS);
        const found = decision.recall ? await recall(this.rt, decision.recall, until) : NOTHING_RECALLED;
        return this.reply('SUCCESS', undefined, answerData(decision.status, found));
      }
      case 'invalidate': {
        const startedAt = this.progress?.startedAt ?? this.startedAt;
        let job = decision.job;
        let note = '';
        if (plan.action === 'invalidate' && plan.changedFiles && !decision.cleanup) {
          // Only the objects that changed; a rollback's cleanup purges the whole prefix, as the stack's rule does.
          const chosen = await changedFilesPlan(this.invocation, plan.changedFiles, startedAt + decision.settings.timeoutSeconds * 1000);
          job = withPaths(job, chosen.paths);
          note = chosen.note;
          this.rt.log('changed files', { note, paths: chosen.paths.length });
        }
        if (!this.progress?.decided) {
          const invocationCount = this.progress?.invocation ?? 1;
          this.progress = { startedAt, jobs: [freshJob(job.batches.length)], invocation: invocationCount, cleanup: decision.cleanup, decided: true };
        }
        this.rt.log('planned', {
          target: job.target,
          paths: job.batches.reduce((sum, b) => sum + b.paths.length, 0),
          batches: job.batches.length,
          callerReference: job.reference,
          cleanup: decision.cleanup,
        });
        return this.finish(job, decision.settings, await this.work(job, decision.settings), note);
      }
    }
  }

  private async work(job: Job, settings: Settings): Promise<PhaseOutcome> {
    const deadline = this.progress!.startedAt + settings.timeoutSeconds * 1000;
    const submitted = await submitJob(this.invocation, job, this.progress!.jobs[0], deadline);
    if (submitted.kind !== 'ok' || !settings.waitForCompletion) {
      return submitted;
    }
    return awaitJob(this.invocation, job, this.progress!.jobs[0], deadline);
  }

  private async finish(job: Job, settings: Settings, step: PhaseOutcome, note: string): Promise<void> {
    const progress = this.progress!;
    const { ids } = progress.jobs[0];
    // No batch (no changed file): nothing submitted, and no reference to name.
    const found = { ids: ids.filter((id) => id).join(','), callerReference: job.batches.length > 0 ? job.reference : '' };
    const submitted = { paths: job.batches.filter((b) => ids[b.number - 1]).flatMap((b) => b.paths), note };
    if (step.kind === 'handoff') {
      return this.handOff();
    }
    if (job.batches.length > 0) {
      logPurge(this.rt, job, progress.jobs[0], {
        cause: progress.cleanup ? 'cleanup' : 'deploy',
        outcome: step.kind === 'ok' ? (settings.waitForCompletion ? 'completed' : 'accepted') : step.kind === 'fail' ? 'failed' : 'timed out',
        startedAt: progress.startedAt,
        stackId: this.event.StackId,
        logicalResourceId: this.event.LogicalResourceId,
        reason: step.kind === 'fail' ? step.reason : step.kind === 'timeout' ? step.detail : undefined,
      });
    }
    if (progress.cleanup) {
      // A Delete never fails; what became of its purge goes to the log.
      this.rt.log(step.kind === 'ok' ? 'purged what the failed update had created' : 'could not purge what the failed update had created', { step, ids: found.ids });
      return this.reply('SUCCESS', undefined, answerData('Deleted'));
    }
    switch (step.kind) {
      case 'ok':
        return this.reply('SUCCESS', undefined, answerData(settings.waitForCompletion ? 'Completed' : 'Submitted', found, '', submitted));
      case 'fail':
        return this.reply('FAILED', step.reason);
      case 'timeout': {
        const reason = `Timed out after ${settings.timeoutSeconds} s: ${step.detail}`;
        if (ids.every((id) => id) && !settings.failOnTimeout) {
          return this.reply('SUCCESS', undefined, answerData('TimedOut', found, reason, submitted));
        }
        return this.reply('FAILED', reason);
      }
    }
  }

  /**
   * Passes the request to a new invocation. If that is impossible, a Create or Update fails; a
   * Delete (which never fails) throws instead, so that Lambda runs it again.
   */
  async handOff(): Promise<void> {
    if (this.done) {
      return;
    }
    // Stopped before deciding: the next invocation decides, within the same budget.
    const progress = this.progress ?? { startedAt: this.startedAt, jobs: [], invocation: 1, cleanup: false, decided: false };
    this.done = true;
    const next: RequestProgress = { ...progress, jobs: copyJobs(progress.jobs), invocation: progress.invocation + 1 };
    try {
      await this.rt.continueLater(this.event, next);
      this.rt.log('continuing in a new invocation', { invocation: next.invocation });
    } catch (e) {
      this.done = false;
      if (this.event.RequestType === 'Delete') {
        throw new Error(`Could not continue in a new invocation, so this one fails for Lambda to run it again: ${describeError(e)}`);
      }
      await this.reply('FAILED', `Could not continue in a new invocation: ${describeError(e)}`);
    }
  }

  /**
   * Answers FAILED for an unexpected error (SUCCESS for a Delete), unless the answer went out
   * already. An answer that could not be delivered fails the invocation, so that Lambda runs it again.
   */
  async crash(e: unknown): Promise<void> {
    if (e instanceof AnswerNotDelivered) {
      throw e;
    }
    const target = this.plan.action === 'invalidate' ? ` for ${describeTarget(this.plan.job.target)}` : '';
    await this.reply('FAILED', `Unexpected error${target}: ${describeError(e)}`);
  }

  /**
   * Whether this request is a late duplicate: CloudFormation keeps a resource `*_IN_PROGRESS` while
   * it waits for the answer, so a request for a resource in any other state (or gone) was answered
   * by an earlier delivery; so was one naming another physical id than the resource now has (an
   * earlier resource of the same logical id, replaced or deleted since). When that cannot be read,
   * the request is live: its CallerReference still keeps a second delivery from creating anything new.
   */
  private async isLate(): Promise<boolean> {
    let resource: ResourceState | undefined;
    try {
      const until = this.rt.now() + RESOURCE_STATUS_LIMIT_MS;
      resource = await this.rt.resourceStatus(this.event.StackId, this.event.LogicalResourceId, callSignal(this.invocation, until));
    } catch (e) {
      this.rt.log('could not read the resource status', { error: describeError(e) });
      return false;
    }
    const otherResource = resource?.physicalId !== undefined && resource.physicalId !== this.event.PhysicalResourceId;
    const late = resource?.status === undefined || !resource.status.endsWith('_IN_PROGRESS') || otherResource;
    if (late) {
      this.rt.log('a late duplicate: the resource is no longer being changed', { resourceStatus: resource?.status ?? 'gone', otherResource });
    }
    return late;
  }

  /**
   * The stack's status, read again after a pause while the read fails for a reason that may pass,
   * within what CloudFormation waits for the answer (a minute for a Delete); the last error when it
   * cannot be read.
   */
  private async readStack(plan: Plan): Promise<{ stackStatus?: string; stackStatusError?: string } | { handoff: true }> {
    const budget = plan.action === 'invalidate' ? plan.settings.timeoutSeconds * 1000 : 0;
    const startedAt = this.progress?.startedAt ?? this.startedAt;
    const limit = startedAt + (this.event.RequestType === 'Delete' ? Math.min(budget, DELETE_READ_LIMIT_MS) : budget);
    const denial = deniedFor(this.rt);
    // A call cut off at the deadline says nothing new: what CloudFormation said before is what the reason reports.
    let said: unknown;
    const read = await retry(async () => (await this.rt.stackStatus(this.event.StackId, callSignal(this.invocation, limit))).status, {
      pacing: within(this.invocation, limit),
      retryable: (e) => denial.retryable(e),
      failed: (e) => {
        this.rt.log('could not read the stack status', { error: describeError(e) });
        said = errorCode(e) === 'AbortError' ? said ?? e : e;
      },
    });
    if (read.kind === 'ok') {
      return { stackStatus: read.value };
    }
    return read.kind === 'handoff' ? { handoff: true } : { stackStatusError: serviceError('CloudFormation DescribeStacks', said) };
  }

  /**
   * Until when delivering the answer is worth trying: while CloudFormation waits for it, which is the
   * resource's ServiceTimeout (the timeout plus the answer margin) from when CloudFormation sent
   * the request; then Lambda's run ends (see index.ts).
   */
  private answerUntil(): number {
    const given = Number((this.event.ResourceProperties as { TimeoutSeconds?: unknown } | undefined)?.TimeoutSeconds);
    const seconds = Number.isInteger(given) && given > 0 && given <= MAX_TIMEOUT_SECONDS ? given : MAX_TIMEOUT_SECONDS;
    return (this.progress?.startedAt ?? this.startedAt) + (seconds + ANSWER_MARGIN_SECONDS) * 1000;
  }

  /** The final word of this request, unless it was given already. A Delete never fails. */
  private async reply(status: Answer['Status'], reason?: string, data?: Record<string, string>, refused = false): Promise<void> {
    if (this.done) {
      return;
    }
    if (this.event.RequestType === 'Delete' && status === 'FAILED' && !refused) {
      this.rt.log('a Delete never fails', { reason });
      return this.reply('SUCCESS', undefined, answerData('Deleted'));
    }
    this.done = true;
    this.rt.log(`answering ${status}`, { reason, data });
    const answer = { Status: status, Reason: reason, PhysicalResourceId: this.physicalId, Data: data ?? answerData('Failed') };
    this.sending = this.rt.answer(this.event, answer, this.answerUntil());
    try {
      await this.sending;
    } catch (e) {
      throw new AnswerNotDelivered(describeError(e));
    }
  }
}

/** The answer did not reach CloudFormation: the invocation fails so that Lambda delivers the request again. */
export class AnswerNotDelivered extends Error {}
