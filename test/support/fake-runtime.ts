/**
 * A fake of the handler's `Runtime` (lambda/invalidation/runtime.ts) for unit tests of its phases:
 * CloudFront's invalidations held in memory, CloudFormation and S3 answers and errors scripted per
 * operation, a clock that moves only when the handler sleeps or a call is told to take time, and
 * every call, pause, log line, answer and hand-over recorded. No SDK and no network.
 */
import type { InvalidationApi, InvalidationState, InvalidationSummary } from '../../lambda/invalidation/cloudfront';
import type { Target } from '../../lambda/invalidation/plan';
import type { Answer, CloudFormationRequest } from '../../lambda/invalidation/protocol';
import type { Invocation, Progress, ResourceState, Runtime, StackState, StackEventsPage } from '../../lambda/invalidation/runtime';
import { invocationOf } from '../../lambda/invalidation/runtime';
import { pathKind } from '../../src/shared/paths';

/** Every operation of the Runtime the fake answers (CloudFront's, CloudFormation's, S3's and the invocation's own). */
export type RuntimeOperation =
  | 'create' | 'get' | 'list' | 'waitCompleted'
  | 'stackStatus' | 'resourceStatus' | 'stackEvents' | 'readObject'
  | 'answer' | 'continueLater';

/** One call the handler made: the operation, its arguments (the signal left out) and when. */
export interface Call {
  readonly operation: RuntimeOperation;
  readonly args: readonly unknown[];
  readonly at: number;
}

/** What a scripted call does: answers a value, throws an error, or runs a function (which may move the clock). */
export type Scripted = { readonly value: unknown } | { readonly error: unknown } | { readonly run: (fake: FakeRuntime) => unknown };

/** An error as the AWS SDK throws it: its code as `name`, the HTTP status in `$metadata` when the service answered. */
export function awsError(name: string, httpStatusCode?: number, message = name): Error {
  return Object.assign(new Error(message), { name, $metadata: httpStatusCode === undefined ? {} : { httpStatusCode } });
}

/** An invalidation the fake CloudFront holds. */
export interface FakeInvalidation {
  readonly id: string;
  readonly target: string;
  readonly callerReference: string;
  readonly paths: readonly string[];
  readonly createTime: number;
  /** Completed once the clock reaches this (epoch ms); never when undefined. */
  completesAt?: number;
}

/** How a fake starts: its clock, the invocation's time left, what `random()` returns and how soon CloudFront completes. */
export interface FakeRuntimeOptions {
  /** The clock's start (epoch ms). @default 1_000_000_000 */
  readonly now?: number;
  /** How long this invocation has left at the start, in milliseconds. @default 900_000 */
  readonly remainingMs?: number;
  /** What `random()` returns: 1 makes every jittered pause the full delay. @default 1 */
  readonly random?: number;
  /** How long CloudFront takes to complete an invalidation, in milliseconds; never when undefined. @default undefined */
  readonly completeAfterMs?: number;
}

/** The fake. Each test makes its own. */
export class FakeRuntime implements Runtime {
  clock: number;
  /** When Lambda stops this invocation (epoch ms). */
  endsAt: number;
  randomValue: number;
  completeAfterMs: number | undefined;
  readonly calls: Call[] = [];
  /** Every pause the handler asked for, in milliseconds. */
  readonly sleeps: number[] = [];
  readonly logs: Array<{ readonly message: string; readonly fields: Record<string, unknown> }> = [];
  readonly answers: Array<{ readonly event: CloudFormationRequest; readonly answer: Answer; readonly until: number }> = [];
  readonly continuations: Array<{ readonly payload: object; readonly progress: Progress }> = [];
  /** CloudFront's invalidations, oldest first. */
  readonly invalidations: FakeInvalidation[] = [];
  /** What the S3 bucket holds, by `bucket/key`. */
  readonly objects = new Map<string, string>();
  readonly api: InvalidationApi;
  private readonly stop = new AbortController();
  private readonly scripts = new Map<RuntimeOperation, Scripted[]>();
  private readonly defaults = new Map<RuntimeOperation, Scripted>();
  private nextId = 1;

  constructor(options: FakeRuntimeOptions = {}) {
    this.clock = options.now ?? 1_000_000_000;
    this.endsAt = this.clock + (options.remainingMs ?? 900_000);
    this.randomValue = options.random ?? 1;
    this.completeAfterMs = options.completeAfterMs;
    this.api = {
      create: (target, callerReference, paths) => this.call('create', [target, callerReference, paths], () => this.create(target, callerReference, paths)),
      get: (target, id) => this.call('get', [target, id], () => this.get(target, id)),
      list: (target, pages, _signal, untilCompleted) => this.call('list', [target, pages, untilCompleted], () => this.list(target, pages, untilCompleted ?? false)),
      waitCompleted: (target, id, maxWaitSeconds) => this.call('waitCompleted', [target, id, maxWaitSeconds], () => this.waitCompleted(target, id, maxWaitSeconds)),
    };
  }

  /** The next calls of `operation` do these, in order, before it falls back to its default. */
  script(operation: RuntimeOperation, ...scripted: Scripted[]): this {
    this.scripts.set(operation, [...(this.scripts.get(operation) ?? []), ...scripted]);
    return this;
  }

  /** What `operation` does once its script is used up (CloudFront's and S3's default to the fake's state). */
  always(operation: RuntimeOperation, scripted: Scripted): this {
    this.defaults.set(operation, scripted);
    return this;
  }

  /** The calls of one operation. */
  callsOf(operation: RuntimeOperation): Call[] {
    return this.calls.filter((c) => c.operation === operation);
  }

  /** The log lines with this message. */
  logged(message: string): Array<Record<string, unknown>> {
    return this.logs.filter((l) => l.message === message).map((l) => l.fields);
  }

  /** Stops this invocation at once, as the time guard does. */
  abort(): void {
    this.stop.abort();
  }

  /** A view of this invocation for a phase, as the handler makes it. */
  invocation(): Invocation {
    return invocationOf(this);
  }

  /** Puts an invalidation in CloudFront, as another deploy or an earlier delivery would. */
  seed(
    target: Target, callerReference: string, paths: readonly string[], options: { completed?: boolean; createTime?: number } = {},
  ): FakeInvalidation {
    const invalidation: FakeInvalidation = {
      id: `I${this.nextId++}`,
      target: targetKey(target),
      callerReference,
      paths: [...paths],
      createTime: options.createTime ?? this.clock,
      completesAt: options.completed ? this.clock : undefined,
    };
    this.invalidations.push(invalidation);
    return invalidation;
  }

  // Runtime

  get signal(): AbortSignal {
    return this.stop.signal;
  }

  now(): number {
    return this.clock;
  }

  remainingMs(): number {
    return this.endsAt - this.clock;
  }

  random(): number {
    return this.randomValue;
  }

  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    if (this.stop.signal.aborted) {
      throw new Error('stopped');
    }
    this.clock += ms;
  }

  signalAt(epochMs: number): AbortSignal {
    return this.stop.signal.aborted || this.clock >= epochMs ? AbortSignal.abort() : new AbortController().signal;
  }

  stackStatus(stackId: string): Promise<StackState> {
    return this.call('stackStatus', [stackId], () => {
      throw new Error('stackStatus is not scripted');
    });
  }

  resourceStatus(stackId: string, logicalId: string): Promise<ResourceState | undefined> {
    return this.call('resourceStatus', [stackId, logicalId], () => undefined);
  }

  stackEvents(stackId: string, nextToken: string | undefined): Promise<StackEventsPage> {
    return this.call('stackEvents', [stackId, nextToken], () => ({ events: [] }));
  }

  readObject(bucket: string, key: string): Promise<string> {
    return this.call('readObject', [bucket, key], () => {
      const text = this.objects.get(`${bucket}/${key}`);
      if (text === undefined) {
        // S3 answers AccessDenied for a key the handler may read but that is not there.
        throw awsError('AccessDenied', 403);
      }
      return text;
    });
  }

  answer(event: CloudFormationRequest, answer: Answer, until: number): Promise<void> {
    return this.call('answer', [answer, until], () => {
      this.answers.push({ event, answer, until });
    });
  }

  continueLater(payload: object, progress: Progress): Promise<void> {
    return this.call('continueLater', [payload, progress], () => {
      this.continuations.push({ payload, progress });
    });
  }

  log(message: string, fields: Record<string, unknown> = {}): void {
    this.logs.push({ message, fields });
  }

  // The fake CloudFront

  private create(target: Target, callerReference: string, paths: readonly string[]): InvalidationState {
    const known = this.invalidations.find((i) => i.target === targetKey(target) && i.callerReference === callerReference);
    if (known) {
      return this.state(known);
    }
    const { wildcards, others } = this.inProgressLoad(target);
    const adding = paths.filter((p) => pathKind(p) === 'wildcard').length;
    // CloudFront's in-progress limits (docs/cloudfront.md, "Limits and paths").
    if (wildcards + adding > 15 || others + paths.length - adding > 3000) {
      throw awsError('TooManyInvalidationsInProgress', 400);
    }
    const invalidation = this.seed(target, callerReference, paths);
    invalidation.completesAt = this.completeAfterMs === undefined ? undefined : this.clock + this.completeAfterMs;
    return this.state(invalidation);
  }

  private get(target: Target, id: string): InvalidationState {
    const found = this.invalidations.find((i) => i.target === targetKey(target) && i.id === id);
    if (!found) {
      throw awsError('NoSuchInvalidation', 404);
    }
    return this.state(found);
  }

  private list(target: Target, pages: number, untilCompleted: boolean): InvalidationSummary[] {
    const newest = this.invalidations.filter((i) => i.target === targetKey(target)).reverse().map((i) => ({ id: i.id, status: this.status(i) }));
    const found: InvalidationSummary[] = [];
    for (let page = 0; page < pages && page * 100 < newest.length; page++) {
      found.push(...newest.slice(page * 100, page * 100 + 100));
      if (untilCompleted && found[found.length - 1].status === 'Completed') {
        break;
      }
    }
    return found;
  }

  private waitCompleted(target: Target, id: string, maxWaitSeconds: number): boolean {
    const found = this.get(target, id);
    const completesAt = this.invalidations.find((i) => i.id === found.id)?.completesAt;
    if (completesAt !== undefined && completesAt <= this.clock + maxWaitSeconds * 1000) {
      this.clock = Math.max(this.clock, completesAt);
      return true;
    }
    this.clock += maxWaitSeconds * 1000;
    return false;
  }

  private inProgressLoad(target: Target): { wildcards: number; others: number } {
    const paths = this.invalidations.filter((i) => i.target === targetKey(target) && this.status(i) !== 'Completed').flatMap((i) => i.paths);
    const wildcards = paths.filter((p) => pathKind(p) === 'wildcard').length;
    return { wildcards, others: paths.length - wildcards };
  }

  private status(invalidation: FakeInvalidation): string {
    return invalidation.completesAt !== undefined && invalidation.completesAt <= this.clock ? 'Completed' : 'InProgress';
  }

  private state(invalidation: FakeInvalidation): InvalidationState {
    const { id, callerReference, paths, createTime } = invalidation;
    return { id, status: this.status(invalidation), callerReference, paths, createTime };
  }

  /** Records the call, then does what is scripted next for it, its default, or `real`. */
  private async call<T>(operation: RuntimeOperation, args: readonly unknown[], real: () => T): Promise<T> {
    this.calls.push({ operation, args, at: this.clock });
    const scripted = this.scripts.get(operation)?.shift() ?? this.defaults.get(operation);
    if (scripted === undefined) {
      return real();
    }
    if ('error' in scripted) {
      throw scripted.error;
    }
    return ('value' in scripted ? scripted.value : scripted.run(this)) as T;
  }
}

function targetKey(target: Target): string {
  return target.tenantId ? `${target.distributionId}/${target.tenantId}` : target.distributionId;
}
