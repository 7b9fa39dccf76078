/**
 * The Lambda entry point: tells what it was handed (a CloudFormation request, the stack rule's
 * rollback purge, or a continuation of either), wires the AWS SDK clients, the clock and the
 * CloudFormation answer into the run, and makes sure every request gets an answer before Lambda
 * stops the invocation.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { ANSWER_CUTOFF_MS, GUARD_RESERVE_SHARE, STOP_GRACE_MS, STOP_GRACE_RESERVE_SHARE } from './budgets';
import type * as CloudFormationCalls from './clients/cloudformation';
import type * as LambdaCalls from './clients/lambda';
import { requestHandler } from './clients/request-handler';
import type * as S3Calls from './clients/s3';
import { CloudFrontInvalidations } from './cloudfront';
import { describeError } from './errors';
import type { CloudFormationRequest } from './protocol';
import { redact, sendAnswer } from './protocol';
import { RequestRun } from './request';
import type { RequestProgress } from './request-purge';
import { isRollbackPurgeEvent } from './rollback';
import { RollbackPurgeRun } from './rollback-run';
import type { Progress, Runtime } from './runtime';
import { reserveMs } from './runtime';
import type { RollbackPurgeEvent } from '../../src/shared/contract';
import { STACK_ID_ENV } from '../../src/shared/contract';

/** The part of Lambda's context object the handler uses. */
export interface LambdaContext {
  readonly invokedFunctionArn: string;
  readonly awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

/** What a handler invocation sends the next one: the request or event (compressed) and how far it got. */
export interface Continuation {
  readonly continuation: {
    readonly payload: string;
    readonly progress: Progress;
  };
}

/** Lambda accepts at most 256 KB for an asynchronous invocation. */
const MAX_CONTINUATION_BYTES = 250_000;

const cloudfront = new CloudFrontClient({ requestHandler });

/**
 * The CloudFormation, Lambda and S3 clients, bundled apart (clients/*.ts, next to this file once
 * bundled) and loaded on first use: a Create needs none of them, but S3 for the manifests of
 * `InvalidationPaths.changedFiles`.
 */
function load<T>(name: 'cloudformation' | 'lambda' | 's3'): T {
  // A computed path, so that the bundler leaves the chunk out of this file.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(join(__dirname, `${name}.js`)) as T;
}

/** A run of either kind, as the time guard sees it. */
interface Run {
  readonly finished: boolean;
  run(): Promise<void>;
  answerSent(): Promise<void>;
  handOff(): Promise<void>;
  crash(e: unknown): Promise<void>;
}

export async function handler(event: unknown, context: LambdaContext): Promise<void> {
  const { payload, progress } = decode(event);
  const stop = new AbortController();
  let run: Run;
  if (isRollbackPurgeEvent(payload)) {
    const { eventId, stackId } = payload.rollbackPurge ?? {};
    log(context, 'rollback purge', { eventId, stackId, invocationCount: progress?.invocationCount ?? 1 });
    run = new RollbackPurgeRun(payload, progress, runtime(context, stop.signal, {}), process.env[STACK_ID_ENV] || undefined);
  } else if (isRequest(payload)) {
    const request = payload;
    log(context, 'request', { request: summarize(redact(request)), invocationCount: progress?.invocationCount ?? 1 });
    const fields = { logicalResourceId: request.LogicalResourceId, requestType: request.RequestType };
    const ownStackId = process.env[STACK_ID_ENV] || undefined;
    run = new RequestRun(request, progress as RequestProgress | undefined, runtime(context, stop.signal, fields), ownStackId);
  } else {
    log(context, 'ignored: neither a CloudFormation custom resource request nor a rollback purge');
    return;
  }
  await guarded(run, context, stop);
}

/**
 * Runs to the end, unless little time is left while the work is stuck in a call: then stops it and
 * hands over. Throws when the invocation must fail for Lambda to run it again.
 */
async function guarded(run: Run, context: LambdaContext, stop: AbortController): Promise<void> {
  const total = context.getRemainingTimeInMillis();
  const work = run.run().catch(async (e) => {
    log(context, 'could not finish', { error: describeError(e), stack: (e as Error)?.stack });
    await run.crash(e);
  });
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<'guard'>((resolve) => {
    timer = setTimeout(() => resolve('guard'), Math.max(0, total - reserveMs(total) * GUARD_RESERVE_SHARE));
  });
  try {
    if ((await Promise.race([work, guard])) === 'guard') {
      log(context, 'time is nearly up: stopping and handing over');
      stop.abort();
      await Promise.race([work, delay(Math.min(STOP_GRACE_MS, reserveMs(total) * STOP_GRACE_RESERVE_SHARE))]);
      // An answer on its way cannot be stopped: let it land before the request is handed on. One
      // that cannot be delivered fails the invocation, for Lambda to run it again.
      await run.answerSent();
      if (!run.finished) {
        await run.handOff();
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

function isRequest(payload: unknown): payload is CloudFormationRequest {
  return typeof payload === 'object' && payload !== null && typeof (payload as CloudFormationRequest).ResponseURL === 'string';
}

function runtime(context: LambdaContext, signal: AbortSignal, fields: Record<string, unknown>): Runtime {
  const api = new CloudFrontInvalidations(cloudfront);
  return {
    api,
    signal,
    now: () => Date.now(),
    remainingMs: () => context.getRemainingTimeInMillis(),
    random: Math.random,
    sleep: (ms) => delay(ms, signal),
    signalAt: (epochMs) => AbortSignal.any([signal, AbortSignal.timeout(Math.max(0, epochMs - Date.now()))]),
    stackStatus: (stackId, callSignal) => load<typeof CloudFormationCalls>('cloudformation').stackStatus(stackId, callSignal),
    resourceStatus: (stackId, logicalId, callSignal) => load<typeof CloudFormationCalls>('cloudformation').resourceStatus(stackId, logicalId, callSignal),
    stackEvents: (stackId, nextToken, callSignal) => load<typeof CloudFormationCalls>('cloudformation').stackEvents(stackId, nextToken, callSignal),
    readObject: (bucket, key, callSignal) => load<typeof S3Calls>('s3').getObjectText(bucket, key, callSignal),
    // Until just before Lambda stops the invocation: an answer not delivered by then fails it, for Lambda to run it again.
    answer: (event, answer, until) => {
      const deadline = Math.min(until, Date.now() + context.getRemainingTimeInMillis() - ANSWER_CUTOFF_MS);
      return sendAnswer(event, answer, { deadline });
    },
    async continueLater(payload, progress) {
      const body = JSON.stringify({ continuation: { payload: gzipSync(JSON.stringify(payload)).toString('base64'), progress } } satisfies Continuation);
      if (body.length > MAX_CONTINUATION_BYTES) {
        throw new Error(`the work is too large to continue in a new invocation (${body.length} bytes)`);
      }
      await load<typeof LambdaCalls>('lambda').invokeAsync(context.invokedFunctionArn, body);
    },
    log: (message, extra) => log(context, message, { ...fields, ...extra }),
  };
}

function decode(event: unknown): { payload: unknown; progress?: Progress } {
  if (event && typeof event === 'object' && 'continuation' in event) {
    const { payload, progress } = (event as Continuation).continuation;
    return { payload: JSON.parse(gunzipSync(Buffer.from(payload, 'base64')).toString('utf8')) as CloudFormationRequest | RollbackPurgeEvent, progress };
  }
  return { payload: event };
}

/**
 * The request for the log: long path lists cut short, and the trigger's values (an `onChangeOf`
 * value may be a secret) replaced by a digest that still tells two deploys apart.
 */
function summarize(request: Omit<CloudFormationRequest, 'ResponseURL'>): unknown {
  const cut = (props?: Record<string, unknown>) => {
    if (!props || typeof props !== 'object') {
      return props;
    }
    const paths = Array.isArray(props.Paths) && props.Paths.length > 20 ? [...props.Paths.slice(0, 20), `... ${props.Paths.length - 20} more`] : props.Paths;
    const trigger = props.Trigger === undefined ? undefined : `sha256:${createHash('sha256').update(JSON.stringify(props.Trigger)).digest('hex').slice(0, 16)}`;
    return { ...props, Paths: paths, Trigger: trigger };
  };
  return { ...request, ResourceProperties: cut(request.ResourceProperties), OldResourceProperties: cut(request.OldResourceProperties) };
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      return reject(new Error('stopped'));
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error('stopped'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * One JSON object a line, written to stdout itself: Lambda's Node.js runtime prefixes console lines
 * with the time, request id and level, which JSON metric filters do not match (docs/aws-services.md,
 * "CloudWatch Logs").
 */
function log(context: LambdaContext, message: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ message, awsRequestId: context.awsRequestId, ...fields })}\n`);
}
