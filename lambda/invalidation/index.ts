/**
 * The Lambda entry point: tells what it was handed (a CloudFormation request, the stack rule's
 * rollback purge, or a continuation of either), wires the AWS SDK clients, the clock and the
 * CloudFormation answer into the run, and makes sure every request gets an answer before Lambda
 * stops the invocation.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CloudFormationClient, DescribeStackResourceCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CloudFrontInvalidations, describeError, errorCode } from './cloudfront';
import type { CloudFormationRequest } from './protocol';
import { redact, sendAnswer } from './protocol';
import type { RequestProgress } from './request';
import { RequestRun } from './request';
import { isRollbackPurgeEvent, RollbackPurgeRun } from './rollback';
import type { Progress, Runtime } from './runtime';
import { reserveMs } from './runtime';
import type { RollbackPurgeEvent } from '../../src/contract';
import { STACK_ID_ENV } from '../../src/contract';

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

// Default configuration throughout, so that AWS_REGION and AWS_ENDPOINT_URL_* apply as everywhere else.
// Every call is bounded: the socket, the whole request (which only logs unless told to throw), and
// an abort at the time its caller has left (see runtime.ts, callSignal).
const requestHandler = { connectionTimeout: 5_000, requestTimeout: 30_000, throwOnRequestTimeout: true, socketTimeout: 30_000 };
const cloudfront = new CloudFrontClient({ requestHandler });
const cloudformation = new CloudFormationClient({ requestHandler });
const lambda = new LambdaClient({ requestHandler });

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
    log(context, 'rollback purge', { eventId, stackId, invocation: progress?.invocation ?? 1 });
    run = new RollbackPurgeRun(payload, progress, runtime(context, stop.signal, {}), process.env[STACK_ID_ENV] || undefined);
  } else if (isRequest(payload)) {
    const request = payload;
    log(context, 'request', { request: summarize(redact(request)), invocation: progress?.invocation ?? 1 });
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
    timer = setTimeout(() => resolve('guard'), Math.max(0, total - reserveMs(total) / 2));
  });
  try {
    if ((await Promise.race([work, guard])) === 'guard') {
      log(context, 'time is nearly up: stopping and handing over');
      stop.abort();
      await Promise.race([work, delay(Math.min(1000, reserveMs(total) / 8))]);
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
    async stackStatus(stackId, callSignal) {
      const out = await cloudformation.send(new DescribeStacksCommand({ StackName: stackId }), { abortSignal: callSignal });
      const stack = out.Stacks?.[0];
      if (!stack?.StackStatus) {
        throw new Error(`DescribeStacks gave no status for stack ${stackId}`);
      }
      return { status: stack.StackStatus, lastUpdatedTime: stack.LastUpdatedTime?.toISOString() };
    },
    async resourceStatus(stackId, logicalId, callSignal) {
      const command = new DescribeStackResourceCommand({ StackName: stackId, LogicalResourceId: logicalId });
      try {
        const out = await cloudformation.send(command, { abortSignal: callSignal });
        return out.StackResourceDetail?.ResourceStatus;
      } catch (e) {
        if (errorCode(e) === 'ValidationError' && /does not exist/.test(String((e as Error).message))) {
          return undefined;
        }
        throw e;
      }
    },
    // Until just before Lambda stops the invocation: an answer not delivered by then fails it, for Lambda to run it again.
    answer: (event, answer) => sendAnswer(event, answer, { deadline: Date.now() + context.getRemainingTimeInMillis() - 1000 }),
    async continueLater(payload, progress) {
      const body = JSON.stringify({ continuation: { payload: gzipSync(JSON.stringify(payload)).toString('base64'), progress } } satisfies Continuation);
      if (body.length > MAX_CONTINUATION_BYTES) {
        throw new Error(`the work is too large to continue in a new invocation (${body.length} bytes)`);
      }
      await lambda.send(new InvokeCommand({ FunctionName: context.invokedFunctionArn, InvocationType: 'Event', Payload: Buffer.from(body) }));
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

function log(context: LambdaContext, message: string, fields: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ message, awsRequestId: context.awsRequestId, ...fields }));
}
