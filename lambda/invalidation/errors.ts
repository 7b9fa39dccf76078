/**
 * What went wrong with an AWS call, and whether trying again may help: shared by every phase and
 * by the clients loaded apart (so it imports no client).
 */
import { ACCESS_DENIED_RETRY_MS } from './budgets';

/** CloudFront's error code for an SDK error, or the error's name. */
export function errorCode(e: unknown): string {
  const err = e as { name?: string; Code?: string; code?: string };
  // A Node.js network error is a plain Error whose code says what happened (ECONNREFUSED, ...).
  const generic = err?.name === undefined || err.name === 'Error';
  return err?.Code ?? (generic && typeof err?.code === 'string' ? err.code : err?.name) ?? err?.code ?? 'Error';
}

const RETRYABLE_CODES = new Set([
  'TooManyInvalidationsInProgress',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'InternalError',
  'InternalFailure',
  'RequestTimeout',
  'TimeoutError',
  // A call aborted at its caller's deadline: the caller's clock decides what comes next.
  'AbortError',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
]);

/** Whether waiting and trying again may succeed: limits, throttling, 5xx and network trouble. */
export function isRetryable(e: unknown): boolean {
  const err = e as { $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  const status = err?.$metadata?.httpStatusCode;
  return RETRYABLE_CODES.has(errorCode(e))
    || (status !== undefined && (status >= 500 || status === 429))
    || err?.$retryable !== undefined;
}

/**
 * Whether a call's error is worth retrying, AccessDenied included for `ACCESS_DENIED_RETRY_MS` from
 * the first denial of the series: a judge for one loop of calls (retry.ts, `retryable`).
 */
export function retryableOrDenied(rt: { now(): number }): (e: unknown) => boolean {
  let since: number | undefined;
  return (e) => {
    if (errorCode(e) !== 'AccessDenied') {
      // A call cut off by its own deadline ends no series of denials.
      since = errorCode(e) === 'AbortError' ? since : undefined;
      return isRetryable(e);
    }
    since ??= rt.now();
    return rt.now() - since < ACCESS_DENIED_RETRY_MS;
  };
}

/**
 * What went wrong with a call to an AWS service, naming the service: `CloudFront AccessDenied:
 * message` when the service answered with an error, `could not reach CloudFront (ECONNREFUSED:
 * message)` when no answer came.
 */
export function serviceError(service: string, e: unknown): string {
  const answered = (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode !== undefined;
  return answered ? `${service} ${describeError(e)}` : `could not reach ${service} (${describeError(e)})`;
}

/** One line: `Code: message`. */
export function describeError(e: unknown): string {
  const code = errorCode(e);
  const message = (e as Error)?.message;
  return message && message !== code ? `${code}: ${message}` : code;
}
