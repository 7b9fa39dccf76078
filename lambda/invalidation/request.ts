/**
 * Carries one CloudFormation request through its phases: gather what the stack says (facts.ts),
 * decide (decide.ts), purge (request-purge.ts: submit.ts within limits, wait.ts with
 * `waitForCompletion`), answer (answer.ts); handing the rest to a fresh invocation (handover.ts)
 * when this one runs out of time. All I/O goes through `Runtime`.
 */
import type { Verdict } from './answer';
import { AnswerNotDelivered, answerData, answerUntil, FinalWord } from './answer';
import { RECALL_LIMIT_MS } from './budgets';
import { refusal } from './decide';
import { describeError } from './errors';
import { decideRequest } from './facts';
import { handOver } from './handover';
import type { Plan } from './plan';
import { describeTarget, newPhysicalId, planRequest } from './plan';
import type { CloudFormationRequest } from './protocol';
import { requestSentAt } from './protocol';
import { NOTHING_RECALLED, recall } from './recall';
import type { RequestProgress } from './request-purge';
import { preparePurge, purge } from './request-purge';
import type { Invocation, Runtime } from './runtime';
import { invocationOf } from './runtime';

export class RequestRun {
  private readonly plan: Plan;
  private readonly invocation: Invocation;
  private readonly refused: string | undefined;
  private readonly finalWord: FinalWord;
  /**
   * When the request's budget starts, unless this invocation continues an earlier one: when CloudFormation sent it (its
   * ResponseURL tells), so that time in Lambda's queue and in earlier attempts counts; else this invocation's start.
   */
  private readonly startedAt: number;

  constructor(
    private readonly event: CloudFormationRequest, private progress: RequestProgress | undefined, private readonly rt: Runtime, ownStackId?: string,
  ) {
    this.refused = refusal(event, ownStackId);
    this.plan = this.refused ? { action: 'fail', reason: this.refused } : planRequest(event);
    // Echo the id CloudFormation gave: a new one on Update would read as a replacement.
    this.finalWord = new FinalWord(event, event.PhysicalResourceId || (this.refused ? 'not-created' : newPhysicalId(event)), rt);
    this.invocation = invocationOf(rt);
    this.startedAt = Math.min(rt.now(), requestSentAt(event) ?? Infinity);
  }

  /** Whether this invocation is finished: it answered, or handed the request on. */
  get finished(): boolean {
    return this.finalWord.given;
  }

  /** Settles once an answer this invocation is sending has gone out; throws when it could not be delivered. */
  async answerSent(): Promise<void> {
    return this.finalWord.sent();
  }

  async run(): Promise<void> {
    const plan = this.plan;
    if (this.refused) {
      this.rt.log('refused a request that is not for this handler', { reason: this.refused });
      return this.reply({ status: 'FAILED', reason: `Refused: ${this.refused}`, refused: true });
    }
    if (this.rt.now() >= this.answerUntil()) {
      // CloudFormation has stopped waiting and failed the resource: an answer now would be thrown away.
      this.rt.log('CloudFormation no longer waits for this request: nothing done', { sentAt: new Date(this.since).toISOString() });
      this.finalWord.close();
      return;
    }
    const budget = plan.action === 'invalidate' ? plan.settings.timeoutSeconds * 1000 : undefined;
    if (!this.progress && budget !== undefined && this.rt.now() >= this.startedAt + budget) {
      // The whole timeout went by before this invocation began (Lambda's queue, earlier attempts): say so, rather than fail at the first call.
      const ago = Math.round((this.rt.now() - this.startedAt) / 1000);
      return this.reply({ status: 'FAILED', reason: `Timed out after ${budget / 1000} s: CloudFormation sent this request ${ago} s before the handler could start on it` });
    }
    const decision = await decideRequest(this.invocation, this.event, plan, this.progress, this.since);
    switch (decision.kind) {
      case 'handoff':
        return this.handOff();
      case 'fail':
        return this.reply({ status: 'FAILED', reason: decision.reason });
      case 'answer': {
        this.rt.log(`${this.event.RequestType}: nothing to invalidate`, {
          status: decision.status,
          why: plan.action === 'none' ? plan.why : plan.action === 'fail' ? plan.reason : undefined,
        });
        const until = Math.min(this.invocation.workUntil, this.rt.now() + RECALL_LIMIT_MS);
        const found = decision.recall ? await recall(this.rt, decision.recall, until) : NOTHING_RECALLED;
        return this.reply({ status: 'SUCCESS', data: answerData(decision.status, found) });
      }
      case 'invalidate': {
        const prepared = await preparePurge(this.invocation, plan, decision, this.progress, this.since);
        this.progress = prepared.progress;
        const verdict = await purge(this.invocation, this.event, prepared);
        return verdict ? this.reply(verdict) : this.handOff();
      }
    }
  }

  /**
   * Passes the request to a new invocation. If that is impossible, a Create or Update fails; a
   * Delete throws instead, so that Lambda runs it again (answer.ts, `deleteNeverFails`).
   */
  async handOff(): Promise<void> {
    if (!this.finalWord.close()) {
      return;
    }
    // Stopped before deciding: the next invocation decides, within the same budget.
    const progress = this.progress ?? { startedAt: this.startedAt, jobs: [], invocationCount: 1, cleanup: false, decided: false };
    try {
      const next = await handOver(this.rt, this.event, progress);
      this.rt.log('continuing in a new invocation', { invocationCount: next.invocationCount });
    } catch (e) {
      this.finalWord.reopen();
      const rerun = `Could not continue in a new invocation, so this one fails for Lambda to run it again: ${describeError(e)}`;
      await this.reply({ status: 'FAILED', reason: `Could not continue in a new invocation: ${describeError(e)}`, rerun });
    }
  }

  /**
   * Answers FAILED for an unexpected error (a Delete: `deleteNeverFails`), unless the answer went out
   * already. An answer that could not be delivered fails the invocation, so that Lambda runs it again.
   */
  async crash(e: unknown): Promise<void> {
    if (e instanceof AnswerNotDelivered) {
      throw e;
    }
    const target = this.plan.action === 'invalidate' ? ` for ${describeTarget(this.plan.job.target)}` : '';
    await this.reply({ status: 'FAILED', reason: `Unexpected error${target}: ${describeError(e)}` });
  }

  /** When the request's budget started: its first invocation's `startedAt`. */
  private get since(): number {
    return this.progress?.startedAt ?? this.startedAt;
  }

  private answerUntil(): number {
    return answerUntil(this.event, this.since);
  }

  /** The final word of this request, unless it was given already. */
  private async reply(verdict: Verdict): Promise<void> {
    return this.finalWord.answer(verdict, this.answerUntil());
  }
}
