/**
 * The answer to CloudFormation: its body and size (lambda/invalidation/protocol.ts), the rule that a
 * Delete never fails (answer.ts), and the PUT to the ResponseURL, against a local HTTP server.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerData, deleteNeverFails } from '../../../lambda/invalidation/answer';
import type { Answer, CloudFormationRequest } from '../../../lambda/invalidation/protocol';
import { MAX_RESPONSE_BYTES, responseBody, sendAnswer } from '../../../lambda/invalidation/protocol';
import { invalidationRequest } from '../../support/requests';

/** A request of the given type for the Invalidation `InvalidateSite`, answered at `responseUrl`. */
function request(type: CloudFormationRequest['RequestType'] = 'Create', responseUrl = 'https://example.com/key?X-Amz-Signature=s'): CloudFormationRequest {
  return invalidationRequest({
    RequestType: type,
    ResponseURL: responseUrl,
    LogicalResourceId: 'InvalidateSite',
    PhysicalResourceId: type === 'Create' ? undefined : 'InvalidateSite-abc',
  });
}

const SUCCESS: Answer = { Status: 'SUCCESS', PhysicalResourceId: 'InvalidateSite-abc', Data: answerData('Submitted', { ids: 'I1,I2', callerReference: 'ref' }) };

describe('the answer\'s body', () => {
  test('carries the status, the request\'s ids and every attribute', () => {
    const body = JSON.parse(responseBody(request(), SUCCESS));
    expect(body).toEqual({
      Status: 'SUCCESS',
      PhysicalResourceId: 'InvalidateSite-abc',
      StackId: request().StackId,
      RequestId: 'req-1',
      LogicalResourceId: 'InvalidateSite',
      NoEcho: false,
      Data: expect.objectContaining({ InvalidationIds: 'I1,I2', InvalidationId: 'I1', CallerReference: 'ref', Status: 'Submitted' }),
    });
  });

  test(`stays within ${MAX_RESPONSE_BYTES} bytes by keeping the first invalidation ids that fit`, () => {
    const ids = Array.from({ length: 400 }, (_, i) => `I${String(i).padStart(13, '0')}`);
    const text = responseBody(request(), { ...SUCCESS, Data: answerData('Submitted', { ids: ids.join(','), callerReference: 'ref' }) });
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
    const kept = JSON.parse(text).Data.InvalidationIds.split(',');
    expect(kept.length).toBeGreaterThan(100);
    expect(kept).toEqual(ids.slice(0, kept.length));
  });

  test('makes the reason one line of at most 1000 characters, and shortens a long warning of characters that take several bytes', () => {
    const reason = `first line\n  second line ${'x'.repeat(2000)}`;
    const warning = 'é'.repeat(3000);
    const text = responseBody(request(), { Status: 'FAILED', Reason: reason, PhysicalResourceId: 'p', Data: answerData('TimedOut', undefined, warning) });
    const body = JSON.parse(text);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
    expect(body.Reason).toMatch(/^first line second line x+\.\.\.$/);
    expect([...body.Reason]).toHaveLength(1000);
    expect(body.Data.Warning).toMatch(/^é+\.\.\.$/);
  });
});

describe('a Delete never fails', () => {
  test('a Delete is answered SUCCESS with the status Deleted, whatever its verdict; other requests as they are', () => {
    const failed = { status: 'FAILED' as const, reason: 'Timed out' };
    expect(deleteNeverFails(request('Delete'), failed)).toEqual({ status: 'SUCCESS', data: answerData('Deleted') });
    expect(deleteNeverFails(request('Delete'), { status: 'SUCCESS', data: answerData('Submitted') })).toEqual({ status: 'SUCCESS', data: answerData('Deleted') });
    expect(deleteNeverFails(request('Update'), failed)).toBe(failed);
  });

  test('but a refused request is answered as it is, and a failure a fresh run may mend fails the invocation instead', () => {
    const refused = { status: 'FAILED' as const, reason: 'Refused: not this stack', refused: true };
    expect(deleteNeverFails(request('Delete'), refused)).toBe(refused);
    expect(() => deleteNeverFails(request('Delete'), { status: 'FAILED', reason: 'r', rerun: 'run me again' })).toThrow('run me again');
    expect(deleteNeverFails(request('Create'), { status: 'FAILED', reason: 'r', rerun: 'run me again' })).toEqual({ status: 'FAILED', reason: 'r', rerun: 'run me again' });
  });
});

describe('sending the answer', () => {
  let server: http.Server;
  let statuses: number[];
  let received: Array<{ method?: string; contentType?: string; body: string }>;
  let url: string;

  beforeEach(async () => {
    statuses = [];
    received = [];
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        received.push({ method: req.method, contentType: req.headers['content-type'], body });
        res.statusCode = statuses.shift() ?? 200;
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/response?X-Amz-Signature=s`;
  });

  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  test('PUTs the body, without a content type (the URL is presigned without one)', async () => {
    await sendAnswer(request('Create', url), SUCCESS, { deadline: Date.now() + 5000 });
    expect(received).toEqual([{ method: 'PUT', contentType: '', body: responseBody(request('Create', url), SUCCESS) }]);
  });

  test('retries 5xx and 429 answers with backoff until one is accepted', async () => {
    statuses = [503, 429, 500];
    await sendAnswer(request('Create', url), SUCCESS, { deadline: Date.now() + 5000, firstDelayMs: 5 });
    expect(received).toHaveLength(4);
  });

  test('gives up at once on another 4xx answer, saying how many attempts it made', async () => {
    statuses = [503, 403];
    await expect(sendAnswer(request('Create', url), SUCCESS, { deadline: Date.now() + 5000, firstDelayMs: 5 }))
      .rejects.toThrow('could not deliver the SUCCESS answer to CloudFormation in 2 attempts: the response URL answered HTTP 403');
    expect(received).toHaveLength(2);
  });

  test('stops at the deadline, trying nothing once it has passed', async () => {
    statuses = Array.from({ length: 100 }, () => 503);
    const started = Date.now();
    await expect(sendAnswer(request('Create', url), SUCCESS, { deadline: started + 300, firstDelayMs: 50 })).rejects.toThrow(/in [2-5] attempts: the response URL answered HTTP 503/);
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(sendAnswer(request('Create', url), SUCCESS, { deadline: Date.now() - 1 })).rejects.toThrow('in 0 attempts: no time left');
  });
});
