/**
 * The lifecycle driver: plays CloudFormation for synthesized CDK stacks against the local cloud.
 *
 * It deploys a template resource by resource in dependency order, resolving intrinsics from a fake
 * state; sends the stack's Custom::CloudFrontInvalidation resources Create, Update and Delete
 * requests the way CloudFormation does (asynchronous invocation, presigned ResponseURL, waiting up
 * to the resource's ServiceTimeout); applies IAM policies as they are deployed; keeps what each
 * BucketDeployment put in its bucket; rolls a failed update back (updates back to the old
 * properties, in either order, then deletes what the update created); and cleans up after success.
 * It is the only code that knows it is not AWS.
 */
import { createHash } from 'crypto';
import type { HandlerFunction, SynthesizedStack, Template, TemplateResource } from './assembly';
import { functionAt } from './assembly';
import { authorizer } from './iam';
import type { ResolveContext } from './intrinsics';
import { resolve } from './intrinsics';
import type { LocalCloudOptions } from './local-cloud';
import { ACCOUNT_ID, LocalCloud, REGION } from './local-cloud';
import type { CustomResourceAnswer } from '../emulator/cloudformation';
import type { EmulatedInvalidation } from '../emulator/cloudfront';
import { Prng } from '../emulator/prng';

const INVALIDATION_TYPE = 'Custom::CloudFrontInvalidation';
const GUARD_TYPE = 'Custom::CloudFrontInvalidationRollbackGuard';
/** Resources whose requests go to the invalidation handler. */
const HANDLED = new Set([INVALIDATION_TYPE, GUARD_TYPE]);

export type RollbackOrder = 'dependencies-first' | 'dependents-first';

export interface DriverOptions {
  readonly cloud?: LocalCloudOptions;
  /**
   * The order in which a rollback updates resources back. CloudFormation's is the update order,
   * dependencies first (see README, "Rollbacks"); the other one checks correctness regardless.
   */
  readonly rollbackOrder?: RollbackOrder;
  /** Longest wait for a custom resource's answer, whatever its ServiceTimeout. @default 120000 */
  readonly answerTimeoutMs?: number;
  /** Seed for stack and request ids, so that runs repeat exactly. @default 1 */
  readonly seed?: number;
}

export interface DeployOptions {
  /** Resources that fail when this deployment creates or updates them. */
  readonly fail?: readonly string[];
  /** Values of the template's parameters. */
  readonly parameters?: Readonly<Record<string, string>>;
  /** Delivers every request to an invalidation handler twice, as Lambda may. */
  readonly duplicateDelivery?: boolean;
  /**
   * If the deploy rolls back, delivers the requests of the failed update once more as the rollback
   * begins, as a late duplicate from Lambda would arrive.
   */
  readonly lateDuplicates?: boolean;
  /** How long a rollback takes over each resource it puts back, as a slow resource would. @default 0 */
  readonly rollbackStepMs?: number;
}

export type Phase = 'deploy' | 'rollback' | 'cleanup' | 'delete' | 'redelivery';

export interface RequestRecord {
  readonly logicalId: string;
  readonly resourceType: string;
  readonly requestType: 'Create' | 'Update' | 'Delete';
  readonly requestId: string;
  readonly phase: Phase;
  /** The stack's status while the request ran. */
  readonly stackStatus: string;
  /** When the request was sent, in the sequence shared with CloudFront's requests. */
  readonly sentAt: number;
  /** ResourceProperties as sent. */
  readonly properties: Record<string, unknown>;
  /** OldResourceProperties as sent (Update). */
  readonly oldProperties?: Record<string, unknown>;
  answer?: CustomResourceAnswer;
  /** When the first answer arrived, in the sequence shared with CloudFront's requests. */
  answeredAt?: number;
  /** Every answer its ResponseURL received by the end of the step (a request delivered again may answer again). */
  answers?: readonly CustomResourceAnswer[];
  /** How many times Lambda delivered the request to the handler by the end of the step, retries included. */
  deliveries?: number;
  /** True when no answer came within the ServiceTimeout. */
  unanswered?: boolean;
}

export interface ResourceChange {
  readonly logicalId: string;
  readonly type: string;
  readonly action: 'create' | 'update' | 'delete' | 'fail' | 'revert';
  readonly phase: Phase;
  /** When the change finished, in the sequence shared with CloudFront's requests. */
  readonly at: number;
}

/** What a BucketDeployment put under a prefix of a bucket. */
export interface ContentChange {
  readonly bucket: string;
  readonly prefix: string;
  /** A short hash of the sources deployed there. */
  readonly version: string;
  /** Distributions with an origin on the bucket. */
  readonly distributions: readonly string[];
  readonly phase: Phase;
  /** When the files had landed, in the sequence shared with CloudFront's requests: an invalidation created later purges them. */
  readonly at: number;
}

export interface StepReport {
  readonly stackName: string;
  readonly stackStatus: string;
  readonly changes: readonly ResourceChange[];
  readonly requests: readonly RequestRecord[];
  readonly content: readonly ContentChange[];
  /** Invalidations CloudFront received during the step, deferred ones included. */
  readonly invalidations: readonly EmulatedInvalidation[];
}

interface Deployed {
  readonly logicalId: string;
  readonly type: string;
  physicalId: string;
  properties: Record<string, unknown>;
  attributes: Record<string, unknown>;
}

interface StackState {
  readonly name: string;
  readonly id: string;
  template?: Template;
  synthesized?: SynthesizedStack;
  parameters: Record<string, string>;
  resources: Map<string, Deployed>;
  status: string;
}

/** The last request sent to an invalidation resource, kept so it can be delivered again. */
interface SentRequest {
  readonly functionName: string;
  readonly event: Record<string, unknown>;
  readonly record: RequestRecord;
}

export class LifecycleDriver {
  public static async start(options: DriverOptions = {}): Promise<LifecycleDriver> {
    return new LifecycleDriver(await LocalCloud.start(options.cloud), options);
  }

  /** Every step so far. */
  public readonly steps: StepReport[] = [];
  private readonly stacks = new Map<string, StackState>();
  private readonly exports = new Map<string, unknown>();
  private readonly prng: Prng;
  /** Applied IAM policies: statements by policy resource, with the roles they attach to. */
  private readonly policies = new Map<string, { roles: string[]; statements: unknown[] }>();
  /** Names of the roles invalidation handlers run as. */
  private readonly handlerRoles = new Set<string>();
  /** Current content per bucket/prefix. */
  private readonly content = new Map<string, string>();
  /** SSM parameters, which parameters of type AWS::SSM::Parameter::Value<...> name. */
  private readonly ssmParameters = new Map<string, string>();
  private lastSent: SentRequest | undefined;
  /** Requests sent during the current deploy's forward pass. */
  private forwardSent: SentRequest[] = [];
  /** Statuses of the custom resources the handler serves, as DescribeStackResource shows them, by stack id and logical id. */
  private readonly statuses = new Map<string, string>();
  /** The ResponseURL token of each request record. */
  private readonly tokens = new WeakMap<RequestRecord, string>();
  private current: { requests: RequestRecord[]; changes: ResourceChange[]; content: ContentChange[] } | undefined;

  private constructor(public readonly cloud: LocalCloud, private readonly options: DriverOptions) {
    this.prng = new Prng(options.seed ?? 1);
    this.cloud.authorizer = (action, arn) => this.authorize(action, arn);
    this.cloud.physicalIds = (stackId, logicalId) => [...this.stacks.values()].find((s) => s.id === stackId)?.resources.get(logicalId)?.physicalId;
    this.cloud.resourceStatuses = (stackId, logicalId) => this.statuses.get(`${stackId} ${logicalId}`);
  }

  /** Creates or updates a stack to match the synthesized one. */
  public async deploy(synthesized: SynthesizedStack, options: DeployOptions = {}): Promise<StepReport> {
    let stack = this.stacks.get(synthesized.stackName);
    if (!stack || stack.status.startsWith('DELETE')) {
      stack = {
        name: synthesized.stackName,
        id: `arn:aws:cloudformation:${REGION}:${ACCOUNT_ID}:stack/${synthesized.stackName}/${this.uuid()}`,
        parameters: {},
        resources: new Map(),
        status: 'REVIEW_IN_PROGRESS',
      };
      this.stacks.set(stack.name, stack);
    }
    return this.step(stack, () => this.update(stack!, synthesized, options));
  }

  /** Deletes a stack: every resource, dependents first. */
  public async destroy(stackName: string): Promise<StepReport> {
    const stack = this.stacks.get(stackName);
    if (!stack?.template) {
      throw new Error(`stack ${stackName} is not deployed`);
    }
    return this.step(stack, async () => {
      this.setStatus(stack, 'DELETE_IN_PROGRESS');
      const order = deploymentOrder(stack.template!).reverse();
      for (const id of order) {
        if (stack.resources.has(id)) {
          await this.remove(stack, id, 'delete');
        }
      }
      this.setStatus(stack, 'DELETE_COMPLETE');
      stack.template = undefined;
    });
  }

  /** Delivers the most recent request to an invalidation handler once more, as Lambda may. */
  public async redeliverLast(stackName: string): Promise<StepReport> {
    const last = this.lastSent;
    const stack = this.stacks.get(stackName);
    if (!last || !stack) {
      throw new Error('no request to deliver again');
    }
    return this.step(stack, async () => {
      const record: RequestRecord = { ...last.record, phase: 'redelivery', stackStatus: stack.status, sentAt: this.clock() };
      this.current!.requests.push(record);
      const token = /cloudformation-response\/([^?]+)/.exec(String(last.event.ResponseURL))![1];
      this.tokens.set(record, token);
      const before = this.cloud.cloudformation.answers.get(token)?.length ?? 0;
      this.cloud.lambda.invokeAsync(last.functionName, last.event);
      await this.cloud.lambda.idle();
      const answers = this.cloud.cloudformation.answers.get(token) ?? [];
      record.answer = answers.length > before ? answers[answers.length - 1].answer : undefined;
      record.unanswered = record.answer === undefined;
    });
  }

  /** Sets an SSM parameter: the next deploy resolves parameters that name it to this value. */
  public putParameter(name: string, value: string): void {
    this.ssmParameters.set(name, value);
  }

  /** A stack's current state, for assertions. */
  public resource(stackName: string, logicalId: string): Readonly<Deployed> | undefined {
    return this.stacks.get(stackName)?.resources.get(logicalId);
  }

  public stackId(stackName: string): string | undefined {
    return this.stacks.get(stackName)?.id;
  }

  public async close(): Promise<void> {
    await this.cloud.close();
  }

  private async step(stack: StackState, body: () => Promise<void>): Promise<StepReport> {
    const firstRequest = this.cloud.cloudfront.requests.length;
    this.current = { requests: [], changes: [], content: [] };
    await body();
    // Purges deferred past a rollback, and hand-overs, finish after the stack settles.
    await this.cloud.lambda.idle();
    const deliveries = new Map<string, number>();
    for (const invocation of this.cloud.lambda.invocations) {
      const url = invocation.source === 'event' ? (invocation.payload as { ResponseURL?: unknown })?.ResponseURL : undefined;
      const token = typeof url === 'string' ? /cloudformation-response\/([^?]+)/.exec(url)?.[1] : undefined;
      if (token) {
        deliveries.set(token, (deliveries.get(token) ?? 0) + 1);
      }
    }
    for (const r of this.current.requests) {
      const token = this.tokens.get(r) ?? '';
      r.answers = (this.cloud.cloudformation.answers.get(token) ?? []).map((a) => a.answer);
      r.deliveries = deliveries.get(token) ?? 0;
    }
    const created = new Set(this.cloud.cloudfront.requests.slice(firstRequest).map((r) => r.created).filter((c): c is string => !!c));
    const report: StepReport = {
      stackName: stack.name,
      stackStatus: stack.status,
      changes: this.current.changes,
      requests: this.current.requests,
      content: this.current.content,
      invalidations: this.cloud.cloudfront.invalidations().filter((i) => created.has(i.id)),
    };
    this.current = undefined;
    this.steps.push(report);
    return report;
  }

  private async update(stack: StackState, synthesized: SynthesizedStack, options: DeployOptions): Promise<void> {
    const creating = stack.template === undefined;
    const oldTemplate = stack.template;
    this.forwardSent = [];
    const template = synthesized.template;
    stack.parameters = { ...this.parameterValues(template), ...options.parameters };
    this.setStatus(stack, creating ? 'CREATE_IN_PROGRESS' : 'UPDATE_IN_PROGRESS');

    const before = new Map([...stack.resources].map(([id, r]) => [id, { ...r, properties: r.properties, attributes: { ...r.attributes } }]));
    const touched: string[] = [];
    const created: string[] = [];
    let failure: string | undefined;
    for (const id of deploymentOrder(template)) {
      const def = template.Resources[id];
      if (def.Type === 'AWS::CDK::Metadata') {
        continue;
      }
      const properties = resolve(def.Properties ?? {}, this.context(stack)) as Record<string, unknown>;
      const existing = stack.resources.get(id);
      const changed = !existing || existing.type !== def.Type || JSON.stringify(existing.properties) !== JSON.stringify(properties);
      if (!changed) {
        continue;
      }
      if (options.fail?.includes(id)) {
        this.note(id, def.Type, 'fail', 'deploy');
        failure = id;
        break;
      }
      const ok = existing
        ? await this.change(stack, synthesized, id, def, properties, existing, 'deploy', options)
        : await this.create(stack, synthesized, id, def, properties, 'deploy', options);
      if (!ok) {
        failure = id;
        if (existing) {
          // A resource whose update failed is rolled back too: its Update back names what was tried.
          existing.properties = properties;
          touched.push(id);
        }
        break;
      }
      (existing ? touched : created).push(id);
    }

    if (failure === undefined) {
      stack.template = template;
      stack.synthesized = synthesized;
      if (!creating) {
        this.setStatus(stack, 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS');
        for (const id of deploymentOrder(oldTemplate!).reverse()) {
          if (!(id in template.Resources) && stack.resources.has(id)) {
            await this.remove(stack, id, 'cleanup');
          }
        }
      }
      this.setStatus(stack, creating ? 'CREATE_COMPLETE' : 'UPDATE_COMPLETE');
      return;
    }

    if (creating) {
      this.setStatus(stack, 'ROLLBACK_IN_PROGRESS');
      for (const id of [...created].reverse()) {
        await this.remove(stack, id, 'rollback');
      }
      this.setStatus(stack, 'ROLLBACK_COMPLETE');
      stack.template = undefined;
      return;
    }

    this.setStatus(stack, 'UPDATE_ROLLBACK_IN_PROGRESS');
    if (options.lateDuplicates) {
      for (const sent of this.forwardSent) {
        this.cloud.lambda.invokeAsync(sent.functionName, sent.event);
      }
    }
    const order = (this.options.rollbackOrder ?? 'dependencies-first') === 'dependencies-first' ? touched : [...touched].reverse();
    let rollbackFailed = false;
    for (const id of order) {
      if (options.rollbackStepMs) {
        await new Promise((wake) => setTimeout(wake, options.rollbackStepMs));
      }
      const old = before.get(id)!;
      const current = stack.resources.get(id)!;
      const def = oldTemplate!.Resources[id];
      const ok = await this.change(stack, stack.synthesized!, id, def, old.properties, current, 'rollback', options);
      rollbackFailed = rollbackFailed || !ok;
    }
    this.setStatus(stack, 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS');
    for (const id of [...created].reverse()) {
      await this.remove(stack, id, 'rollback');
    }
    this.setStatus(stack, rollbackFailed ? 'UPDATE_ROLLBACK_FAILED' : 'UPDATE_ROLLBACK_COMPLETE');
  }

  private async create(
    stack: StackState, synthesized: SynthesizedStack, id: string, def: TemplateResource, properties: Record<string, unknown>, phase: Phase,
    options: DeployOptions,
  ): Promise<boolean> {
    if (HANDLED.has(def.Type)) {
      const answer = await this.sendRequest(stack, id, def.Type, 'Create', properties, undefined, undefined, phase, options);
      if (answer?.Status !== 'SUCCESS') {
        return false;
      }
      stack.resources.set(id, { logicalId: id, type: def.Type, physicalId: answer.PhysicalResourceId, properties, attributes: { ...answer.Data } });
    } else {
      const deployed = this.fake(stack, id, def.Type, properties);
      stack.resources.set(id, deployed);
      this.apply(stack, synthesized, deployed, phase);
    }
    this.note(id, def.Type, 'create', phase);
    return true;
  }

  private async change(
    stack: StackState, synthesized: SynthesizedStack, id: string, def: TemplateResource, properties: Record<string, unknown>, existing: Deployed,
    phase: Phase, options: DeployOptions,
  ): Promise<boolean> {
    if (HANDLED.has(def.Type)) {
      const answer = await this.sendRequest(stack, id, def.Type, 'Update', properties, existing.properties, existing.physicalId, phase, options);
      if (answer?.Status !== 'SUCCESS') {
        return false;
      }
      if (answer.PhysicalResourceId !== existing.physicalId) {
        throw new Error(`${id} answered a new physical id on ${phase}: a replacement, which this handler must never ask for`);
      }
      existing.properties = properties;
      existing.attributes = { ...answer.Data };
    } else {
      existing.properties = properties;
      this.apply(stack, synthesized, existing, phase);
    }
    this.note(id, def.Type, phase === 'rollback' ? 'revert' : 'update', phase);
    return true;
  }

  private async remove(stack: StackState, id: string, phase: Phase): Promise<void> {
    const deployed = stack.resources.get(id)!;
    if (HANDLED.has(deployed.type)) {
      // CloudFormation retries a failing cleanup Delete and then moves on; the handler must never fail one.
      await this.sendRequest(stack, id, deployed.type, 'Delete', deployed.properties, undefined, deployed.physicalId, phase, {});
    } else if (deployed.type === 'AWS::CloudFront::Distribution') {
      this.cloud.cloudfront.deleteDistribution(deployed.physicalId);
    } else if (deployed.type === 'AWS::Lambda::Function') {
      this.cloud.lambda.unregister(deployed.physicalId);
    } else if (deployed.type === 'AWS::IAM::Policy') {
      this.policies.delete(`${stack.name}/${id}`);
    }
    stack.resources.delete(id);
    this.note(id, deployed.type, 'delete', phase);
  }

  private async sendRequest(
    stack: StackState, logicalId: string, resourceType: string, requestType: 'Create' | 'Update' | 'Delete', properties: Record<string, unknown>,
    oldProperties: Record<string, unknown> | undefined, physicalId: string | undefined, phase: Phase, options: DeployOptions,
  ): Promise<CustomResourceAnswer | undefined> {
    const serviceToken = String(properties.ServiceToken);
    const functionName = serviceToken.split(':').pop()!;
    const record: RequestRecord = {
      logicalId, resourceType, requestType, requestId: this.uuid(), phase, stackStatus: stack.status, sentAt: this.clock(), properties, oldProperties,
    };
    this.current!.requests.push(record);
    const { url, token } = this.cloud.cloudformation.newResponseUrl();
    this.tokens.set(record, token);
    const event = {
      RequestType: requestType,
      ServiceToken: serviceToken,
      ResponseURL: url,
      StackId: stack.id,
      RequestId: record.requestId,
      LogicalResourceId: logicalId,
      ResourceType: resourceType,
      ResourceProperties: properties,
      ...(oldProperties ? { OldResourceProperties: oldProperties } : {}),
      ...(physicalId ? { PhysicalResourceId: physicalId } : {}),
    };
    this.lastSent = { functionName, event, record };
    if (phase === 'deploy') {
      this.forwardSent.push(this.lastSent);
    }
    const statusKey = `${stack.id} ${logicalId}`;
    // CloudFormation shows the resource in progress while it waits for the answer.
    this.statuses.set(statusKey, `${requestType.toUpperCase()}_IN_PROGRESS`);
    this.cloud.lambda.invokeAsync(functionName, event);
    if (options.duplicateDelivery) {
      this.cloud.lambda.invokeAsync(functionName, event);
    }
    const serviceTimeoutMs = Number(properties.ServiceTimeout ?? 3600) * 1000;
    try {
      const received = await this.cloud.cloudformation.awaitAnswer(token, Math.min(serviceTimeoutMs, this.options.answerTimeoutMs ?? 120_000));
      record.answer = received.answer;
      record.answeredAt = this.clock();
    } catch {
      record.unanswered = true;
    }
    if (requestType === 'Delete') {
      this.statuses.delete(statusKey);
    } else {
      this.statuses.set(statusKey, `${requestType.toUpperCase()}_${record.answer?.Status === 'SUCCESS' ? 'COMPLETE' : 'FAILED'}`);
    }
    return record.answer;
  }

  /** A stand-in for a resource the driver does not run: ids and attributes shaped like the real ones. */
  private fake(stack: StackState, id: string, type: string, properties: Record<string, unknown>): Deployed {
    const suffix = this.prng.alphanumeric(12);
    const name = `${stack.name}-${id}`.slice(0, 40) + `-${suffix}`;
    const arn = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT_ID}:${resource}`;
    switch (type) {
      case 'AWS::CloudFront::Distribution': {
        const distributionId = this.cloud.cloudfront.addDistribution();
        return this.deployed(id, type, distributionId, properties, { Id: distributionId, DomainName: `${distributionId.toLowerCase()}.cloudfront.net` });
      }
      case 'AWS::CloudFront::DistributionTenant': {
        const tenantId = this.cloud.cloudfront.addTenant(String(properties.DistributionId));
        return this.deployed(id, type, tenantId, properties, { Id: tenantId });
      }
      case 'AWS::S3::Bucket': {
        const bucket = name.toLowerCase();
        return this.deployed(id, type, bucket, properties, {
          Arn: `arn:aws:s3:::${bucket}`,
          DomainName: `${bucket}.s3.amazonaws.com`,
          RegionalDomainName: `${bucket}.s3.${REGION}.amazonaws.com`,
          WebsiteURL: `http://${bucket}.s3-website-${REGION}.amazonaws.com`,
        });
      }
      case 'AWS::Lambda::Function':
        return this.deployed(id, type, name, properties, { Arn: arn('lambda', `function:${name}`) });
      case 'AWS::Lambda::Version':
        return this.deployed(id, type, `${String(properties.FunctionName)}:${this.prng.alphanumeric(2)}`, properties, { Version: String(1 + Math.floor(this.prng.next() * 1000)) });
      case 'AWS::IAM::Role':
        return this.deployed(id, type, name, properties, { Arn: `arn:aws:iam::${ACCOUNT_ID}:role/${name}`, RoleId: `AROA${suffix}` });
      case 'AWS::Logs::LogGroup':
        return this.deployed(id, type, `/aws/lambda/${name}`, properties, { Arn: arn('logs', `log-group:/aws/lambda/${name}:*`) });
      case 'AWS::SSM::Parameter':
        return this.deployed(id, type, String(properties.Name ?? name), properties, { Type: properties.Type, Value: properties.Value });
      case 'Custom::CDKBucketDeployment':
        return this.deployed(id, type, `aws.cdk.s3deployment.${this.uuid()}`, properties, {
          DestinationBucketArn: `arn:aws:s3:::${String(properties.DestinationBucketName)}`,
          SourceObjectKeys: properties.SourceObjectKeys,
        });
      default:
        return this.deployed(id, type, name, properties, { Arn: arn(type.split('::')[1]?.toLowerCase() ?? 'custom', id) });
    }
  }

  private deployed(
    logicalId: string, type: string, physicalId: string, properties: Record<string, unknown>, attributes: Record<string, unknown>,
  ): Deployed {
    return { logicalId, type, physicalId, properties, attributes };
  }

  /** What deploying a resource does beyond existing: code to run, permissions, files in a bucket. */
  private apply(stack: StackState, synthesized: SynthesizedStack, deployed: Deployed, phase: Phase): void {
    switch (deployed.type) {
      case 'AWS::Lambda::Function': {
        if (this.runsInvalidations(synthesized, deployed.logicalId)) {
          const fn: HandlerFunction = functionAt(synthesized, deployed.logicalId);
          this.cloud.deployFunction(deployed.physicalId, fn);
          this.handlerRoles.add(String(deployed.properties.Role).split('/').pop()!);
        }
        break;
      }
      case 'AWS::IAM::Policy': {
        const roles = (deployed.properties.Roles ?? []) as string[];
        const statements = (deployed.properties.PolicyDocument as { Statement: unknown[] }).Statement;
        this.policies.set(`${stack.name}/${deployed.logicalId}`, { roles, statements });
        break;
      }
      case 'AWS::IAM::Role': {
        const inline = (deployed.properties.Policies ?? []) as Array<{ PolicyDocument: { Statement: unknown[] } }>;
        this.policies.set(`${stack.name}/${deployed.logicalId}/inline`, { roles: [deployed.physicalId], statements: inline.flatMap((p) => p.PolicyDocument.Statement) });
        break;
      }
      case 'Custom::CDKBucketDeployment': {
        const p = deployed.properties;
        const bucket = String(p.DestinationBucketName);
        const prefix = String(p.DestinationBucketKeyPrefix ?? '');
        const version = createHash('sha256').update(JSON.stringify([p.SourceObjectKeys, p.SourceMarkers ?? null])).digest('hex').slice(0, 8);
        const key = `${bucket}/${prefix}`;
        if (this.content.get(key) !== version) {
          this.content.set(key, version);
          this.current!.content.push({ bucket, prefix, version, distributions: this.distributionsServing(bucket), phase, at: this.clock() });
        }
        break;
      }
    }
  }

  /** Whether the function is the one behind the synthesized stack's invalidation resources. */
  private runsInvalidations(synthesized: SynthesizedStack, logicalId: string): boolean {
    return Object.values(synthesized.template.Resources).some((r) => r.Type === INVALIDATION_TYPE
      && JSON.stringify(r.Properties?.ServiceToken) === JSON.stringify({ 'Fn::GetAtt': [logicalId, 'Arn'] }));
  }

  private distributionsServing(bucket: string): string[] {
    const out: string[] = [];
    for (const stack of this.stacks.values()) {
      for (const r of stack.resources.values()) {
        if (r.type === 'AWS::CloudFront::Distribution') {
          const origins = ((r.properties.DistributionConfig as { Origins?: Array<{ DomainName: string }> })?.Origins ?? []);
          if (origins.some((o) => String(o.DomainName).startsWith(`${bucket}.s3.`))) {
            out.push(r.physicalId);
          }
        }
      }
    }
    return out;
  }

  /** IAM as deployed: the statements of the applied policies attached to the handlers' roles. */
  private authorize(action: string, arn: string): boolean {
    const statements = [...this.policies.values()]
      .filter((p) => p.roles.some((r) => this.handlerRoles.has(r)))
      .flatMap((p) => p.statements) as Parameters<typeof authorizer>[0];
    return authorizer(statements)(action, arn);
  }

  private context(stack: StackState): ResolveContext {
    return {
      accountId: ACCOUNT_ID,
      region: REGION,
      partition: 'aws',
      stackId: stack.id,
      stackName: stack.name,
      ref: (id) => stack.resources.get(id)?.physicalId ?? stack.parameters[id],
      getAtt: (id, attr) => {
        const r = stack.resources.get(id);
        if (!r || attr in r.attributes) {
          return r?.attributes[attr];
        }
        // Any attribute of a resource the driver fakes; a custom resource has only what it answered.
        return r.type.startsWith('Custom::') ? undefined : `${r.physicalId}-${attr}`;
      },
      importValue: (name) => this.exports.get(name),
    };
  }

  /** Parameter values as CloudFormation fills them in: defaults, and SSM parameters' current values. */
  private parameterValues(template: Template): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, p] of Object.entries(template.Parameters ?? {})) {
      if (p.Default === undefined) {
        continue;
      }
      if (p.Type.startsWith('AWS::SSM::Parameter::Value<')) {
        const value = this.ssmParameters.get(String(p.Default));
        if (value !== undefined) {
          out[name] = value;
        }
      } else {
        out[name] = String(p.Default);
      }
    }
    return out;
  }

  private setStatus(stack: StackState, status: string): void {
    stack.status = status;
    // Updates begin a second apart on the stack's clock, so each has its own LastUpdatedTime.
    this.cloud.cloudformation.setStackStatus(stack.id, stack.name, status, new Date(Date.UTC(2026, 0, 1) + this.clock() * 1000));
    if (status.endsWith('_COMPLETE') && stack.template) {
      this.publishExports(stack);
    }
  }

  private publishExports(stack: StackState): void {
    for (const output of Object.values(stack.template?.Outputs ?? {})) {
      if (output.Export) {
        this.exports.set(String(resolve(output.Export.Name, this.context(stack))), resolve(output.Value, this.context(stack)));
      }
    }
  }

  private note(logicalId: string, type: string, action: ResourceChange['action'], phase: Phase): void {
    this.current?.changes.push({ logicalId, type, action, phase, at: this.clock() });
  }

  /** The driver's clock: the next place in the sequence shared with CloudFront's requests. */
  private clock(): number {
    return this.cloud.tick();
  }

  private uuid(): string {
    const h = this.prng.alphanumeric(32).toLowerCase();
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
  }
}

/** Logical ids in an order where every resource comes after what it refers to or depends on. */
export function deploymentOrder(template: Template): string[] {
  const ids = Object.keys(template.Resources);
  const known = new Set(ids);
  const deps = new Map(ids.map((id) => [id, [...referencesOf(template.Resources[id])].filter((d) => known.has(d) && d !== id)]));
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]) => {
    if (state.get(id) === 'done') {
      return;
    }
    if (state.get(id) === 'visiting') {
      throw new Error(`circular dependency: ${[...path, id].join(' -> ')}`);
    }
    state.set(id, 'visiting');
    for (const d of [...deps.get(id)!].sort()) {
      visit(d, [...path, id]);
    }
    state.set(id, 'done');
    order.push(id);
  };
  [...ids].sort().forEach((id) => visit(id, []));
  return order;
}

function referencesOf(resource: TemplateResource): Set<string> {
  const out = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(walk);
    } else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
        if (k === 'Ref' && typeof v === 'string') {
          out.add(v);
        } else if (k === 'Fn::GetAtt') {
          out.add(Array.isArray(v) ? String(v[0]) : String(v).split('.')[0]);
        } else if (k === 'Fn::Sub') {
          const text = Array.isArray(v) ? v[0] : v;
          for (const m of String(text).matchAll(/\$\{([^!}][^}.]*)/g)) {
            out.add(m[1]);
          }
          walk(v);
        } else {
          walk(v);
        }
      }
    }
  };
  walk(resource.Properties);
  for (const d of [resource.DependsOn ?? []].flat()) {
    out.add(d);
  }
  return out;
}
