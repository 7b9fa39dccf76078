/**
 * The Lambda stand-in's execution environments: warm worker processes (`lambda-bootstrap.js`) that
 * run a function's real code, one invocation per worker at a time. An invocation that reaches its
 * timeout or crashes takes its environment with it, the way Lambda throws the environment away.
 */
import { fork } from 'child_process';
import type { ChildProcess } from 'child_process';
import * as path from 'path';

/** A deployed function: its code, handler, timeout, environment and dead-letter queue. */
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

/** How an invocation ended. */
export type InvocationOutcome = 'ok' | 'error' | 'timeout' | 'crash';

/** One attempt at an invocation: what it was given, when it ran, how it ended and what it wrote. */
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

interface Worker {
  readonly process: ChildProcess;
  readonly fn: FunctionConfig;
  busy: boolean;
  ready: Promise<void>;
  current?: { record: InvocationRecord; finish: (outcome: InvocationOutcome, error?: string) => void };
}

/** The worker processes of every function, warm between invocations. */
export class ExecutionEnvironments {
  private readonly workers: Worker[] = [];

  /**
   * Runs one invocation of the function, with the record's payload, in an idle worker of this very
   * configuration (a new one if there is none), until it ends, times out or crashes.
   */
  public async invoke(fn: FunctionConfig, record: InvocationRecord): Promise<{ outcome: InvocationOutcome; error?: string }> {
    const worker = await this.acquire(fn);
    return new Promise((resolve) => {
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
      const deadline = Date.now() + fn.timeoutMs;
      worker.process.send({ type: 'invoke', id: record.id, payload: record.payload, deadline, requestId: record.id, invokedFunctionArn: fn.arn });
    });
  }

  /** Retires the idle workers of a function (by name), whose code or settings changed. */
  public retireIdle(functionName: string): void {
    for (const w of [...this.workers]) {
      if (w.fn.name === functionName && !w.busy) {
        this.discard(w);
      }
    }
  }

  /** Kills the worker running an invocation of this function (by name or ARN), as a crash or out-of-memory would. */
  public crash(functionName: string): boolean {
    const worker = this.workers.find((w) => w.busy && (w.fn.name === functionName || w.fn.arn === functionName));
    if (!worker) {
      return false;
    }
    worker.current?.finish('crash', 'Runtime exited with error: signal: killed');
    return true;
  }

  /** Kills the workers running an invocation whose payload matches; returns how many. */
  public crashWhere(match: (payload: unknown) => boolean): number {
    const running = this.workers.filter((w) => w.current && match(w.current.record.payload));
    running.forEach((w) => w.current!.finish('crash', 'Runtime exited with error: signal: killed'));
    return running.length;
  }

  /** Kills every worker. */
  public killAll(): void {
    for (const w of this.workers) {
      w.process.kill('SIGKILL');
    }
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
}

/** The file and the export a Handler setting (`file.export`) names. */
function splitHandler(handler: string): [string, string] {
  const dot = handler.lastIndexOf('.');
  return [`${handler.slice(0, dot)}.js`, handler.slice(dot + 1)];
}
