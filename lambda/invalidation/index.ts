/**
 * The Lambda entry point: wires the AWS SDK clients, the clock and the CloudFormation answer into
 * `RequestRun`, and makes sure every request gets an answer before Lambda stops the invocation.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { CloudFormationClient, DescribeStackResourceCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CloudFrontInvalidations, describeError, errorCode } from './cloudfront';
import type { CloudFormationRequest } from './protocol';
import { redact, sendAnswer } from './protocol';
import type { Progress, Runtime } from './run';
import { RequestRun, reserveMs } from './run';

/** The part of Lambda's context object the handler uses. */
export interface LambdaContext {
  readonly invokedFunctionArn: string;
  readonly awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

/** What a handler invocation sends the next one: the request (compressed) and how far it got. */
export interface Continuation {
  readonly continuation: {
    readonly request: string;
    readonly progress: Progress;
  };
}

/** Lambda accepts at most 256 KB for an asynchronous invocation. */
const MAX_CONTINUATION_BYTES = 250_000;

// Default configuration throughout, so that AWS_REGION and AWS_ENDPOINT_URL_* apply as everywhere else.
const requestHandler = { connectionTimeout: 5_000, requestTimeout: 30_000 };
const cloudfront = new CloudFrontClient({ requestHandler });
const cloudformation = new CloudFormationClient({ requestHandler });
const lambda = new LambdaClient({ requestHandler });

export async function handler(event: CloudFormationRequest | Continuation, context: LambdaContext): Promise<void> {
  const { request, progress } = decode(event);
  if (!request?.ResponseURL) {
    log(context, 'ignored: not a CloudFormation custom resource request');
    return;
  }
  log(context, 'request', { request: summarize(redact(request)), invocation: progress?.invocation ?? 1 });

  const total = context.getRemainingTimeInMillis();
  const stop = new AbortController();
  const run = new RequestRun(request, progress, runtime(request, context, stop.signal));
  const work = run.run().catch((e) => {
    log(context, 'unexpected error', { error: describeError(e), stack: (e as Error)?.stack });
    return run.crash(e);
  });

  // The guard: if the work is stuck in a call when little time is left, stop it and hand over.
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<'guard'>((resolve) => {
    timer = setTimeout(() => resolve('guard'), Math.max(0, total - reserveMs(total) / 2));
  });
  try {
    if ((await Promise.race([work, guard])) === 'guard') {
      log(context, 'time is nearly up: stopping and handing over');
      stop.abort();
      await Promise.race([work, delay(Math.min(1000, reserveMs(total) / 8))]);
      // An answer on its way cannot be stopped: let it land before the request is handed on.
      await run.answerSent();
      if (!run.finished) {
        await run.handOff().catch((e) => run.crash(e));
      }
    }
  } catch (e) {
    log(context, 'could not finish the request', { error: describeError(e) });
  } finally {
    clearTimeout(timer);
  }
}

function runtime(request: CloudFormationRequest, context: LambdaContext, signal: AbortSignal): Runtime {
  const api = new CloudFrontInvalidations(cloudfront);
  return {
    api,
    signal,
    now: () => Date.now(),
    remainingMs: () => context.getRemainingTimeInMillis(),
    random: Math.random,
    sleep: (ms) => delay(ms, signal),
    async stackStatus(stackId) {
      const out = await cloudformation.send(new DescribeStacksCommand({ StackName: stackId }), { abortSignal: signal });
      const stack = out.Stacks?.[0];
      if (!stack?.StackStatus) {
        throw new Error(`DescribeStacks gave no status for stack ${stackId}`);
      }
      return { status: stack.StackStatus, lastUpdatedTime: stack.LastUpdatedTime?.toISOString() };
    },
    async physicalId(stackId, logicalId) {
      const command = new DescribeStackResourceCommand({ StackName: stackId, LogicalResourceId: logicalId });
      const out = await cloudformation.send(command, { abortSignal: signal });
      const id = out.StackResourceDetail?.PhysicalResourceId;
      if (!id) {
        throw new Error(`the stack has no physical id for ${logicalId}`);
      }
      return id;
    },
    async resourceStatus(stackId, logicalId) {
      const command = new DescribeStackResourceCommand({ StackName: stackId, LogicalResourceId: logicalId });
      try {
        const out = await cloudformation.send(command, { abortSignal: signal });
        return out.StackResourceDetail?.ResourceStatus;
      } catch (e) {
        if (errorCode(e) === 'ValidationError' && /does not exist/.test(String((e as Error).message))) {
          return undefined;
        }
        throw e;
      }
    },
    answer: (event, answer) => sendAnswer(event, answer),
    async continueLater(event, progress) {
      const payload = JSON.stringify({ continuation: { request: gzipSync(JSON.stringify(event)).toString('base64'), progress } } satisfies Continuation);
      if (payload.length > MAX_CONTINUATION_BYTES) {
        throw new Error(`the request is too large to continue in a new invocation (${payload.length} bytes)`);
      }
      await lambda.send(new InvokeCommand({ FunctionName: context.invokedFunctionArn, InvocationType: 'Event', Payload: Buffer.from(payload) }));
    },
    log: (message, fields) => log(context, message, { logicalResourceId: request.LogicalResourceId, requestType: request.RequestType, ...fields }),
  };
}

function decode(event: CloudFormationRequest | Continuation): { request?: CloudFormationRequest; progress?: Progress } {
  if (event && 'continuation' in event) {
    const request = JSON.parse(gunzipSync(Buffer.from(event.continuation.request, 'base64')).toString('utf8')) as CloudFormationRequest;
    return { request, progress: event.continuation.progress };
  }
  return { request: event as CloudFormationRequest };
}

/** The request for the log, with long path lists cut short. */
function summarize(request: Omit<CloudFormationRequest, 'ResponseURL'>): unknown {
  const cut = (props?: Record<string, unknown>) => {
    if (!props || !Array.isArray(props.Paths) || props.Paths.length <= 20) {
      return props;
    }
    return { ...props, Paths: [...props.Paths.slice(0, 20), `... ${props.Paths.length - 20} more`] };
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
