/**
 * What every phase of the handler shares: the I/O it may do (`Runtime`), the outcome of a phase
 * (`PhaseOutcome`), and pausing within the time this invocation and the request have left.
 */
import { MAX_RESERVE_MS, MIN_RESERVE_MS, RESERVE_SHARE } from './budgets';
import type { InvalidationApi } from './cloudfront';
import type { Answer, CloudFormationRequest } from './protocol';

/** The stack's status, as DescribeStacks gives it. */
export interface StackState {
  readonly status: string;
  readonly lastUpdatedTime?: string;
}

/** A resource of the stack, as DescribeStackResource gives it. */
export interface ResourceState {
  readonly status?: string;
  /** Absent while a resource is being created. */
  readonly physicalId?: string;
}

/** An event of the stack, as DescribeStackEvents gives it. */
export interface StackEvent {
  readonly logicalId: string;
  readonly resourceType: string;
  readonly status: string;
  /** Epoch ms. */
  readonly timestamp: number;
  /** The resolved properties CloudFormation used, as JSON; on a resource's `*_IN_PROGRESS` events of a create or update. */
  readonly properties?: string;
}

/** A page of the stack's events, newest first. */
export interface StackEventsPage {
  readonly events: readonly StackEvent[];
  readonly nextToken?: string;
}

/** How far the invalidations of one job got. */
export interface JobProgress {
  /** Invalidation id per batch; empty while not accepted. */
  readonly ids: string[];
  /** Whether each batch is known to be Completed. */
  readonly completed: boolean[];
  /** When every batch had been accepted (epoch ms), as far as this handler saw it. */
  acceptedAt?: number;
  /** When every batch was known to be Completed (epoch ms), with `waitForCompletion`. */
  completedAt?: number;
  /**
   * How many batches CloudFront created for this run of the request or event: a batch whose
   * CallerReference it already knew (a repeated request, a retried invocation) is not counted.
   */
  created?: number;
}

/** What a handler invocation hands the next one, besides the request or event itself. */
export interface Progress {
  /** When the request's budget started (epoch ms): its first invocation. */
  readonly startedAt: number;
  /** One entry per job, in order. */
  readonly jobs: JobProgress[];
  /** How many invocations this request has used, this one included. */
  readonly invocationCount: number;
}

/** Progress of a job none of whose batches has been submitted. */
export function freshJob(batches: number): JobProgress {
  return { ids: Array.from({ length: batches }, () => ''), completed: Array.from({ length: batches }, () => false) };
}

/** All the I/O the handler does; tests of the phases may supply their own. */
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
  /** A signal aborted at `epochMs`, or sooner when this invocation must stop (`signal`). */
  signalAt(epochMs: number): AbortSignal;
  /** The stack's status; throws when it cannot be read. */
  stackStatus(stackId: string, signal: AbortSignal): Promise<StackState>;
  /**
   * The status and physical id of a resource of the stack, undefined when the stack has no such
   * resource; throws when it cannot be read.
   */
  resourceStatus(stackId: string, logicalId: string, signal: AbortSignal): Promise<ResourceState | undefined>;
  /** A page of the stack's events, newest first; throws when it cannot be read. */
  stackEvents(stackId: string, nextToken: string | undefined, signal: AbortSignal): Promise<StackEventsPage>;
  /** The text of an S3 object (a changedFiles manifest); throws when it cannot be read, S3's error code in `name`. */
  readObject(bucket: string, key: string, signal: AbortSignal): Promise<string>;
  /** Sends the answer to CloudFormation; throws when it could not be delivered. */
  answer(event: CloudFormationRequest, answer: Answer, until: number): Promise<void>;
  /** Starts a new invocation of this function that resumes `payload` from `progress`; throws when it cannot. */
  continueLater(payload: object, progress: Progress): Promise<void>;
  log(message: string, fields?: Record<string, unknown>): void;
}

/** How a phase ended. */
export type PhaseOutcome =
  | { readonly kind: 'ok' }
  /** This invocation is out of time: the rest goes to a fresh one. */
  | { readonly kind: 'handoff' }
  | { readonly kind: 'timeout'; readonly detail: string }
  | { readonly kind: 'fail'; readonly reason: string };

/** The outcome of a phase that did all it had to. */
export const OK: PhaseOutcome = { kind: 'ok' };

/** The part of an invocation's time kept back for handing over or answering (budgets.ts, `RESERVE_SHARE`). */
export function reserveMs(totalMs: number): number {
  return Math.min(MAX_RESERVE_MS, Math.max(MIN_RESERVE_MS, Math.floor(totalMs * RESERVE_SHARE)));
}

/** A phase's view of the invocation: its I/O and when it must stop working to hand over. */
export interface Invocation {
  readonly rt: Runtime;
  /** Epoch ms after which this invocation stops working and hands over. */
  readonly workUntil: number;
}

/** An invocation that may work until the reserve it keeps for handing over or answering. */
export function invocationOf(rt: Runtime): Invocation {
  return { rt, workUntil: rt.now() + rt.remainingMs() - reserveMs(rt.remainingMs()) };
}

/**
 * The signal for one AWS call: every call is bounded by the deadline of what it serves and by this
 * invocation's working time, besides the SDK's own socket timeouts.
 */
export function callSignal(invocation: Invocation, deadline: number): AbortSignal {
  return invocation.rt.signalAt(Math.min(deadline, invocation.workUntil));
}

/**
 * Sleeps about `ms` (with jitter), unless the deadline or this invocation's end comes first: then
 * `timeout` or `handoff` at once.
 */
export async function pause(invocation: Invocation, ms: number, deadline: number): Promise<PhaseOutcome> {
  const now = invocation.rt.now();
  if (now >= deadline) {
    return { kind: 'timeout', detail: '' };
  }
  if (now >= invocation.workUntil) {
    return { kind: 'handoff' };
  }
  const jittered = ms / 2 + (invocation.rt.random() * ms) / 2;
  try {
    await invocation.rt.sleep(Math.max(0, Math.min(jittered, deadline - now, invocation.workUntil - now)));
  } catch {
    return { kind: 'handoff' };
  }
  return OK;
}
