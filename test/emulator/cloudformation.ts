/**
 * CloudFormation's side of the custom-resource protocol: the presigned ResponseURLs it hands out and
 * the answers that come back to them, and DescribeStacks (awsQuery) for the stack's status, which
 * the handler reads through AWS_ENDPOINT_URL_CLOUDFORMATION; DescribeStackResource; and
 * DescribeStackEvents, the stack's event history as the lifecycle driver records it. This module
 * holds the stacks and who may call what, and the faults of each call; the ResponseURLs and their
 * answers are `cloudformation-response-urls.ts`'s, the awsQuery documents `cloudformation-query.ts`'s.
 */
import type * as http from 'http';
import { describeStackEventsXml, describeStackResourceXml, describeStacksXml, eventsPage, queryErrorXml } from './cloudformation-query';
import type { StackEvent } from './cloudformation-query';
import { AnswerInbox, responseUrlToken, signedResponseUrl } from './cloudformation-response-urls';
import type { AnswerFault, CustomResourceAnswer, ReceivedAnswer } from './cloudformation-response-urls';
import { listening, LocalServer, readBody } from './local-server';

/** How the CloudFormation stand-in behaves: IAM, the resources DescribeStackResource finds, the size of a page of events. */
export interface CloudFormationEmulatorOptions {
  readonly authorize?: (action: string, resourceArn: string) => boolean;
  /** A resource's physical id in a stack, for DescribeStackResource. */
  readonly physicalId?: (stackId: string, logicalId: string) => string | undefined;
  /** A resource's status in a stack, for DescribeStackResource; a resource with neither id nor status does not exist. */
  readonly resourceStatus?: (stackId: string, logicalId: string) => string | undefined;
  /** How many events a DescribeStackEvents page holds at most. @default 100 */
  readonly eventsPageSize?: number;
}

/** The CloudFormation stand-in: stacks, their events, the API that describes them, and the ResponseURLs. */
export class CloudFormationEmulator {
  public static async start(options: CloudFormationEmulatorOptions = {}): Promise<CloudFormationEmulator> {
    return listening(new CloudFormationEmulator(options), (emulator) => emulator.server);
  }

  /** Every answer PUT to a ResponseURL, by request token, in arrival order. */
  public readonly answers: Map<string, ReceivedAnswer[]>;
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
  public answerFault: ((token: string) => AnswerFault | undefined) | undefined;
  /** How long the API takes to answer an action, to play calls that hang. */
  public apiDelayMs: ((action: string) => number) | undefined;
  /** Called with every answer as it arrives, before the sender gets its response. */
  public onAnswer: ((token: string, answer: CustomResourceAnswer) => void) | undefined;
  private readonly stacks = new Map<string, { name: string; status: string; lastUpdatedTime?: string }>();
  /** Every stack's events, oldest first, by stack id. */
  private readonly events = new Map<string, StackEvent[]>();
  private readonly inbox = new AnswerInbox();
  private readonly server: LocalServer;

  private constructor(private readonly options: CloudFormationEmulatorOptions) {
    this.answers = this.inbox.answers;
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

  /**
   * A fresh presigned ResponseURL, signed at `signedAt` (epoch ms). Its query string stands for the
   * signature a real one carries: it must never show up in a log.
   */
  public newResponseUrl(signedAt = Date.now()): { url: string; token: string; secret: string } {
    return signedResponseUrl(this.endpoint, signedAt);
  }

  /** Resolves with the first answer for the token (at once if it came already), or rejects after `timeoutMs`. */
  public awaitAnswer(token: string, timeoutMs: number): Promise<ReceivedAnswer> {
    return this.inbox.awaitAnswer(token, timeoutMs);
  }

  public async close(): Promise<void> {
    await this.server.close();
  }

  /** The id of the stack a StackName names: a stack id, or the name of a stack not deleted (the newest, if several). */
  private stackIdOf(stackName: string): string | undefined {
    if (this.stacks.has(stackName)) {
      return stackName;
    }
    return [...this.stacks].reverse().find(([, s]) => s.name === stackName && s.status !== 'DELETE_COMPLETE')?.[0];
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = (await readBody(req)).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://x');
    const token = responseUrlToken(url.pathname);
    if (token !== undefined && req.method === 'PUT') {
      const fault = this.answerFault?.(token);
      const onAnswer = this.onAnswer;
      return this.inbox.receive(token, body, req, res, fault, onAnswer && ((answer) => onAnswer(token, answer)));
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

  private query(params: URLSearchParams, req: http.IncomingMessage, res: http.ServerResponse): void {
    const error = (status: number, code: string, message: string) => {
      res.writeHead(status, { 'content-type': 'text/xml' });
      res.end(queryErrorXml(code, message));
    };
    if (!String(req.headers.authorization ?? '').includes('/cloudformation/aws4_request')) {
      return error(403, 'MissingAuthenticationToken', 'Missing SigV4 signature for service cloudformation');
    }
    const action = params.get('Action') ?? '';
    if (action === 'DescribeStackEvents') {
      return this.describeStackEvents(params, res, error);
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
      res.end(describeStackResourceXml({ stackId, ...stack }, { logicalId, physicalId, status: resourceStatus }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(describeStacksXml({ stackId, ...stack }));
  }

  /** DescribeStackEvents: newest first, a page at a time (see `eventsPage`). */
  private describeStackEvents(
    params: URLSearchParams, res: http.ServerResponse, error: (status: number, code: string, message: string) => void,
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
    const paged = eventsPage(this.events.get(stackId) ?? [], stackId, params.get('NextToken'), this.options.eventsPageSize ?? 100);
    if (!paged) {
      return error(400, 'ValidationError', 'Invalid NextToken');
    }
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(describeStackEventsXml(paged.page, paged.next));
  }
}
