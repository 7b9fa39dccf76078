/**
 * Answering a CloudFormation request: the answer's data, the rule that a Delete never fails, and
 * giving the answer once, however many parts of an invocation reach their end.
 */
import { describeError } from './errors';
import type { Answer, CloudFormationRequest } from './protocol';
import type { Recalled } from './recall';
import { NOTHING_RECALLED } from './recall';
import type { Runtime } from './runtime';
import { ANSWER_MARGIN_SECONDS, ATTRIBUTES, MAX_TIMEOUT_SECONDS } from '../../src/shared/contract';
import { pathKind } from '../../src/shared/paths';

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

/** A request's final word as its course reaches it, before the rule that a Delete never fails. */
export interface Verdict {
  readonly status: Answer['Status'];
  readonly reason?: string;
  /** The answer's data; `answerData('Failed')` when absent. */
  readonly data?: Record<string, string>;
  /** The request is not for this handler: it is answered as it is, a Delete too. */
  readonly refused?: boolean;
  /**
   * For a failure that a fresh run of the invocation may mend: what the invocation fails with
   * instead of answering, when the request is a Delete (Lambda then runs it again).
   */
  readonly rerun?: string;
}

/**
 * A Delete never fails (I5, docs/invariants.md): a FAILED answer would keep CloudFormation from
 * deleting the resource and leave the stack stuck. The one place the rule is applied: every answer
 * passes through here. A Delete's answer is SUCCESS with the status `Deleted`, whatever its verdict
 * (a purge in a rollback's cleanup that could not be submitted included), but for a refused request,
 * which is answered as it is.
 *
 * @throws an Error with `verdict.rerun`, for a Delete whose failure a fresh run may mend: the
 * invocation fails, so that Lambda runs the Delete again.
 */
export function deleteNeverFails(event: Pick<CloudFormationRequest, 'RequestType'>, verdict: Verdict): Verdict {
  if (event.RequestType !== 'Delete' || verdict.refused) {
    return verdict;
  }
  if (verdict.status === 'FAILED' && verdict.rerun !== undefined) {
    throw new Error(verdict.rerun);
  }
  return { status: 'SUCCESS', data: answerData('Deleted') };
}

/**
 * Until when delivering the answer is worth trying: while CloudFormation waits for it, which is the
 * resource's ServiceTimeout (the timeout plus the answer margin) from when the request's budget
 * started (`startedAt`); then Lambda's run ends (see index.ts).
 */
export function answerUntil(event: CloudFormationRequest, startedAt: number): number {
  const given = Number((event.ResourceProperties as { TimeoutSeconds?: unknown } | undefined)?.TimeoutSeconds);
  const seconds = Number.isInteger(given) && given > 0 && given <= MAX_TIMEOUT_SECONDS ? given : MAX_TIMEOUT_SECONDS;
  return startedAt + (seconds + ANSWER_MARGIN_SECONDS) * 1000;
}

/** A request's last word in this invocation: one answer, or a hand-over, or nothing at all; never two. */
export class FinalWord {
  private closed = false;
  /** The answer on its way to CloudFormation, if one is. */
  private sending: Promise<void> | undefined;

  constructor(private readonly event: CloudFormationRequest, private readonly physicalId: string, private readonly rt: Runtime) {}

  /** Whether this invocation is finished with the request: it answered, or handed it on, or let it be. */
  get given(): boolean {
    return this.closed;
  }

  /** Takes the last word without answering (for a hand-over, or a request no longer waited for); false when it was taken already. */
  close(): boolean {
    const open = !this.closed;
    this.closed = true;
    return open;
  }

  /** Gives the last word back, after a hand-over that could not be made. */
  reopen(): void {
    this.closed = false;
  }

  /** Answers the verdict, as `deleteNeverFails` makes it, unless the last word was taken; throws when it could not be delivered. */
  async answer(verdict: Verdict, until: number): Promise<void> {
    if (this.closed) {
      return;
    }
    const kept = deleteNeverFails(this.event, verdict);
    if (kept !== verdict && verdict.status === 'FAILED') {
      this.rt.log('a Delete never fails', { reason: verdict.reason });
    }
    this.closed = true;
    this.rt.log(`answering ${kept.status}`, { reason: kept.reason, data: kept.data });
    const answer = { Status: kept.status, Reason: kept.reason, PhysicalResourceId: this.physicalId, Data: kept.data ?? answerData('Failed') };
    this.sending = this.rt.answer(this.event, answer, until);
    await this.sent();
  }

  /** Settles once an answer this invocation is sending has gone out; throws when it could not be delivered. */
  async sent(): Promise<void> {
    try {
      await this.sending;
    } catch (e) {
      throw new AnswerNotDelivered(describeError(e));
    }
  }
}

/** The answer did not reach CloudFormation: the invocation fails so that Lambda delivers the request again. */
export class AnswerNotDelivered extends Error {}
