/**
 * The Lambda stand-in's Invoke API (POST /2015-03-31/functions/{FunctionName}/invocations), through
 * which a function starts new invocations of itself (AWS_ENDPOINT_URL_LAMBDA): only the Event
 * invocation type, signed, allowed by IAM and within Lambda's payload limit for it.
 */
import { randomUUID } from 'crypto';
import type * as http from 'http';
import type { FunctionConfig } from './lambda-environments';
import { readBody } from './local-server';

/** What the Invoke API needs of the emulator behind it. */
export interface InvokeApiBackend {
  /** The deployed function of that name or ARN, if any. */
  readonly lookup: (functionName: string) => FunctionConfig | undefined;
  /** IAM: may the caller perform `lambda:<action>` on the ARN? @default everything allowed */
  readonly authorize?: (action: string, resourceArn: string) => boolean;
  /** Queues an asynchronous invocation of the function. */
  readonly invokeAsync: (fn: FunctionConfig, payload: unknown) => void;
}

/** Answers one request to the Invoke API: 202 for an Event invocation taken, else Lambda's error. */
export async function serveInvoke(req: http.IncomingMessage, res: http.ServerResponse, backend: InvokeApiBackend): Promise<void> {
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
  const fn = backend.lookup(decodeURIComponent(m[1]));
  if (!fn) {
    return fail(404, 'ResourceNotFoundException', `Function not found: ${decodeURIComponent(m[1])}`);
  }
  if (backend.authorize && !backend.authorize('lambda:InvokeFunction', fn.arn)) {
    return fail(403, 'AccessDeniedException', `User is not authorized to perform: lambda:InvokeFunction on resource: ${fn.arn}`);
  }
  if ((req.headers['x-amz-invocation-type'] ?? 'RequestResponse') !== 'Event') {
    return fail(400, 'InvalidParameterValueException', 'Only Event invocations are emulated');
  }
  if (body.length > 256 * 1024) {
    return fail(413, 'RequestEntityTooLargeException', `${body.length} byte payload is too large for the Event invocation type (limit 262144 bytes)`);
  }
  backend.invokeAsync(fn, JSON.parse(body.toString('utf8')));
  res.writeHead(202, { 'x-amzn-RequestId': randomUUID() });
  res.end();
}
