/**
 * The presigned ResponseURLs of the custom-resource protocol (docs/cloudformation.md, "ResponseURL"):
 * the URL CloudFormation hands out with each request, signed when it sends the request, and the
 * answers PUT to it, refused as CloudFormation refuses them or met with a fault on demand.
 */
import { randomUUID } from 'crypto';
import type * as http from 'http';

/** The answer a custom resource PUTs to its ResponseURL. */
export interface CustomResourceAnswer {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly NoEcho?: boolean;
  readonly Data?: Record<string, string>;
}

/** An answer as it arrived: when, how large and with which content type. */
export interface ReceivedAnswer {
  readonly answer: CustomResourceAnswer;
  readonly at: number;
  /** Size of the body as sent. */
  readonly bytes: number;
  readonly contentType: string | undefined;
}

/**
 * How a ResponseURL misbehaves instead of taking an answer: `ServerError` answers 500 (the answer is
 * not taken), `Drip` sends a byte now and then and never finishes.
 */
export type AnswerFault = 'ServerError' | 'Drip';

/**
 * A fresh presigned ResponseURL under the endpoint, signed at `signedAt` (epoch ms). Its query
 * string stands for the signature a real one carries: it must never show up in a log.
 */
export function signedResponseUrl(endpoint: string, signedAt: number): { url: string; token: string; secret: string } {
  const token = randomUUID();
  const secret = `sig${randomUUID().replace(/-/g, '')}`;
  // Signed when CloudFormation sends the request, valid for two hours (docs/cloudformation.md, "ResponseURL").
  const date = new Date(signedAt).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const query = `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=${date}&X-Amz-Expires=7200&X-Amz-Signature=${secret}`;
  return { url: `${endpoint}/cloudformation-response/${token}?${query}`, token, secret };
}

/** The request token of a ResponseURL's path; undefined for any other path. */
export function responseUrlToken(pathname: string): string | undefined {
  return /^\/cloudformation-response\/([^/]+)$/.exec(pathname)?.[1];
}

/** The answers PUT to ResponseURLs, by request token, and whoever awaits them. */
export class AnswerInbox {
  /** Every answer taken, by request token, in arrival order. */
  public readonly answers = new Map<string, ReceivedAnswer[]>();
  private readonly waiters = new Map<string, Array<(a: ReceivedAnswer) => void>>();

  /** Resolves with the first answer for the token (at once if it came already), or rejects after `timeoutMs`. */
  public awaitAnswer(token: string, timeoutMs: number): Promise<ReceivedAnswer> {
    const got = this.answers.get(token);
    if (got && got.length > 0) {
      return Promise.resolve(got[0]);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.set(token, [...(this.waiters.get(token) ?? []), (a) => {
        clearTimeout(timer);
        resolve(a);
      }]);
    });
  }

  /**
   * Answers a PUT to the token's ResponseURL: plays the fault if there is one, refuses a body that is
   * not JSON or too long, else takes the answer and calls `onAnswer` with it before responding.
   */
  public receive(
    token: string, body: string, req: http.IncomingMessage, res: http.ServerResponse,
    fault: AnswerFault | undefined, onAnswer: ((answer: CustomResourceAnswer) => void) | undefined,
  ): void {
    if (fault === 'ServerError') {
      res.writeHead(500).end('We encountered an internal error. Please try again.');
      return;
    }
    if (fault === 'Drip') {
      res.writeHead(200, { 'content-length': 1_000_000 });
      const timer = setInterval(() => res.write(' '), 200);
      res.on('close', () => clearInterval(timer));
      return;
    }
    let parsed: CustomResourceAnswer;
    try {
      parsed = JSON.parse(body);
    } catch {
      res.writeHead(400).end('not JSON');
      return;
    }
    if (Buffer.byteLength(body) > 4096) {
      // CloudFormation refuses oversized answers; the resource then times out.
      res.writeHead(400).end('Response object is too long.');
      return;
    }
    const received: ReceivedAnswer = { answer: parsed, at: Date.now(), bytes: Buffer.byteLength(body), contentType: req.headers['content-type'] };
    this.answers.set(token, [...(this.answers.get(token) ?? []), received]);
    const waiters = this.waiters.get(token) ?? [];
    this.waiters.delete(token);
    waiters.forEach((w) => w(received));
    // Before the response: the sender is still waiting for it when the hook runs.
    onAnswer?.(parsed);
    res.writeHead(200).end();
  }
}
