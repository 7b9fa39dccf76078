/**
 * A Lambda stand-in: runs a function's real code in warm worker processes, one invocation per
 * worker at a time, stops an invocation at its timeout the way Lambda does (the environment is
 * thrown away), retries failed asynchronous invocations twice, keeps each function's resource-based
 * policy (who else may invoke it: AWS::Lambda::Permission), and serves the Invoke API so the
 * function can start new invocations of itself (AWS_ENDPOINT_URL_LAMBDA). The worker processes are
 * `lambda-environments.ts`'s, the policies `lambda-permissions.ts`'s and the Invoke API
 * `lambda-invoke-api.ts`'s; this module holds the deployed functions and the asynchronous queue.
 *
 * Asynchronous invocation (docs/eventbridge.md, "Retries: EventBridge, then Lambda"): on a function error or timeout Lambda
 * retries twice; an event whose every attempt failed goes to the function's own dead-letter queue
 * (its DeadLetterConfig) when it has one, and is otherwise discarded. That queue is the function's,
 * not the one an EventBridge rule's target names: EventBridge's only receives what EventBridge
 * itself could not hand to Lambda (see eventbridge.ts).
 */
import { randomUUID } from 'crypto';
import { ExecutionEnvironments } from './lambda-environments';
import type { FunctionConfig, InvocationRecord } from './lambda-environments';
import { serveInvoke } from './lambda-invoke-api';
import { ResourcePolicies } from './lambda-permissions';
import type { PermissionStatement } from './lambda-permissions';
import { listening, LocalServer } from './local-server';

/** An asynchronous event that failed on every attempt (Lambda's two retries included). */
export interface AsyncFailure {
  readonly functionName: string;
  readonly source: InvocationRecord['source'];
  readonly payload: unknown;
  readonly error?: string;
  /** The function's dead-letter queue the event went to; undefined when Lambda discarded it. */
  readonly deadLetterArn?: string;
}

/** How the Lambda stand-in behaves: the delays of its retries, and IAM for its Invoke API. */
export interface LambdaEmulatorOptions {
  /** Delays before Lambda's two retries of a failed asynchronous invocation. @default [100, 200] */
  readonly retryDelaysMs?: readonly [number, number];
  /** IAM for the Invoke API: may the caller perform `lambda:<action>` on the ARN? */
  readonly authorize?: (action: string, resourceArn: string) => boolean;
}

/** The Lambda stand-in: deployed functions, their invocations and policies, and the Invoke API. */
export class LambdaEmulator {
  public static async start(options: LambdaEmulatorOptions = {}): Promise<LambdaEmulator> {
    return listening(new LambdaEmulator(options), (emulator) => emulator.server);
  }

  public readonly invocations: InvocationRecord[] = [];
  /** Asynchronous events that failed on every attempt, in order. */
  public readonly asyncFailures: AsyncFailure[] = [];
  private readonly functions = new Map<string, FunctionConfig>();
  private readonly policies = new ResourcePolicies();
  private readonly environments = new ExecutionEnvironments();
  private readonly server: LocalServer;
  private pending = 0;
  private idleWaiters: Array<() => void> = [];
  private closed = false;

  private constructor(private readonly options: LambdaEmulatorOptions) {
    this.server = new LocalServer((req, res) => serveInvoke(req, res, {
      lookup: (functionName) => this.functions.get(functionName),
      authorize: options.authorize,
      invokeAsync: (fn, payload) => this.enqueue(fn, payload, 'invoke-api', 1),
    }));
  }

  /** The base URL, for AWS_ENDPOINT_URL_LAMBDA. */
  public get endpoint(): string {
    return this.server.endpoint;
  }

  /** Deploys a function, or new code or settings for it: environments of the old version are retired. */
  public register(fn: FunctionConfig): void {
    this.functions.set(fn.name, fn);
    this.functions.set(fn.arn, fn);
    this.environments.retireIdle(fn.name);
  }

  /** Removes a function: asynchronous invocations still queued for it are dropped, and so is its policy. */
  public unregister(name: string): void {
    const fn = this.functions.get(name);
    if (fn) {
      this.functions.delete(fn.name);
      this.functions.delete(fn.arn);
      this.policies.drop(fn.name);
    }
  }

  /** Whether a function of that name or ARN is deployed. */
  public has(functionName: string): boolean {
    return this.functions.has(functionName);
  }

  /** AddPermission: a statement of the function's resource-based policy (AWS::Lambda::Permission). */
  public addPermission(functionName: string, statementId: string, statement: PermissionStatement): void {
    this.policies.add(functionName, statementId, statement);
  }

  /** RemovePermission. */
  public removePermission(functionName: string, statementId: string): void {
    this.policies.remove(functionName, statementId);
  }

  /** Whether the function's resource-based policy lets a service principal invoke it on behalf of a source. */
  public permits(principal: string, functionName: string, sourceArn: string): boolean {
    return this.policies.permits(principal, functionName, sourceArn);
  }

  /** Invokes a function asynchronously, as an event source such as CloudFormation does. */
  public invokeAsync(functionName: string, payload: unknown): void {
    const fn = this.functions.get(functionName);
    if (!fn) {
      throw new Error(`no function ${functionName}`);
    }
    this.enqueue(fn, payload, 'event', 1);
  }

  /** Resolves once no invocation is running or waiting to run (retries included). */
  public idle(): Promise<void> {
    return this.pending === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Kills the environment running an invocation of this function, as a crash or out-of-memory would. */
  public crash(functionName: string): boolean {
    return this.environments.crash(functionName);
  }

  /**
   * Makes the running invocations whose payload matches die at once, as a runtime crash or an
   * out-of-memory kill would; Lambda retries them like any failed asynchronous invocation.
   */
  public crashWhere(match: (payload: unknown) => boolean): number {
    return this.environments.crashWhere(match);
  }

  /** Logs of every invocation, in order. */
  public logs(): string {
    return this.invocations.map((i) => i.logs.join('')).join('');
  }

  public async close(): Promise<void> {
    this.closed = true;
    this.environments.killAll();
    await this.server.close();
  }

  private enqueue(fn: FunctionConfig, payload: unknown, source: InvocationRecord['source'], attempt: number, delayMs = 0): void {
    this.pending++;
    const run = () => {
      if (this.closed) {
        return this.done();
      }
      void this.run(fn, payload, source, attempt).finally(() => this.done());
    };
    if (delayMs > 0) {
      setTimeout(run, delayMs);
    } else {
      setImmediate(run);
    }
  }

  private done(): void {
    this.pending--;
    if (this.pending === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      waiters.forEach((w) => w());
    }
  }

  private async run(queued: FunctionConfig, payload: unknown, source: InvocationRecord['source'], attempt: number): Promise<void> {
    const record: InvocationRecord = { id: randomUUID(), functionName: queued.name, source, attempt, payload, startedAt: Date.now(), logs: [] };
    this.invocations.push(record);
    // A function deployed again runs its new code from the next invocation on; a deleted one runs nothing.
    const fn = this.functions.get(queued.name);
    if (!fn) {
      record.endedAt = Date.now();
      record.outcome = 'error';
      record.error = `Function not found: ${queued.name}`;
      return;
    }
    const outcome = await this.environments.invoke(fn, record);
    record.endedAt = Date.now();
    record.outcome = outcome.outcome;
    record.error = outcome.error;
    // Both sources are asynchronous invocations, which Lambda retries twice.
    if (outcome.outcome !== 'ok' && attempt <= 2) {
      const delays = this.options.retryDelaysMs ?? [100, 200];
      this.enqueue(fn, payload, source, attempt + 1, delays[attempt - 1]);
    } else if (outcome.outcome !== 'ok') {
      this.asyncFailures.push({ functionName: fn.name, source, payload, error: outcome.error, deadLetterArn: fn.deadLetterArn });
    }
  }
}
