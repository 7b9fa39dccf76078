/**
 * CloudFormation's side of the custom-resource protocol: the presigned ResponseURLs it hands out and
 * the answers that come back to them, and DescribeStacks (awsQuery) for the stack's status, which
 * the handler reads through AWS_ENDPOINT_URL_CLOUDFORMATION; DescribeStackResource; and
 * DescribeStackEvents, the stack's event history as the lifecycle driver records it.
 */
import { randomUUID } from 'crypto';
import * as http from 'http';
import { XMLBuilder } from 'fast-xml-parser';
import { LocalServer, readBody } from './local-server';

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

export interface ReceivedAnswer {
  readonly answer: CustomResourceAnswer;
  readonly at: number;
  /** Size of the body as sent. */
  readonly bytes: number;
  readonly contentType: string | undefined;
}

/** A stack event, as DescribeStackEvents returns it: a resource's status change, or the stack's own. */
export interface StackEvent {
  readonly StackId: string;
  readonly EventId: string;
  readonly StackName: string;
  readonly LogicalResourceId: string;
  /** Empty while a resource is being created and has none yet. */
  readonly PhysicalResourceId: string;
  readonly ResourceType: string;
  readonly Timestamp: Date;
  readonly ResourceStatus: string;
  readonly ResourceStatusReason?: string;
  /** The resolved properties CloudFormation used, as JSON: on CREATE_IN_PROGRESS and UPDATE_IN_PROGRESS. */
  readonly ResourceProperties?: string;
}

export interface CloudFormationEmulatorOptions {
  readonly authorize?: (action: string, resourceArn: string) => boolean;
  /** A resource's physical id in a stack, for DescribeStackResource. */
  readonly physicalId?: (stackId: string, logicalId: string) => string | undefined;
  /** A resource's status in a stack, for DescribeStackResource; a resource with neither id nor status does not exist. */
  readonly resourceStatus?: (stackId: string, logicalId: string) => string | undefined;
  /** How many events a DescribeStackEvents page holds at most. @default 100 */
  readonly eventsPageSize?: number;
}

export class CloudFormationEmulator {
  public static async start(options: CloudFormationEmulatorOptions = {}): Promise<CloudFormationEmulator> {
    const emulator = new CloudFormationEmulator(options);
    await emulator.server.listen();
    return emulator;
  }

  /** Every answer PUT to a ResponseURL, by request token, in arrival order. */
  public readonly answers = new Map<string, ReceivedAnswer[]>();
  /** Every DescribeStacks call: the stack asked about and the status given. */
  public readonly describeCalls: Array<{ stackId: string; status?: string }> = [];
  /**
   * Decides, per DescribeStacks call, whether it fails with Throttling instead (the SDK retries
   * such a call before the handler sees the error).
   */
  public throttleDescribeStacks: ((call: { stackId: string; status?: string }) => boolean) | undefined;
  /** Every DescribeStackEvents call: the StackName given, and how it went (the stack's status, `Throttling`, or undefined for no such stack). */
  public readonly eventsCalls: Array<{ stackName: string; status?: string }> = [];
  /** Decides, per DescribeStackEvents call, whether it fails with Throttling instead. */
  public throttleDescribeStackEvents: ((call: { stackName: string; status?: string }) => boolean) | undefined;
  /**
   * Decides, per answer PUT, whether the ResponseURL misbehaves instead of taking it: `ServerError`
   * answers 500 (the answer is not taken), `Drip` sends a byte now and then and never finishes.
   */
  public answerFault: ((token: string) => 'ServerError' | 'Drip' | undefined) | undefined;
  /** How long the API takes to answer an action, to play calls that hang. */
  public apiDelayMs: ((action: string) => number) | undefined;
  /** Called with every answer as it arrives, before the sender gets its response. */
  public onAnswer: ((token: string, answer: CustomResourceAnswer) => void) | undefined;
  private readonly stacks = new Map<string, { name: string; status: string; lastUpdatedTime?: string }>();
  /** Every stack's events, oldest first, by stack id. */
  private readonly events = new Map<string, StackEvent[]>();
  private readonly waiters = new Map<string, Array<(a: ReceivedAnswer) => void>>();
  private readonly server: LocalServer;

  private constructor(private readonly options: CloudFormationEmulatorOptions) {
    this.server = new LocalServer((req, res) => this.handle(req, res));
  }

  /** The base URL, for AWS_ENDPOINT_URL_CLOUDFORMATION. */
  public get endpoint(): string {
    return this.server.endpoint;
  }

  /** Sets a stack's status; an update that begins (UPDATE_IN_PROGRESS) sets its LastUpdatedTime. */
  public setStackStatus(stackId: string, name: string, status: string, now = new Date()): void {
    const previous = this.stacks.get(stackId);
    const lastUpdatedTime = status === 'UPDATE_IN_PROGRESS' ? now.toISOString() : previous?.lastUpdatedTime;
    this.stacks.set(stackId, { name, status, lastUpdatedTime });
  }

  public stackStatus(stackId: string): string | undefined {
    return this.stacks.get(stackId)?.status;
  }

  /** Records a stack event (the stack must have had a status set). */
  public addStackEvent(event: StackEvent): void {
    this.events.set(event.StackId, [...(this.events.get(event.StackId) ?? []), event]);
  }

  /**
   * A stack's events, newest first, as DescribeStackEvents lists them: by stack id (deleted stacks
   * included) or by the name of a stack that is not deleted.
   */
  public stackEvents(stackName: string): StackEvent[] | undefined {
    const stackId = this.stackIdOf(stackName);
    return stackId === undefined ? undefined : [...(this.events.get(stackId) ?? [])].reverse();
  }

  /** The id of the stack a StackName names: a stack id, or the name of a stack not deleted (the newest, if several). */
  private stackIdOf(stackName: string): string | undefined {
    if (this.stacks.has(stackName)) {
      return stackName;
    }
    return [...this.stacks].reverse().find(([, s]) => s.name === stackName && s.status !== 'DELETE_COMPLETE')?.[0];
  }

  /**
   * A fresh presigned ResponseURL, signed at `signedAt` (epoch ms). Its query string stands for the
   * signature a real one carries: it must never show up in a log.
   */
  public newResponseUrl(signedAt = Date.now()): { url: string; token: string; secret: string } {
    const token = randomUUID();
    const secret = `sig${randomUUID().replace(/-/g, '')}`;
    // Signed when CloudFormation sends the request, valid for two hours (docs/cloudformation.md, "ResponseURL").
    const date = new Date(signedAt).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const query = `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=${date}&X-Amz-Expires=7200&X-Amz-Signature=${secret}`;
    return { url: `${this.endpoint}/cloudformation-response/${token}?${query}`, token, secret };
  }

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

  public async close(): Promise<void> {
    await this.server.close();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = (await readBody(req)).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://x');
    const answer = /^\/cloudformation-response\/([^/]+)$/.exec(url.pathname);
    if (answer && req.method === 'PUT') {
      const fault = this.answerFault?.(answer[1]);
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
      return this.receiveAnswer(answer[1], body, req, res);
    }
    if (req.method === 'POST' && url.pathname === '/') {
      const params = new URLSearchParams(body);
      const wait = this.apiDelayMs?.(params.get('Action') ?? '') ?? 0;
      if (wait > 0) {
        const timer = setTimeout(() => this.query(params, req, res), wait).unref();
        res.on('close', () => clearTimeout(timer));
        return;
      }
      return this.query(params, req, res);
    }
    res.writeHead(404).end();
  }

  private receiveAnswer(token: string, body: string, req: http.IncomingMessage, res: http.ServerResponse): void {
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
    this.onAnswer?.(token, parsed);
    res.writeHead(200).end();
  }

  private query(params: URLSearchParams, req: http.IncomingMessage, res: http.ServerResponse): void {
    const xml = (doc: Record<string, unknown>) => `<?xml version="1.0"?>\n${new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_' }).build(doc)}`;
    const error = (status: number, code: string, message: string) => {
      res.writeHead(status, { 'content-type': 'text/xml' });
      res.end(xml({ ErrorResponse: { '@_xmlns': 'http://cloudformation.amazonaws.com/doc/2010-05-15/', 'Error': { Type: 'Sender', Code: code, Message: message }, 'RequestId': randomUUID() } }));
    };
    if (!String(req.headers.authorization ?? '').includes('/cloudformation/aws4_request')) {
      return error(403, 'MissingAuthenticationToken', 'Missing SigV4 signature for service cloudformation');
    }
    const action = params.get('Action') ?? '';
    if (action === 'DescribeStackEvents') {
      return this.describeStackEvents(params, res, xml, error);
    }
    if (action !== 'DescribeStacks' && action !== 'DescribeStackResource') {
      return error(400, 'InvalidAction', `Action ${action} is not emulated`);
    }
    const stackId = params.get('StackName') ?? '';
    if (this.options.authorize && !this.options.authorize(`cloudformation:${action}`, stackId)) {
      return error(403, 'AccessDenied', `User is not authorized to perform: cloudformation:${action} on resource: ${stackId}`);
    }
    const stack = this.stacks.get(stackId);
    if (action === 'DescribeStacks' && this.throttleDescribeStacks?.({ stackId, status: stack?.status })) {
      this.describeCalls.push({ stackId, status: 'Throttling' });
      return error(400, 'Throttling', 'Rate exceeded');
    }
    this.describeCalls.push({ stackId, status: stack?.status });
    if (!stack) {
      return error(400, 'ValidationError', `Stack with id ${stackId} does not exist`);
    }
    if (action === 'DescribeStackResource') {
      const logicalId = params.get('LogicalResourceId') ?? '';
      const physicalId = this.options.physicalId?.(stackId, logicalId);
      const resourceStatus = this.options.resourceStatus?.(stackId, logicalId);
      if (!physicalId && !resourceStatus) {
        return error(400, 'ValidationError', `Resource ${logicalId} does not exist for stack ${stack.name}`);
      }
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(xml({
        DescribeStackResourceResponse: {
          '@_xmlns': 'http://cloudformation.amazonaws.com/doc/2010-05-15/',
          'DescribeStackResourceResult': {
            StackResourceDetail: {
              StackId: stackId,
              StackName: stack.name,
              LogicalResourceId: logicalId,
              ...(physicalId ? { PhysicalResourceId: physicalId } : {}),
              ResourceStatus: resourceStatus ?? 'UPDATE_COMPLETE',
              LastUpdatedTimestamp: new Date(0).toISOString(),
            },
          },
          'ResponseMetadata': { RequestId: randomUUID() },
        },
      }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(xml({
      DescribeStacksResponse: {
        '@_xmlns': 'http://cloudformation.amazonaws.com/doc/2010-05-15/',
        'DescribeStacksResult': {
          Stacks: {
            member: [{
              StackId: stackId,
              StackName: stack.name,
              StackStatus: stack.status,
              CreationTime: new Date(0).toISOString(),
              ...(stack.lastUpdatedTime ? { LastUpdatedTime: stack.lastUpdatedTime } : {}),
            }],
          },
        },
        'ResponseMetadata': { RequestId: randomUUID() },
      },
    }));
  }

  /**
   * DescribeStackEvents: newest first, a page at a time; a NextToken names the first event of the
   * next page, so events added meanwhile do not shift the pages still to come.
   */
  private describeStackEvents(
    params: URLSearchParams, res: http.ServerResponse, xml: (doc: Record<string, unknown>) => string,
    error: (status: number, code: string, message: string) => void,
  ): void {
    const stackName = params.get('StackName') ?? '';
    const stackId = this.stackIdOf(stackName);
    if (this.options.authorize && !this.options.authorize('cloudformation:DescribeStackEvents', stackId ?? stackName)) {
      return error(403, 'AccessDenied', `User is not authorized to perform: cloudformation:DescribeStackEvents on resource: ${stackId ?? stackName}`);
    }
    const status = stackId === undefined ? undefined : this.stacks.get(stackId)?.status;
    if (this.throttleDescribeStackEvents?.({ stackName, status })) {
      this.eventsCalls.push({ stackName, status: 'Throttling' });
      return error(400, 'Throttling', 'Rate exceeded');
    }
    this.eventsCalls.push({ stackName, status });
    if (stackId === undefined) {
      return error(400, 'ValidationError', `Stack [${stackName}] does not exist`);
    }
    const all = this.events.get(stackId) ?? [];
    // Positions count from the oldest event: the next page starts at the one before `start`.
    let start = all.length;
    const token = params.get('NextToken');
    if (token) {
      const parsed = /^(\d+):(.+)$/.exec(Buffer.from(token, 'base64').toString('utf8'));
      if (!parsed || parsed[2] !== stackId || Number(parsed[1]) > all.length) {
        return error(400, 'ValidationError', 'Invalid NextToken');
      }
      start = Number(parsed[1]);
    }
    const size = this.options.eventsPageSize ?? 100;
    const page = all.slice(Math.max(0, start - size), start).reverse();
    const next = start - size > 0 ? Buffer.from(`${start - size}:${stackId}`).toString('base64') : undefined;
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(xml({
      DescribeStackEventsResponse: {
        '@_xmlns': 'http://cloudformation.amazonaws.com/doc/2010-05-15/',
        'DescribeStackEventsResult': {
          StackEvents: {
            member: page.map((e) => ({
              StackId: e.StackId,
              EventId: e.EventId,
              StackName: e.StackName,
              LogicalResourceId: e.LogicalResourceId,
              PhysicalResourceId: e.PhysicalResourceId,
              ResourceType: e.ResourceType,
              Timestamp: e.Timestamp.toISOString(),
              ResourceStatus: e.ResourceStatus,
              ...(e.ResourceStatusReason !== undefined ? { ResourceStatusReason: e.ResourceStatusReason } : {}),
              ...(e.ResourceProperties !== undefined ? { ResourceProperties: e.ResourceProperties } : {}),
            })),
          },
          ...(next ? { NextToken: next } : {}),
        },
        'ResponseMetadata': { RequestId: randomUUID() },
      },
    }));
  }
}
