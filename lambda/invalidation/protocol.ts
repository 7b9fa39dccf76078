/**
 * The CloudFormation custom-resource protocol: the request, the answer, and sending it.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { ANSWER_ATTEMPT_MS, ANSWER_FIRST_BACKOFF_MS, ANSWER_MAX_BACKOFF_MS } from './budgets';
import { retry } from './retry';

export interface CloudFormationRequest {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly RequestId: string;
  /** A presigned URL: a credential. Never log it. */
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly LogicalResourceId: string;
  readonly ResourceType: string;
  readonly ResourceProperties: Record<string, unknown>;
  readonly OldResourceProperties?: Record<string, unknown>;
  readonly PhysicalResourceId?: string;
  readonly ServiceToken?: string;
}

export interface Answer {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

/**
 * When CloudFormation sent the request, from its presigned ResponseURL: the `X-Amz-Date` at which
 * CloudFormation signed it (docs/cloudformation.md, "ResponseURL"); undefined when the URL has none.
 */
export function requestSentAt(event: Pick<CloudFormationRequest, 'ResponseURL'>): number | undefined {
  let date: string | null;
  try {
    date = new URL(event.ResponseURL).searchParams.get('X-Amz-Date');
  } catch {
    return undefined;
  }
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date ?? '');
  if (!m) {
    return undefined;
  }
  const at = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Number.isFinite(at) ? at : undefined;
}

/** CloudFormation rejects answers over 4096 bytes. */
export const MAX_RESPONSE_BYTES = 4096;
const MAX_REASON_CHARS = 1000;

/** The request without its ResponseURL, for logs. */
export function redact(event: CloudFormationRequest): Omit<CloudFormationRequest, 'ResponseURL'> {
  const { ResponseURL: _omitted, ...rest } = event;
  return rest;
}

/** Makes a reason one line, short enough for the answer. */
export function oneLine(text: string): string {
  const flat = [...text.replace(/\s+/g, ' ').trim()];
  return flat.length > MAX_REASON_CHARS ? `${flat.slice(0, MAX_REASON_CHARS - 3).join('')}...` : flat.join('');
}

/** The JSON body of an answer, kept under CloudFormation's size limit by dropping data first. */
export function responseBody(event: CloudFormationRequest, answer: Answer): string {
  const body = {
    Status: answer.Status,
    Reason: answer.Reason === undefined ? undefined : oneLine(answer.Reason),
    PhysicalResourceId: answer.PhysicalResourceId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    NoEcho: false,
    Data: answer.Data,
  };
  let text = JSON.stringify(body);
  // Only the id list can grow without bound: keep the first ids that fit.
  const ids = (body.Data?.InvalidationIds ?? '').split(',');
  while (Buffer.byteLength(text) > MAX_RESPONSE_BYTES && ids.length > 1) {
    ids.pop();
    body.Data = { ...body.Data, InvalidationIds: ids.join(',') };
    text = JSON.stringify(body);
  }
  // Then the warning and the reason: at most 1000 characters each, but characters outside ASCII take more bytes.
  const shorten = (value: string) => `${[...value.replace(/\.\.\.$/, '')].slice(0, -Math.max(1, Math.ceil((Buffer.byteLength(text) - MAX_RESPONSE_BYTES) / 3))).join('')}...`;
  while (Buffer.byteLength(text) > MAX_RESPONSE_BYTES && (body.Data?.Warning?.length ?? 0) > 3) {
    body.Data = { ...body.Data, Warning: shorten(body.Data!.Warning) };
    text = JSON.stringify(body);
  }
  while (Buffer.byteLength(text) > MAX_RESPONSE_BYTES && (body.Reason?.length ?? 0) > 3) {
    body.Reason = shorten(body.Reason!);
    text = JSON.stringify(body);
  }
  return text;
}

export interface SendOptions {
  /** Epoch ms after which no further attempt starts, and every attempt is cut off. */
  readonly deadline: number;
  /** Longest one PUT may take in milliseconds, however slowly the server answers. @default ANSWER_ATTEMPT_MS (budgets.ts) */
  readonly attemptMs?: number;
  readonly firstDelayMs?: number;
}

/**
 * PUTs the answer to the presigned ResponseURL, retrying network errors, time-outs and 5xx/429
 * answers with backoff until the deadline; each attempt is cut off after `attemptMs` or at the
 * deadline, even when the server keeps sending. Throws when the answer could not be delivered, so
 * that the caller can fail the invocation and Lambda run it again.
 */
export async function sendAnswer(event: CloudFormationRequest, answer: Answer, options: SendOptions): Promise<void> {
  const body = responseBody(event, answer);
  let lastError: unknown;
  let attempts = 0;
  // The server answered with a status that trying again cannot change.
  let refused = false;
  const sent = await retry(async () => {
    const left = options.deadline - Date.now();
    if (left <= 0) {
      return false;
    }
    attempts++;
    const status = await put(event.ResponseURL, body, Math.min(options.attemptMs ?? ANSWER_ATTEMPT_MS, left));
    if (status >= 200 && status < 300) {
      return true;
    }
    refused = status < 500 && status !== 429;
    throw new Error(`the response URL answered HTTP ${status}`);
  }, {
    // Without jitter, and never past the deadline.
    pacing: {
      pause: async (ms) => {
        const pause = Math.min(ms, options.deadline - Date.now());
        if (pause <= 0) {
          return { kind: 'timeout', detail: '' };
        }
        await new Promise((resolve) => setTimeout(resolve, pause));
        return { kind: 'ok' };
      },
      stopped: () => false,
    },
    retryable: () => !refused,
    failed: (e) => {
      lastError = e;
    },
    firstDelayMs: options.firstDelayMs ?? ANSWER_FIRST_BACKOFF_MS,
    maxDelayMs: ANSWER_MAX_BACKOFF_MS,
  });
  if (sent.kind === 'ok' && sent.value) {
    return;
  }
  throw new Error(`could not deliver the ${answer.Status} answer to CloudFormation in ${attempts} attempts: ${(lastError as Error)?.message ?? lastError ?? 'no time left'}`);
}

/** One PUT, cut off after `limitMs` whatever the server does. */
function put(url: string, body: string, limitMs: number): Promise<number> {
  const target = new URL(url);
  const transport = target.protocol === 'http:' ? http : https;
  return new Promise((resolve, reject) => {
    const req = transport.request(target, {
      method: 'PUT',
      // The URL is presigned without a content type: sending one breaks the signature.
      headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`no complete answer from the response URL within ${limitMs} ms`)), limitMs);
    req.on('close', () => clearTimeout(timer));
    req.on('error', reject);
    req.end(body);
  });
}
