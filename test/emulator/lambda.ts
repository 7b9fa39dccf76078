/**
 * A Lambda stand-in: runs a function's real code in warm worker processes, one invocation per
 * worker at a time, stops an invocation at its timeout the way Lambda does (the environment is
 * thrown away), retries failed asynchronous invocations twice, keeps each function's resource-based
 * policy (who else may invoke it: AWS::Lambda::Permission), and serves the Invoke API so the
 * function can start new invocations of itself (AWS_ENDPOINT_URL_LAMBDA).
 *
 * Asynchronous invocation (docs/eventbridge.md, "Retries: EventBridge, then Lambda"): on a function error or timeout Lambda
 * retries twice; an event whose every attempt failed goes to the function's own dead-letter queue
 * (its DeadLetterConfig) when it has one, and is otherwise discarded. That queue is the function's,
 * not the one an EventBridge rule's target names: EventBridge's only receives what EventBridge
 * itself could not hand to Lambda (see eventbridge.ts).
 */
import { fork } from 'child_process';
import type { ChildProcess } from 'child_process';
import { randomUUID } from 'crypto';
import * as http from 'http';
import * as path from 'path';
import { LocalServer, readBody } from './local-server';

export interface FunctionConfig {
  readonly name: string;
  readonly arn: string;
  /** Directory holding the function's code (the asset directory). */
  readonly codeDir: string;
  /** `file.export`, as in Lambda's Handler setting. */
  readonly handler: string;
  readonly timeoutMs: number;
  /** Environment of the execution environment (AWS_ENDPOINT_URL_* and credentials included). */
  readonly env: Record<string, string>;
  /** The function's DeadLetterConfig.TargetArn: where asynchronous events go once every attempt failed. */
  readonly deadLetterArn?: string;
}

/** One statement of a function's resource-based policy, as AWS::Lambda::Permission adds it. */
export interface PermissionStatement {
  /** `lambda:InvokeFunction`, or a wildcard such as `lambda:*`. */
  readonly action: string;
  /** A service principal (`events.amazonaws.com`) or an account. */
  readonly principal: string;
  /** Only this source (a rule's ARN) may invoke, when given. */
  readonly sourceArn?: string;
  readonly sourceAccount?: string;
}

/** An asynchronous event that failed on every attempt (Lambda's two retries included). */
export interface AsyncFailure {
  readonly functionName: string;
  readonly source: InvocationRecord['source'];
  readonly payload: unknown;
  readonly error?: string;
  /** The function's dead-letter queue the event went to; undefined when Lambda discarded it. */
  readonly deadLetterArn?: string;
}

export type InvocationOutcome = 'ok' | 'error' | 'timeout' | 'crash';

export interface InvocationRecord {
  readonly id: string;
  readonly functionName: string;
  readonly source: 'event' | 'invoke-api';
  readonly attempt: number;
  readonly payload: unknown;
  readonly startedAt: number;
  endedAt?: number;
  outcome?: InvocationOutcome;
  error?: string;
  /** Everything the invocation wrote to stdout and stderr. */
  logs: string[];
}

export interface LambdaEmulatorOptions {
  /** Delays before Lambda's two retries of a failed asynchronous invocation. @default [100, 200] */
  readonly retryDelaysMs?: readonly [number, number];
  /** IAM for the Invoke API: may the caller perform `lambda:<action>` on the ARN? */
  readonly authorize?: (action: string, resourceArn: string) => boolean;
}

interface Worker {
  readonly process: ChildProcess;
  readonly fn: FunctionConfig;
  busy: boolean;
  ready: Promise<void>;
  current?: { record: InvocationRecord; finish: (outcome: InvocationOutcome, error?: string) => void };
}

export class LambdaEmulator {
  public static async start(options: LambdaEmulatorOptions = {}): Promise<LambdaEmulator> {
    const emulator = new LambdaEmulator(options);
    await emulator.server.listen();
    return emulator;
  }

  public readonly invocations: InvocationRecord[] = [];
  /** Asynchronous events that failed on every attempt, in order. */
  public readonly asyncFailures: AsyncFailure[] = [];
  private readonly functions = new Map<string, FunctionConfig>();
  /** Resource-based policies by function name, then statement id. */
  private readonly policies = new Map<string, Map<string, PermissionStatement>>();
  private readonly workers: Worker[] = [];
  private readonly server: LocalServer;
  private pending = 0;
  private idleWaiters: Array<() => void> = [];
  private closed = false;

  private constructor(private readonly options: LambdaEmulatorOptions) {
    this.server = new LocalServer((req, res) => this.handleApi(req, res));
  }

  /** The base URL, for AWS_ENDPOINT_URL_LAMBDA. */
  public get endpoint(): string {
    return this.server.endpoint;
  }

  /** Deploys a function, or new code or settings for it: environments of the old version are retired. */
  public register(fn: FunctionConfig): void {
    this.functions.set(fn.name, fn);
    this.functions.set(fn.arn, fn);
    for (const w of [...this.workers]) {
      if (w.fn.name === fn.name && !w.busy) {
        this.discard(w);
      }
    }
  }

  /** Removes a function: asynchronous invocations still queued for it are dropped, and so is its policy. */
  public unregister(name: string): void {
    const fn = this.functions.get(name);
    if (fn) {
      this.functions.delete(fn.name);
      this.functions.delete(fn.arn);
      this.policies.delete(fn.name);
    }
  }

  /** Whether a function of that name or ARN is deployed. */
  public has(functionName: string): boolean {
    return this.functions.has(functionName);
  }

  /** AddPermission: a statement of the function's resource-based policy (AWS::Lambda::Permission). */
  public addPermission(functionName: string, statementId: string, statement: PermissionStatement): void {
    const name = nameOf(functionName);
    const policy = this.policies.get(name) ?? new Map<string, PermissionStatement>();
    policy.set(statementId, statement);
    this.policies.set(name, policy);
  }

  /** RemovePermission. */
  public removePermission(functionName: string, statementId: string): void {
    this.policies.get(nameOf(functionName))?.delete(statementId);
  }

  /** Whether the function's resource-based policy lets a service principal invoke it on behalf of a source. */
  public permits(principal: string, functionName: string, sourceArn: string): boolean {
    const statements = [...(this.policies.get(nameOf(functionName))?.values() ?? [])];
    return statements.some((s) => s.principal === principal
      && (s.action === 'lambda:InvokeFunction' || s.action === 'lambda:*' || s.action === '*')
      && (s.sourceArn === undefined || s.sourceArn === sourceArn));
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
    const worker = this.workers.find((w) => w.busy && (w.fn.name === functionName || w.fn.arn === functionName));
    if (!worker) {
      return false;
    }
    worker.current?.finish('crash', 'Runtime exited with error: signal: killed');
    return true;
  }

  /** Logs of every invocation, in order. */
  public logs(): string {
    return this.invocations.map((i) => i.logs.join('')).join('');
  }

  public async close(): Promise<void> {
    this.closed = true;
    for (const w of this.workers) {
      w.process.kill('SIGKILL');
    }
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
    const worker = await this.acquire(fn);
    const outcome = await new Promise<{ outcome: InvocationOutcome; error?: string }>((resolve) => {
      const timer = setTimeout(() => finish('timeout', `Task timed out after ${(fn.timeoutMs / 1000).toFixed(2)} seconds`), fn.timeoutMs);
      const finish = (o: InvocationOutcome, error?: string) => {
        if (worker.current?.record !== record) {
          return;
        }
        clearTimeout(timer);
        worker.current = undefined;
        if (o === 'timeout' || o === 'crash') {
          // Lambda discards the environment; whatever the code was still doing dies with it.
          this.discard(worker);
        } else {
          worker.busy = false;
        }
        resolve({ outcome: o, error });
      };
      worker.current = { record, finish };
      worker.process.send({ type: 'invoke', id: record.id, payload, deadline: Date.now() + fn.timeoutMs, requestId: record.id, invokedFunctionArn: fn.arn });
    });
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

  /**
   * Makes the running invocations whose payload matches die at once, as a runtime crash or an
   * out-of-memory kill would; Lambda retries them like any failed asynchronous invocation.
   */
  public crashWhere(match: (payload: unknown) => boolean): number {
    const running = this.workers.filter((w) => w.current && match(w.current.record.payload));
    running.forEach((w) => w.current!.finish('crash', 'Runtime exited with error: signal: killed'));
    return running.length;
  }

  private async acquire(fn: FunctionConfig): Promise<Worker> {
    let worker = this.workers.find((w) => w.fn === fn && !w.busy);
    if (!worker) {
      worker = this.spawn(fn);
    }
    worker.busy = true;
    await worker.ready;
    return worker;
  }

  private spawn(fn: FunctionConfig): Worker {
    const [file, exportName] = splitHandler(fn.handler);
    const child = fork(path.join(__dirname, 'lambda-bootstrap.js'), [], {
      env: {
        PATH: process.env.PATH ?? '',
        ...fn.env,
        AWS_LAMBDA_FUNCTION_NAME: fn.name,
        LAMBDA_HANDLER_FILE: path.join(fn.codeDir, file),
        LAMBDA_HANDLER_EXPORT: exportName,
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: [],
    });
    let markReady!: () => void;
    let fail!: (e: Error) => void;
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      fail = reject;
    });
    const worker: Worker = { process: child, fn, busy: false, ready };
    // An invocation is over once both its result and the end of its output have arrived.
    let ended: string | undefined;
    let result: { ok?: boolean; error?: { message?: string } } | undefined;
    const over = () => {
      if (result && ended === worker.current?.record.id) {
        const done = result;
        result = undefined;
        worker.current?.finish(done.ok ? 'ok' : 'error', done.error?.message);
      }
    };
    const capture = (chunk: Buffer) => {
      const text = chunk.toString('utf8').replace(/\u0000end ([^\n]*)\n/g, (_line, id: string) => {
        ended = id;
        return '';
      });
      worker.current?.record.logs.push(text);
      over();
    };
    child.stdout!.on('data', capture);
    child.stderr!.on('data', (chunk: Buffer) => worker.current?.record.logs.push(chunk.toString('utf8')));
    child.on('message', (msg: { type: string; ok?: boolean; error?: { message?: string } }) => {
      if (msg.type === 'ready') {
        markReady();
      } else if (msg.type === 'init-error') {
        fail(new Error(`function ${fn.name} failed to initialize: ${msg.error?.message}`));
      } else if (msg.type === 'result') {
        result = msg;
        over();
      }
    });
    child.on('exit', () => {
      worker.current?.finish('crash', 'Runtime exited without providing a reason');
      this.discard(worker);
    });
    this.workers.push(worker);
    return worker;
  }

  private discard(worker: Worker): void {
    const i = this.workers.indexOf(worker);
    if (i !== -1) {
      this.workers.splice(i, 1);
    }
    worker.process.kill('SIGKILL');
  }

  /** Invoke: POST /2015-03-31/functions/{FunctionName}/invocations */
  private async handleApi(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readBody(req);
    const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(new URL(req.url ?? '/', 'http://x').pathname);
    const fail = (status: number, type: string, message: string) => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-ErrorType': type, 'x-amzn-RequestId': randomUUID() });
      res.end(JSON.stringify({ Type: 'User', message }));
    };
    if (!m || req.method !== 'POST') {
      return fail(404, 'ResourceNotFoundException', `No route for ${req.method} ${req.url}`);
    }
    if (!String(req.headers.authorization ?? '').includes('/lambda/aws4_request')) {
      return fail(403, 'MissingAuthenticationTokenException', 'Missing SigV4 signature for service lambda');
    }
    const fn = this.functions.get(decodeURIComponent(m[1]));
    if (!fn) {
      return fail(404, 'ResourceNotFoundException', `Function not found: ${decodeURIComponent(m[1])}`);
    }
    if (this.options.authorize && !this.options.authorize('lambda:InvokeFunction', fn.arn)) {
      return fail(403, 'AccessDeniedException', `User is not authorized to perform: lambda:InvokeFunction on resource: ${fn.arn}`);
    }
    if ((req.headers['x-amz-invocation-type'] ?? 'RequestResponse') !== 'Event') {
      return fail(400, 'InvalidParameterValueException', 'Only Event invocations are emulated');
    }
    if (body.length > 256 * 1024) {
      return fail(413, 'RequestEntityTooLargeException', `${body.length} byte payload is too large for the Event invocation type (limit 262144 bytes)`);
    }
    this.enqueue(fn, JSON.parse(body.toString('utf8')), 'invoke-api', 1);
    res.writeHead(202, { 'x-amzn-RequestId': randomUUID() });
    res.end();
  }
}

/** The function name in a name, a partial ARN or a full ARN (with a version or alias dropped). */
function nameOf(functionName: string): string {
  const m = /(?:^|:)function:([^:]+)/.exec(functionName);
  return m ? m[1] : functionName;
}

function splitHandler(handler: string): [string, string] {
  const dot = handler.lastIndexOf('.');
  return [`${handler.slice(0, dot)}.js`, handler.slice(dot + 1)];
}
