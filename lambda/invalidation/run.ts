/**
 * Carries one CloudFormation request through to its answer: plan, defer past a rollback, submit every
 * batch within CloudFront's limits, optionally wait for completion, and hand the rest to a fresh
 * invocation before this one runs out of time. All I/O goes through `Runtime`.
 */
import type { InvalidationApi, InvalidationState } from './cloudfront';
import { describeError, errorCode, isRetryable } from './cloudfront';
import type { Batch, Plan, Recall, Target, TargetRef } from './plan';
import { describeTarget, newPhysicalId, planRequest, rollbackCallerReference } from './plan';
import type { Answer, CloudFormationRequest } from './protocol';
import { GUARD_RESOURCE_TYPE } from '../../src/contract';
import { MAX_PATHS_IN_PROGRESS, MAX_WILDCARDS_IN_PROGRESS, pathKind } from '../../src/paths';

/** What one invocation hands the next. Everything else is recomputed from the request. */
export interface Progress {
  /** The CallerReference of this request's invalidations, before the batch number. */
  reference: string;
  /** Whether this is the purge after a rollback, with its own batches (see RollbackPurge). */
  afterRollback: boolean;
  /** When the current budget started (epoch ms): the first invocation, or the moment a rollback settled. */
  startedAt: number;
  /** Invalidation id per batch; empty while not accepted. */
  ids: string[];
  /** Whether each batch is known to be Completed. */
  completed: boolean[];
  /** The answer has been sent already (a rollback's purge runs after answering). */
  answered: boolean;
  /** Waiting for the stack's rollback to finish before submitting. */
  deferred: boolean;
  /** When to answer even if the work is not done (epoch ms): a Delete answers in time, then goes on. */
  answerBy?: number;
  /** How many invocations this request has used, this one included. */
  invocation: number;
}

export interface StackState {
  readonly status: string;
  readonly lastUpdatedTime?: string;
}

export interface Runtime {
  readonly api: InvalidationApi;
  /** Aborted when this invocation must stop at once. */
  readonly signal: AbortSignal;
  now(): number;
  /** Milliseconds this invocation has left before Lambda stops it. */
  remainingMs(): number;
  /** Resolves after `ms`, or rejects when the invocation is being stopped. */
  sleep(ms: number): Promise<void>;
  random(): number;
  /** The stack's status and the time of its last update; throws when they cannot be read. */
  stackStatus(stackId: string): Promise<StackState>;
  /** The physical id of a resource of the stack; throws when it cannot be read. */
  physicalId(stackId: string, logicalId: string): Promise<string>;
  /** The status of a resource of the stack, undefined when the stack has no such resource; throws when it cannot be read. */
  resourceStatus(stackId: string, logicalId: string): Promise<string | undefined>;
  /** Sends the answer to CloudFormation. */
  answer(event: CloudFormationRequest, answer: Answer): Promise<void>;
  /** Starts a new invocation of this function that resumes from `progress`. */
  continueLater(event: CloudFormationRequest, progress: Progress): Promise<void>;
  log(message: string, fields?: Record<string, unknown>): void;
}

/** How long a rollback may take before its purge goes ahead anyway. */
export const ROLLBACK_SETTLE_LIMIT_MS = 2 * 60 * 60 * 1000;
/** Pages of ListInvalidations read when counting what is in progress. */
const LIST_PAGES = 3;
/** In-progress invalidations of others whose paths are looked up; past that, CloudFront decides. */
const MAX_LOOKUPS = 25;
/** First pause between looks at a rolling-back stack's status; it doubles up to MAX_BACKOFF_MS. */
const FIRST_ROLLBACK_POLL_MS = 2000;
/** Newest invalidations read when recalling the ids an earlier request got for the same inputs. */
export const RECALL_LOOKUPS = 10;
const FIRST_BACKOFF_MS = 1000;
/** How long a Delete may take to read the stack status, and to submit a purge, before it answers. */
const DELETE_ANSWER_MS = 60_000;
/** A rollback guard's ServiceTimeout is 5 minutes: it reads the stack status for 4 at most. */
const GUARD_READ_LIMIT_MS = 4 * 60_000;
const MAX_BACKOFF_MS = 30_000;

type Step = { kind: 'ok' } | { kind: 'handoff' } | { kind: 'timeout'; detail: string } | { kind: 'fail'; reason: string };
const OK: Step = { kind: 'ok' };

/** The part of an invocation's time kept back for handing over or answering. */
export function reserveMs(totalMs: number): number {
  return Math.min(60_000, Math.max(3_000, Math.floor(totalMs * 0.2)));
}

export class RequestRun {
  private readonly plan: Plan;
  private readonly physicalId: string;
  private readonly workUntil: number;
  private progress: Progress | undefined;
  /** Paths of invalidations in progress that are not this request's, by id. */
  private readonly foreignPaths = new Map<string, readonly string[]>();
  /** This invocation has answered or handed over: whatever it still does must not act again. */
  private done = false;
  /** The answer on its way to CloudFormation, if one is. */
  private sending: Promise<void> | undefined;
  private resolvedTarget: Target | undefined;

  constructor(private readonly event: CloudFormationRequest, progress: Progress | undefined, private readonly rt: Runtime) {
    this.plan = planRequest(event);
    this.physicalId = event.RequestType === 'Create' ? newPhysicalId(event) : event.PhysicalResourceId ?? newPhysicalId(event);
    this.progress = progress;
    this.workUntil = rt.now() + rt.remainingMs() - reserveMs(rt.remainingMs());
  }

  /** The progress to resume from if this invocation has to stop now. */
  get currentProgress(): Progress | undefined {
    return this.progress;
  }

  /** Whether this invocation is finished: it answered, or handed the request on. */
  get finished(): boolean {
    return this.done;
  }

  /** Settles once an answer this invocation is sending has gone out (or failed). */
  async answerSent(): Promise<void> {
    await this.sending?.catch(() => undefined);
  }

  async run(): Promise<void> {
    const plan = this.plan;
    if (plan.action === 'none') {
      this.rt.log(`${this.event.RequestType}: nothing to invalidate, ${plan.why}`);
      if (this.event.RequestType === 'Delete') {
        return this.reply('SUCCESS', undefined, this.data('', 'Deleted'));
      }
      if (this.event.ResourceType === GUARD_RESOURCE_TYPE) {
        return this.reply('SUCCESS', undefined, this.data('', 'Armed'));
      }
      const previous = plan.recall ? await this.recall(plan.recall) : { ids: '', callerReference: '' };
      return this.reply('SUCCESS', undefined, this.data(previous.callerReference, 'Unchanged', previous.ids));
    }
    if (plan.action === 'fail') {
      return this.reply('FAILED', plan.reason);
    }
    if (!this.progress) {
      if (this.event.RequestType !== 'Create' && await this.isLate()) {
        return this.reply('SUCCESS', undefined, this.data('', this.event.RequestType === 'Delete' ? 'Deleted' : 'Late'));
      }
      let stack: Partial<StackState> = {};
      if (this.event.RequestType !== 'Create') {
        // Whether this is a rollback decides what to do: never guess it.
        const read = await this.readStack(this.readLimitMs(plan));
        if ('kind' in read) {
          if (this.event.RequestType === 'Delete') {
            // A Delete never fails: without the status, it cannot tell a rollback's cleanup, and purges nothing.
            this.rt.log('deleting without knowing the stack status', { reason: read.kind === 'fail' ? read.reason : read.kind });
            return this.reply('SUCCESS', undefined, this.data('', 'Deleted'));
          }
          return read.kind === 'fail' ? this.reply('FAILED', read.reason) : this.handOff();
        }
        stack = read;
      }
      const status = stack.status;
      const prefix = plan.callerReference.split('-')[0];
      const afterRollback = this.event.RequestType === 'Delete' || (status?.startsWith('UPDATE_ROLLBACK_') ?? false);
      const batches = afterRollback ? plan.rollbackPurge.batches : plan.batches;
      const progress: Progress = {
        reference: afterRollback
          ? rollbackCallerReference(plan.rollbackPurge.prefix, this.event.StackId, stack.lastUpdatedTime ?? this.event.RequestId)
          : plan.callerReference,
        afterRollback,
        startedAt: this.rt.now(),
        ids: batches.map(() => ''),
        completed: batches.map(() => false),
        answered: false,
        deferred: false,
        invocation: 1,
      };
      this.progress = progress;
      this.rt.log('planned', { target: plan.target, paths: plan.pathCount, batches: batches.length, callerReference: progress.reference, status });
      if (this.event.RequestType === 'Delete') {
        // A rollback guard, or an invalidation without one. Deleted in a rollback's cleanup, it was
        // created by the update that failed, which may have changed the content (and purged it, for
        // an invalidation) while nothing that stays will purge: purge, now that the content is back.
        if (status !== 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS') {
          return this.reply('SUCCESS', undefined, this.data('', 'Deleted'));
        }
        // Submit before answering, while the handler's policy is still there (an invalidation waits
        // for it, so CloudFormation deletes it after the answer); answer in time whatever happens.
        progress.answerBy = this.rt.now() + DELETE_ANSWER_MS;
        return this.finish(plan, await this.work(plan));
      }
      // CloudFormation sends Updates only while updating or rolling back; a rollback's request seen
      // later (Lambda delivered it again) finds the stack in another UPDATE_ROLLBACK_ state.
      const rollingBack = afterRollback;
      if (rollingBack && plan.rollback === 'guard') {
        // The rollback guard purges once the rollback is over; the attributes go back to the old deploy's.
        const previous = await this.recall({ target: plan.target, prefix });
        return this.reply('SUCCESS', undefined, this.data(previous.callerReference, 'RolledBack', previous.ids));
      }
      if (!rollingBack && !plan.forward) {
        return this.reply('SUCCESS', undefined, this.data('', 'Armed'));
      }
      if (rollingBack) {
        // The content may not have reverted yet: answer now so the rollback goes on, purge once it is over.
        // The answer restores the attributes of the deployment rolled back to, as a rollback should.
        progress.deferred = true;
        progress.answered = true;
        const previous = plan.forward ? await this.recall({ target: plan.target, prefix }) : { ids: '', callerReference: '' };
        // The purge goes to a fresh invocation before the answer: were this one to die after answering,
        // Lambda's retry of the request would find it late and leave the purge undone.
        const handedOn = await this.rt.continueLater(this.event, { ...progress, invocation: progress.invocation + 1 }).then(() => true, (e) => {
          this.rt.log('could not hand the purge on; purging in this invocation', { error: describeError(e) });
          return false;
        });
        await this.answer('SUCCESS', undefined, this.data(previous.callerReference, 'Deferred', previous.ids));
        if (handedOn) {
          this.done = true;
          this.rt.log('the purge goes on in a new invocation', { invocation: progress.invocation + 1 });
          return;
        }
      }
    }
    const step = await this.work(plan);
    await this.finish(plan, step);
  }

  private async work(plan: Extract<Plan, { action: 'invalidate' }>): Promise<Step> {
    const progress = this.progress!;
    if (progress.deferred) {
      const settled = await this.awaitRollback();
      if (settled.kind !== 'ok') {
        return settled;
      }
    }
    for (const batch of this.batches(plan)) {
      if (!progress.ids[batch.number - 1]) {
        const step = await this.submit(plan, batch);
        if (step.kind !== 'ok') {
          return step;
        }
      }
    }
    // Waiting only matters while CloudFormation waits for the answer.
    if (plan.settings.waitForCompletion && !progress.answered && this.event.RequestType !== 'Delete') {
      for (const batch of this.batches(plan)) {
        if (!progress.completed[batch.number - 1]) {
          const step = await this.awaitCompletion(plan, batch);
          if (step.kind !== 'ok') {
            return step;
          }
        }
      }
    }
    return OK;
  }

  private async awaitRollback(): Promise<Step> {
    const progress = this.progress!;
    let delay = FIRST_ROLLBACK_POLL_MS;
    for (;;) {
      let status: string | undefined;
      try {
        status = (await this.rt.stackStatus(this.event.StackId)).status;
      } catch (e) {
        if (this.rt.signal.aborted) {
          return { kind: 'handoff' };
        }
        // Not knowing is not settled: look again later, up to the limit.
        this.rt.log('could not read the stack status', { error: describeError(e) });
      }
      const overdue = this.rt.now() - progress.startedAt > ROLLBACK_SETTLE_LIMIT_MS;
      if ((status !== undefined && status !== 'UPDATE_ROLLBACK_IN_PROGRESS') || overdue) {
        this.rt.log('rollback settled, purging', { status });
        progress.deferred = false;
        progress.startedAt = this.rt.now();
        return OK;
      }
      const pause = await this.pause(delay, progress.startedAt + ROLLBACK_SETTLE_LIMIT_MS);
      if (pause.kind === 'handoff') {
        return pause;
      }
      delay = Math.min(delay * 2, MAX_BACKOFF_MS);
    }
  }

  /**
   * Whether this request is a late duplicate: CloudFormation keeps a resource `*_IN_PROGRESS` while
   * it waits for the answer, so a request for a resource in any other state (or gone) was answered
   * by an earlier delivery, which did or handed on its work.
   */
  private async isLate(): Promise<boolean> {
    let status: string | undefined;
    try {
      status = await this.rt.resourceStatus(this.event.StackId, this.event.LogicalResourceId);
    } catch (e) {
      // Not knowing, act: the CallerReference keeps a second delivery from creating anything new.
      this.rt.log('could not read the resource status', { error: describeError(e) });
      return false;
    }
    const late = status === undefined || !status.endsWith('_IN_PROGRESS');
    if (late) {
      this.rt.log('a late duplicate: the resource is no longer being changed', { resourceStatus: status ?? 'gone' });
    }
    return late;
  }

  /** How long reading the stack status may take, within what CloudFormation waits for the answer. */
  private readLimitMs(plan: Extract<Plan, { action: 'invalidate' }>): number {
    if (this.event.RequestType === 'Delete') {
      return DELETE_ANSWER_MS;
    }
    const budget = plan.settings.timeoutSeconds * 1000;
    return this.event.ResourceType === GUARD_RESOURCE_TYPE ? Math.min(budget, GUARD_READ_LIMIT_MS) : budget;
  }

  /**
   * The stack's status, read again after a pause while the read fails for a reason that may pass
   * (throttling, an unreachable endpoint), for `limitMs` at most; a `fail` when it cannot be read.
   */
  private async readStack(limitMs: number): Promise<StackState | Exclude<Step, { kind: 'ok' }>> {
    const until = Math.min(this.workUntil, this.rt.now() + limitMs);
    let delay = FIRST_BACKOFF_MS;
    for (;;) {
      try {
        return await this.rt.stackStatus(this.event.StackId);
      } catch (e) {
        if (this.rt.signal.aborted) {
          return { kind: 'handoff' };
        }
        const reason = `Could not read the status of stack ${this.event.StackId}, which decides whether this is a rollback: ${describeError(e)}`;
        if (!isRetryable(e)) {
          return { kind: 'fail', reason };
        }
        this.rt.log('could not read the stack status', { error: describeError(e) });
        const pause = await this.pause(delay, until);
        if (pause.kind !== 'ok') {
          return { kind: 'fail', reason };
        }
        delay = Math.min(delay * 2, MAX_BACKOFF_MS);
      }
    }
  }

  private async submit(plan: Extract<Plan, { action: 'invalidate' }>, batch: Batch): Promise<Step> {
    const progress = this.progress!;
    const deadline = this.deadline(plan);
    let delay = FIRST_BACKOFF_MS;
    let waitingFor = '';
    for (;;) {
      const room = await this.capacityProblem(plan, batch);
      if (progress.ids[batch.number - 1]) {
        this.rt.log('submitted before', { batch: batch.number, id: progress.ids[batch.number - 1] });
        return OK;
      }
      if (room) {
        waitingFor = room;
      } else {
        try {
          const created = await this.rt.api.create(await this.target(plan.target), this.reference(batch), batch.paths, this.rt.signal);
          progress.ids[batch.number - 1] = created.id;
          progress.completed[batch.number - 1] = created.status === 'Completed';
          this.rt.log('submitted', { batch: batch.number, of: this.batches(plan).length, id: created.id, paths: batch.paths.length, callerReference: this.reference(batch) });
          return OK;
        } catch (e) {
          if (this.rt.signal.aborted) {
            return { kind: 'handoff' };
          }
          if (!isRetryable(e)) {
            return { kind: 'fail', reason: `CloudFront rejected the invalidation of ${describeTarget(plan.target)} (${this.batchLabel(plan, batch)}): ${describeError(e)}` };
          }
          waitingFor = describeError(e);
          this.rt.log('retrying', { batch: batch.number, error: errorCode(e) });
        }
      }
      const pause = await this.pause(delay, deadline);
      if (pause.kind === 'timeout') {
        const pending = this.batches(plan).filter((b) => !progress.ids[b.number - 1]);
        return {
          kind: 'timeout',
          detail: `CloudFront has not accepted ${pending.length} of ${this.batches(plan).length} batches for ${describeTarget(plan.target)} (next: ${this.batchLabel(plan, batch)}); last: ${waitingFor}`,
        };
      }
      if (pause.kind !== 'ok') {
        return pause;
      }
      delay = Math.min(delay * 2, MAX_BACKOFF_MS);
    }
  }

  /**
   * Why the batch would pass CloudFront's in-progress limits now, or undefined when it fits (or
   * when what is in progress cannot be counted: then CloudFront has the last word).
   */
  private async capacityProblem(plan: Extract<Plan, { action: 'invalidate' }>, batch: Batch): Promise<string | undefined> {
    const own = new Map<string, readonly string[]>();
    this.batches(plan).forEach((b) => {
      const id = this.progress!.ids[b.number - 1];
      if (id) {
        own.set(id, b.paths);
      }
    });
    let inProgress: string[];
    try {
      const target = await this.target(plan.target);
      inProgress = (await this.rt.api.list(target, LIST_PAGES, this.rt.signal)).filter((i) => i.status !== 'Completed').map((i) => i.id);
    } catch (e) {
      this.rt.log('could not count invalidations in progress', { error: describeError(e) });
      return undefined;
    }
    let wildcards = 0;
    let others = 0;
    let lookups = 0;
    for (const id of inProgress) {
      let paths = own.get(id) ?? this.foreignPaths.get(id);
      if (!paths) {
        if (++lookups > MAX_LOOKUPS) {
          return undefined;
        }
        let state: InvalidationState;
        try {
          state = await this.rt.api.get(await this.target(plan.target), id, this.rt.signal);
        } catch (e) {
          this.rt.log('could not read an invalidation in progress', { id, error: describeError(e) });
          return undefined;
        }
        paths = state.paths ?? [];
        this.foreignPaths.set(id, paths);
        // One of this request's own batches, submitted by another delivery of it: nothing to submit.
        const mine = this.batches(plan).find((b) => state.callerReference === this.reference(b));
        if (mine) {
          this.progress!.ids[mine.number - 1] = id;
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

  private async awaitCompletion(plan: Extract<Plan, { action: 'invalidate' }>, batch: Batch): Promise<Step> {
    const progress = this.progress!;
    const id = progress.ids[batch.number - 1];
    const deadline = this.deadline(plan);
    for (;;) {
      const until = Math.min(deadline, this.workUntil);
      const seconds = Math.floor((until - this.rt.now()) / 1000);
      try {
        // One plain read first: the SDK's waiter takes every error for "not yet".
        const target = await this.target(plan.target);
        const state = await this.rt.api.get(target, id, this.rt.signal);
        if (state.status === 'Completed' || (seconds > 3 && await this.rt.api.waitCompleted(target, id, seconds, this.rt.signal))) {
          progress.completed[batch.number - 1] = true;
          this.rt.log('completed', { batch: batch.number, id });
          return OK;
        }
      } catch (e) {
        if (this.rt.signal.aborted) {
          return { kind: 'handoff' };
        }
        if (!isRetryable(e)) {
          return { kind: 'fail', reason: `Could not follow invalidation ${id} of ${describeTarget(plan.target)}: ${describeError(e)}` };
        }
        this.rt.log('retrying', { batch: batch.number, error: errorCode(e) });
      }
      const pause = await this.pause(FIRST_BACKOFF_MS, deadline);
      if (pause.kind === 'timeout') {
        const pending = this.batches(plan).filter((b) => !progress.completed[b.number - 1]).map((b) => progress.ids[b.number - 1]);
        return { kind: 'timeout', detail: `invalidations ${pending.join(', ')} of ${describeTarget(plan.target)} are still in progress` };
      }
      if (pause.kind !== 'ok') {
        return pause;
      }
    }
  }

  /**
   * The invalidations the most recent earlier request with the same inputs made (their CallerReference
   * starts with the same prefix), among the newest few of the target; empty when none is found.
   */
  private async recall(recall: Recall): Promise<{ ids: string; callerReference: string }> {
    try {
      const target = await this.target(recall.target);
      const newest = (await this.rt.api.list(target, 1, this.rt.signal)).slice(0, RECALL_LOOKUPS);
      const batches: Array<{ id: string; reference: string }> = [];
      for (const summary of newest) {
        const state = await this.rt.api.get(target, summary.id, this.rt.signal);
        const reference = state.callerReference ?? '';
        if (reference.startsWith(`${recall.prefix}-`) && (batches.length === 0 || base(reference) === base(batches[0].reference))) {
          batches.push({ id: state.id, reference });
        } else if (batches.length > 0) {
          break;
        }
      }
      batches.sort((a, b) => batchNumber(a.reference) - batchNumber(b.reference));
      this.rt.log('recalled earlier invalidations', { found: batches.length });
      return { ids: batches.map((b) => b.id).join(','), callerReference: batches.length ? base(batches[0].reference) : '' };
    } catch (e) {
      this.rt.log('could not recall earlier invalidations', { error: describeError(e) });
      return { ids: '', callerReference: '' };
    }
  }

  /** The batches of this request: its own, or a rollback's purge. */
  private batches(plan: Extract<Plan, { action: 'invalidate' }>): readonly Batch[] {
    return this.progress!.afterRollback ? plan.rollbackPurge.batches : plan.batches;
  }

  /** A batch's CallerReference. */
  private reference(batch: Batch): string {
    return `${this.progress!.reference}-${batch.number}`;
  }

  private batchLabel(plan: Extract<Plan, { action: 'invalidate' }>, batch: Batch): string {
    return `batch ${batch.number} of ${this.batches(plan).length}, ${batch.paths.length} paths, CallerReference ${this.reference(batch)}`;
  }

  /** The target with logical ids looked up in the stack (once; a guard does it after the rollback). */
  private async target(ref: TargetRef): Promise<Target> {
    if (!this.resolvedTarget) {
      const lookup = async (id: string | undefined, logicalId: string | undefined) =>
        id ?? (logicalId === undefined ? undefined : this.rt.physicalId(this.event.StackId, logicalId));
      const distributionId = (await lookup(ref.distributionId, ref.distributionLogicalId))!;
      const tenantId = await lookup(ref.tenantId, ref.tenantLogicalId);
      this.resolvedTarget = tenantId ? { distributionId, tenantId } : { distributionId };
    }
    return this.resolvedTarget;
  }

  /** Sleeps up to `ms` (with jitter), unless the deadline or this invocation's end comes first. */
  private async pause(ms: number, deadline: number): Promise<Step> {
    const progress = this.progress;
    if (progress?.answerBy !== undefined && !progress.answered && this.rt.now() >= progress.answerBy) {
      // A Delete answers in time, and goes on with its purge.
      progress.answered = true;
      await this.answer('SUCCESS', undefined, this.data('', 'Deleted'));
    }
    const now = this.rt.now();
    if (now >= deadline) {
      return { kind: 'timeout', detail: '' };
    }
    if (now >= this.workUntil) {
      return { kind: 'handoff' };
    }
    const jittered = ms / 2 + (this.rt.random() * ms) / 2;
    const answerIn = progress?.answerBy !== undefined && !progress.answered ? Math.max(0, progress.answerBy - now) : Infinity;
    try {
      await this.rt.sleep(Math.max(0, Math.min(jittered, deadline - now, this.workUntil - now, answerIn)));
    } catch {
      return { kind: 'handoff' };
    }
    return OK;
  }

  private deadline(plan: Extract<Plan, { action: 'invalidate' }>): number {
    return this.progress!.startedAt + plan.settings.timeoutSeconds * 1000;
  }

  private async finish(plan: Extract<Plan, { action: 'invalidate' }>, step: Step): Promise<void> {
    const progress = this.progress!;
    const ids = progress.ids.filter((id) => id).join(',');
    if (this.event.RequestType === 'Delete' && step.kind !== 'handoff') {
      // A Delete never fails; what became of its purge goes to the log.
      this.rt.log(step.kind === 'ok' ? 'purged after the rollback' : 'could not purge after the rollback', { step, ids });
      return this.reply('SUCCESS', undefined, this.data('', 'Deleted'));
    }
    switch (step.kind) {
      case 'ok':
        return this.reply('SUCCESS', undefined, this.data(progress.reference, plan.settings.waitForCompletion ? 'Completed' : 'Submitted', ids));
      case 'handoff':
        return this.handOff();
      case 'fail':
        return this.reply('FAILED', step.reason);
      case 'timeout': {
        const reason = `Timed out after ${plan.settings.timeoutSeconds} s: ${step.detail}`;
        const allSubmitted = progress.ids.every((id) => id);
        if (allSubmitted && !plan.settings.failOnTimeout) {
          return this.reply('SUCCESS', undefined, this.data(progress.reference, 'TimedOut', ids, reason));
        }
        return this.reply('FAILED', reason);
      }
    }
  }

  /** Passes the request to a new invocation; if that is impossible, answers FAILED. */
  async handOff(): Promise<void> {
    const progress = this.progress;
    if (!progress) {
      return this.reply('FAILED', 'The handler ran out of time before it could plan the request');
    }
    if (this.done) {
      return;
    }
    this.done = true;
    const next = { ...progress, ids: [...progress.ids], completed: [...progress.completed], invocation: progress.invocation + 1 };
    try {
      await this.rt.continueLater(this.event, next);
      this.rt.log('continuing in a new invocation', { invocation: next.invocation });
    } catch (e) {
      this.done = false;
      await this.reply('FAILED', `Could not continue in a new invocation: ${describeError(e)}`);
    }
  }

  /** Answers FAILED for an unexpected error, unless the answer went out already. */
  async crash(e: unknown): Promise<void> {
    const target = this.plan.action === 'invalidate' ? ` for ${describeTarget(this.plan.target)}` : '';
    await this.reply('FAILED', `Unexpected error${target}: ${describeError(e)}`);
  }

  private data(callerReference: string, status: string, ids = '', warning = ''): Record<string, string> {
    return {
      InvalidationIds: ids,
      InvalidationId: ids.split(',')[0],
      CallerReference: callerReference,
      Status: status,
      Warning: warning,
    };
  }

  /** The final word of this request: answers it, unless it was answered already (a rollback's purge). */
  private async reply(status: Answer['Status'], reason?: string, data?: Record<string, string>): Promise<void> {
    if (this.done) {
      return;
    }
    if (this.event.RequestType === 'Delete' && status === 'FAILED') {
      this.rt.log('a Delete never fails', { reason });
      return this.reply('SUCCESS', undefined, this.data('', 'Deleted'));
    }
    this.done = true;
    if (this.progress?.answered) {
      this.rt.log(status === 'SUCCESS' ? 'purge after rollback done' : 'purge after rollback failed', { reason, data });
      return;
    }
    await this.answer(status, reason, data);
  }

  private async answer(status: Answer['Status'], reason?: string, data?: Record<string, string>): Promise<void> {
    this.rt.log(`answering ${status}`, { reason, data });
    this.sending = this.rt.answer(this.event, { Status: status, Reason: reason, PhysicalResourceId: this.physicalId, Data: data ?? this.data('', 'Failed') });
    await this.sending;
  }
}

/** A batch's CallerReference without its batch number. */
function base(reference: string): string {
  return reference.replace(/-\d+$/, '');
}

function batchNumber(reference: string): number {
  return Number(/-(\d+)$/.exec(reference)?.[1] ?? 0);
}


