/**
 * The lifecycle driver: plays CloudFormation for synthesized CDK stacks against the local cloud.
 *
 * It deploys a template resource by resource in dependency order, resolving intrinsics from a fake
 * state; sends the stack's Custom::CloudFrontInvalidation resources Create, Update and Delete
 * requests the way CloudFormation does (asynchronous invocation, presigned ResponseURL, waiting up
 * to the resource's ServiceTimeout); applies IAM policies, Lambda permissions, queue policies and
 * EventBridge rules as they are deployed (IAM's changes reaching the handlers late, if asked);
 * keeps what each BucketDeployment put in its bucket, and what its Delete removes there when it
 * does not retain its files; deploys nested stacks from their templates in the cloud assembly;
 * rolls a failed update back (updates back to the old properties, in either order, then deletes
 * what the update created), stopping at UPDATE_ROLLBACK_FAILED when a resource cannot be put back,
 * until ContinueUpdateRollback; with rollback disabled, stops at UPDATE_FAILED or CREATE_FAILED
 * until RollbackStack or another deploy; rolls a failed creation back to nothing; cleans up after
 * success; replaces a custom resource that answers a new physical id; keeps what a DeletionPolicy
 * or UpdateReplacePolicy retains; sends EventBridge a stack status event at every status change
 * (docs/cloudformation.md, "Stack status events"); records every stack event, the resources'
 * status changes and the stack's, for DescribeStackEvents; and honours conditions
 * (docs/cloudformation.md, "Conditions and dependencies"): a resource whose condition is false is
 * not created (and is deleted by the cleanup when it was), `Fn::If` takes its branch, a `Ref` in a
 * resource's Metadata orders it like one in its properties, and a template that refers to, or
 * depends on, a resource its conditions leave out is refused before anything is deployed.
 * It is the only code that knows it is not AWS.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import type { HandlerFunction, SynthesizedStack, Template, TemplateResource } from './assembly';
import { functionAt } from './assembly';
import { dependencies, effectiveTemplate } from './conditions';
import { authorizer } from './iam';
import type { ResolveContext } from './intrinsics';
import { resolve } from './intrinsics';
import type { LocalCloudOptions } from './local-cloud';
import { ACCOUNT_ID, LocalCloud, REGION } from './local-cloud';
import type { CustomResourceAnswer, StackEvent } from '../emulator/cloudformation';
import type { EmulatedInvalidation } from '../emulator/cloudfront';
import type { DeliveryOptions, DeliveryRecord, Rule, RuleTarget } from '../emulator/eventbridge';
import { stackStatusChangeEvent, ValidationException } from '../emulator/eventbridge';
import { Prng } from '../emulator/prng';

const INVALIDATION_TYPE = 'Custom::CloudFrontInvalidation';
const NESTED_STACK_TYPE = 'AWS::CloudFormation::Stack';

export type RollbackOrder = 'dependencies-first' | 'dependents-first';

/** How often the stack status events come twice or late, picked by the driver's seeded generator. */
export interface EventFaults {
  /** Share of events delivered twice (same id). @default 0 */
  readonly duplicateRate?: number;
  /** Share of events delivered late: half after `lateMs`, half once the next step has begun. @default 0 */
  readonly lateRate?: number;
  /** @default 300 */
  readonly lateMs?: number;
}

export interface DriverOptions {
  readonly cloud?: LocalCloudOptions;
  /**
   * The order in which a rollback updates resources back. CloudFormation's is the update order,
   * dependencies first (see CONTRIBUTING.md, "Failed deploys"); the other one checks correctness regardless.
   */
  readonly rollbackOrder?: RollbackOrder;
  /** Longest wait for a custom resource's answer, whatever its ServiceTimeout. @default 120000 */
  readonly answerTimeoutMs?: number;
  /**
   * How long a change of IAM (a policy or a role's inline policies created, updated or deleted) takes
   * to reach the handlers' authorizer after the driver applied it: IAM is eventually consistent, and
   * a grant may take seconds. @default 0
   */
  readonly iamPropagationMs?: number;
  /** Seed for stack and request ids, and for event faults, so that runs repeat exactly. @default 1 */
  readonly seed?: number;
  /** Stack status events delivered twice or late, at random. */
  readonly eventFaults?: EventFaults;
  /**
   * Stand-ins for the handlers of other custom resource types (`Custom::AWS`, say), by resource
   * type: called as CloudFormation would call the real one, after the driver has applied the
   * resource (a BucketDeployment's files have landed). @default none: such resources only exist
   */
  readonly customResources?: Readonly<Record<string, CustomResourceModel>>;
}

/** What a stand-in for another custom resource type's handler is handed. */
export interface CustomResourceCall {
  readonly stackName: string;
  readonly logicalId: string;
  readonly requestType: 'Create' | 'Update' | 'Delete';
  readonly phase: Phase;
  readonly properties: Record<string, unknown>;
  readonly oldProperties?: Record<string, unknown>;
}

/** A stand-in for another custom resource type's handler. */
export type CustomResourceModel = (call: CustomResourceCall) => Promise<void>;

export interface DeployOptions {
  /** Resources that fail when this deployment creates or updates them. */
  readonly fail?: readonly string[];
  /**
   * Resources that fail when the rollback of this deployment puts them back: the stack ends
   * UPDATE_ROLLBACK_FAILED, without cleanup, until `continueUpdateRollback`.
   */
  readonly failRollback?: readonly string[];
  /** Values of the template's parameters. */
  readonly parameters?: Readonly<Record<string, string>>;
  /** Delivers every request to an invalidation handler twice, as Lambda may. */
  readonly duplicateDelivery?: boolean;
  /**
   * If the deploy rolls back, delivers the requests of the failed update once more as the rollback
   * begins, as a late duplicate from Lambda would arrive.
   */
  readonly lateDuplicates?: boolean;
  /**
   * How long ago CloudFormation sent each request of this step when Lambda starts it: time the
   * request spent in Lambda's asynchronous queue. Its ResponseURL is signed that long ago, and
   * CloudFormation waits for the answer only for what is left of the ServiceTimeout. @default 0
   */
  readonly requestAgeMs?: number;
  /**
   * If the deploy rolls back, delivers the last request of an earlier step once more as the
   * rollback begins: a late duplicate of an older update.
   */
  readonly staleDuplicate?: boolean;
  /** How long a rollback takes over each resource it puts back, as a slow resource would. @default 0 */
  readonly rollbackStepMs?: number;
  /**
   * DisableRollback (`cdk deploy --no-rollback`): a deploy that fails stops at UPDATE_FAILED (or
   * CREATE_FAILED), keeping what it created and updated, the resource that failed as it was, with
   * no cleanup; then `rollbackStack`, another deploy, or `destroy`. @default false
   */
  readonly disableRollback?: boolean;
  /** How this step's stack status events are delivered (on top of the driver's `eventFaults`). */
  readonly events?: DeliveryOptions;
}

export interface RollbackStackOptions {
  /** Resources that fail to roll back: the stack ends UPDATE_ROLLBACK_FAILED, until `continueUpdateRollback`. */
  readonly fail?: readonly string[];
  /** RetainExceptOnCreate: what the failed operations created is deleted even with DeletionPolicy Retain. @default false */
  readonly retainExceptOnCreate?: boolean;
  /** How this step's stack status events are delivered. */
  readonly events?: DeliveryOptions;
}

export interface ContinueRollbackOptions {
  /** ResourcesToSkip: resources that failed to roll back, left as they are and taken as rolled back. */
  readonly resourcesToSkip?: readonly string[];
  /** Resources that fail to roll back once more. */
  readonly fail?: readonly string[];
  /** How this step's stack status events are delivered. */
  readonly events?: DeliveryOptions;
}

export type Phase = 'deploy' | 'rollback' | 'cleanup' | 'delete' | 'redelivery';

/** How a resource is deleted: which of its policies applies, and whether the operation that deletes it created it. */
interface Removal {
  /** Its definition in the template that gives its DeletionPolicy and UpdateReplacePolicy. */
  readonly def?: TemplateResource;
  /** Created by the operation now deleting it (a rollback's cleanup, a failed creation's rollback): RetainExceptOnCreate deletes it. */
  readonly createdNow?: boolean;
  /** RollbackStack's RetainExceptOnCreate: what the operation created is deleted even with DeletionPolicy Retain. */
  readonly retainExceptOnCreate?: boolean;
  /** The old resource of a replacement: UpdateReplacePolicy applies, and the logical id stays the stack's. */
  readonly replaced?: boolean;
}

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
  /** PhysicalResourceId as sent (Update, Delete). */
  readonly physicalId?: string;
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
  /**
   * `skip`: left as it is, either skipped by ContinueUpdateRollback (ResourcesToSkip) or, in a
   * deletion, retained (DELETE_SKIPPED: DeletionPolicy or UpdateReplacePolicy Retain).
   */
  readonly action: 'create' | 'update' | 'delete' | 'fail' | 'revert' | 'skip';
  readonly phase: Phase;
  /** When the change finished, in the sequence shared with CloudFront's requests. */
  readonly at: number;
  /** The stack the resource belongs to (a nested stack's own name for its resources). */
  readonly stackName: string;
}

/** What a BucketDeployment put under a prefix of a bucket. */
export interface ContentChange {
  readonly bucket: string;
  readonly prefix: string;
  /** A short hash of the sources deployed there; `removed` when a BucketDeployment's Delete or move removed the files. */
  readonly version: string;
  /** Distributions with an origin on the bucket. */
  readonly distributions: readonly string[];
  readonly phase: Phase;
  /** When the files had landed, in the sequence shared with CloudFront's requests: an invalidation created later purges them. */
  readonly at: number;
  /**
   * The object keys (prefix included) added, changed or deleted, when the files of every source are
   * known (local folder assets without deploy-time values); undefined otherwise, when only a purge
   * of the whole prefix covers the change.
   */
  readonly changedKeys?: readonly string[];
}

/** A stack status change, and the event CloudFormation sent EventBridge for it. */
export interface StackEventRecord {
  readonly eventId: string;
  readonly stackName: string;
  readonly stackId: string;
  readonly status: string;
  /** When the stack reached the status, in the sequence shared with CloudFront's requests. */
  readonly at: number;
}

/** A delivery of a stack status event to a rule's target, with what Lambda made of it. */
export interface EventDelivery extends DeliveryRecord {
  /** Whether an invocation of this delivery ran to the end without error by the end of the step. */
  readonly handled: boolean;
  /** Whether an earlier step already handled the same event for the same target. */
  readonly handledBefore: boolean;
  /** How many times Lambda ran this delivery (its retries included). */
  readonly attempts: number;
  /** Whether the target function no longer exists by the end of the step (its stack was deleted). */
  readonly targetGone: boolean;
}

export interface StepReport {
  readonly stackName: string;
  readonly stackStatus: string;
  readonly changes: readonly ResourceChange[];
  readonly requests: readonly RequestRecord[];
  readonly content: readonly ContentChange[];
  /** Invalidations CloudFront received during the step, deferred ones included. */
  readonly invalidations: readonly EmulatedInvalidation[];
  /** Stack status changes during the step (nested stacks' included). */
  readonly events: readonly StackEventRecord[];
  /** Deliveries of stack status events to rule targets during the step (late ones from earlier steps included). */
  readonly deliveries: readonly EventDelivery[];
  /** Deliveries held back, to come once the next step has begun. */
  readonly heldDeliveries: number;
  /**
   * Whether a stack is left where its changes wait for a later step: UPDATE_ROLLBACK_FAILED (its
   * rollback to be continued), or UPDATE_FAILED or CREATE_FAILED (to be rolled back or deployed again).
   */
  readonly rollbackPending: boolean;
}

interface Deployed {
  readonly logicalId: string;
  readonly type: string;
  physicalId: string;
  properties: Record<string, unknown>;
  attributes: Record<string, unknown>;
}

/**
 * An update under way: what it started from (the last stable state), what it did, and how far its
 * rollback got. An update that failed without rolling back (UPDATE_FAILED, CREATE_FAILED) stays,
 * and the next deploy carries on from it: its rollback goes back to the same stable state.
 */
interface Transition {
  readonly creating: boolean;
  /** The last stable template; none when the stack was never created whole. */
  readonly oldTemplate?: Template;
  readonly oldSynthesized?: SynthesizedStack;
  readonly oldParameters: Record<string, string>;
  readonly template: Template;
  readonly synthesized: SynthesizedStack;
  /** The templates of the failed updates this one carries on from, newest first. */
  readonly earlier: readonly Template[];
  /** Resources as they were before the update. */
  readonly before: Map<string, Deployed>;
  /** Existing resources the update changed (or tried to), in order. */
  readonly touched: string[];
  /** Resources the update created, in order. */
  readonly created: string[];
  /**
   * Resources replaced (a custom resource that answered a new physical id, an SSM parameter renamed):
   * the old resource, deleted by the cleanup of the update (`deploy`) or of its rollback (`rollback`).
   */
  readonly replaced: Array<{ readonly old: Deployed; readonly phase: Phase }>;
  /**
   * Custom resources whose Create failed with a physical id in the answer: they exist, and the
   * rollback, the next update's cleanup or the stack's deletion deletes them.
   */
  readonly failedCreates: Deployed[];
  /** RollbackStack's RetainExceptOnCreate. */
  retainExceptOnCreate?: boolean;
  /** What the rollback still has to put back, in its order. */
  remaining?: string[];
  /** The resource that failed to roll back, which ContinueUpdateRollback may skip. */
  failedRollback?: string;
}

interface StackState {
  readonly name: string;
  readonly id: string;
  /** For a nested stack: its parent and the AWS::CloudFormation::Stack resource that holds it. */
  readonly parent?: { readonly stack: StackState; readonly logicalId: string };
  template?: Template;
  synthesized?: SynthesizedStack;
  parameters: Record<string, string>;
  resources: Map<string, Deployed>;
  status: string;
  transition?: Transition;
}

/** The last request sent to an invalidation resource, kept so it can be delivered again. */
interface SentRequest {
  readonly functionName: string;
  readonly event: Record<string, unknown>;
  readonly record: RequestRecord;
}

interface CurrentStep {
  readonly requests: RequestRecord[];
  readonly changes: ResourceChange[];
  readonly content: ContentChange[];
  readonly events: StackEventRecord[];
  readonly redeliveries: Array<{ record: RequestRecord; token: string; before: number }>;
  readonly delivery: DeliveryOptions;
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
  /**
   * Applied IAM policies by policy resource: each version (statements, with the roles they attach
   * to; none once deleted) with the time it reaches the authorizer, oldest first.
   */
  private readonly policies = new Map<string, Array<{ from: number; policy?: { roles: string[]; statements: unknown[] } }>>();
  /** Names of the roles invalidation handlers run as. */
  private readonly handlerRoles = new Set<string>();
  /** Current content per bucket/prefix. */
  private readonly content = new Map<string, string>();
  /** Current files per bucket/prefix, with a hash of each, when known. */
  private readonly contentFiles = new Map<string, Map<string, string> | undefined>();
  /** SSM parameters, which parameters of type AWS::SSM::Parameter::Value<...> name. */
  private readonly ssmParameters = new Map<string, string>();
  /** Queues by ARN, with their URL. */
  private readonly queues = new Map<string, string>();
  /** Applied queue policies: statements by policy resource, with the queue URLs they attach to. */
  private readonly queuePolicies = new Map<string, { queues: string[]; statements: unknown[] }>();
  /** Events handled for a target, as `<event id> <target ARN>`. */
  private readonly handledEvents = new Set<string>();
  private lastSent: SentRequest | undefined;
  /** Requests sent during the current deploy's forward pass. */
  private forwardSent: SentRequest[] = [];
  /** Statuses of the custom resources the handler serves, as DescribeStackResource shows them, by stack id and logical id. */
  private readonly statuses = new Map<string, string>();
  /** The ResponseURL token of each request record. */
  private readonly tokens = new WeakMap<RequestRecord, string>();
  private current: CurrentStep | undefined;
  /** When the last stack status change happened, in ms since the epoch. */
  private lastStatusTime = 0;

  private constructor(public readonly cloud: LocalCloud, private readonly options: DriverOptions) {
    this.prng = new Prng(options.seed ?? 1);
    this.cloud.authorizer = (action, arn) => this.authorize(action, arn);
    this.cloud.physicalIds = (stackId, logicalId) => [...this.stacks.values()].find((s) => s.id === stackId)?.resources.get(logicalId)?.physicalId;
    this.cloud.resourceStatuses = (stackId, logicalId) => this.statuses.get(`${stackId} ${logicalId}`);
    this.cloud.queueAccepts = (queueArn, ruleArn) => this.queueAccepts(queueArn, ruleArn);
  }

  /**
   * Creates or updates a stack to match the synthesized one.
   *
   * @throws TemplateValidationError, before anything is deployed, for a template CloudFormation refuses
   */
  public async deploy(synthesized: SynthesizedStack, options: DeployOptions = {}): Promise<StepReport> {
    let stack = this.stacks.get(synthesized.stackName);
    if (stack?.status === 'UPDATE_ROLLBACK_FAILED') {
      throw new Error(`Stack:${stack.id} is in UPDATE_ROLLBACK_FAILED state and can not be updated.`);
    }
    // CreateChangeSet checks the template with its parameter values first: a refused one changes nothing.
    this.effective({ name: synthesized.stackName, id: stack?.id ?? '' }, synthesized, { ...this.parameterValues(synthesized.template), ...options.parameters });
    // A stack whose creation rolled back cannot be updated: `cdk deploy` deletes it, then creates it anew.
    const rolledBack = stack?.status === 'ROLLBACK_COMPLETE' ? stack : undefined;
    if (stack && !stack.status.startsWith('DELETE') && !rolledBack) {
      // The change set fails before anything happens (docs/cloudformation.md, "Resource types").
      const resources = (synthesized.template.Resources ?? {}) as Record<string, { Type: string }>;
      const retyped = [...stack.resources.values()]
        .filter((r) => resources[r.logicalId] && resources[r.logicalId].Type !== r.type).map((r) => r.logicalId);
      if (retyped.length > 0) {
        throw new Error('Update of resource type is not permitted. The new template modifies resource type of the following resources: '
          + `[${retyped.join(', ')}]`);
      }
    }
    if (!stack || stack.status.startsWith('DELETE') || rolledBack) {
      stack = this.newStack(synthesized.stackName, `arn:aws:cloudformation:${REGION}:${ACCOUNT_ID}:stack/${synthesized.stackName}/${this.uuid()}`);
    }
    const target = stack;
    // `cdk deploy` publishes the assets before CloudFormation deploys the template.
    this.cloud.publishFileAssets(synthesized.assemblyDir);
    return this.step(target, options.events, async () => {
      if (rolledBack) {
        await this.deleteStack(rolledBack, 'delete');
      }
      await this.update(target, synthesized, options);
    });
  }

  /**
   * ContinueUpdateRollback: resumes the rollback of a stack left UPDATE_ROLLBACK_FAILED, putting
   * back what is left (skipping what it is told to), then cleans up and ends UPDATE_ROLLBACK_COMPLETE.
   */
  public async continueUpdateRollback(stackName: string, options: ContinueRollbackOptions = {}): Promise<StepReport> {
    const stack = this.stacks.get(stackName);
    if (!stack || stack.status !== 'UPDATE_ROLLBACK_FAILED' || !stack.transition) {
      throw new Error(`Stack ${stackName} is in ${stack?.status ?? 'no'} state: only a stack in UPDATE_ROLLBACK_FAILED can continue its rollback`);
    }
    const failed = this.failedRollbacks(stack);
    const wrong = (options.resourcesToSkip ?? []).filter((id) => !failed.includes(id));
    if (wrong.length > 0) {
      throw new Error(`Only resources that failed to roll back can be skipped (${failed.join(', ')}), not ${wrong.join(', ')}`);
    }
    return this.step(stack, options.events, async () => {
      this.setStatus(stack, 'UPDATE_ROLLBACK_IN_PROGRESS', 'User Initiated');
      await this.rollBack(stack, { fail: options.fail ?? [], skip: options.resourcesToSkip ?? [] });
    });
  }

  /**
   * RollbackStack (`cdk rollback`): rolls a stack left UPDATE_FAILED back to its last stable
   * template (UPDATE_ROLLBACK_IN_PROGRESS, the cleanup of what the failed updates created,
   * UPDATE_ROLLBACK_COMPLETE), or one left CREATE_FAILED, or UPDATE_FAILED with no stable state,
   * to nothing (ROLLBACK_IN_PROGRESS, everything deleted, ROLLBACK_COMPLETE).
   */
  public async rollbackStack(stackName: string, options: RollbackStackOptions = {}): Promise<StepReport> {
    const stack = this.stacks.get(stackName);
    if (!stack || !['UPDATE_FAILED', 'CREATE_FAILED'].includes(stack.status) || !stack.transition) {
      throw new Error(`Stack ${stackName} is in ${stack?.status ?? 'no'} state: only a stack in CREATE_FAILED or UPDATE_FAILED can be rolled back`);
    }
    const t = stack.transition;
    t.retainExceptOnCreate = options.retainExceptOnCreate;
    return this.step(stack, options.events, async () => {
      if (t.oldTemplate === undefined) {
        await this.rollBackCreation(stack, 'User Initiated');
      } else {
        this.setStatus(stack, 'UPDATE_ROLLBACK_IN_PROGRESS', 'User Initiated');
        await this.rollBack(stack, { fail: options.fail ?? [], skip: [] });
      }
    });
  }

  /** Deletes a stack: every resource, dependents first. */
  public async destroy(stackName: string): Promise<StepReport> {
    const stack = this.stacks.get(stackName);
    if (!stack || stack.status === 'REVIEW_IN_PROGRESS' || stack.status === 'DELETE_COMPLETE') {
      throw new Error(`stack ${stackName} is not deployed`);
    }
    return this.step(stack, undefined, () => this.deleteStack(stack, 'delete'));
  }

  /** Whether any request went to an invalidation handler yet: one that `redeliverLast` can deliver again. */
  public get sentAny(): boolean {
    return this.lastSent !== undefined;
  }

  /** Delivers the most recent request to an invalidation handler once more, as Lambda may. */
  public async redeliverLast(stackName: string): Promise<StepReport> {
    const last = this.lastSent;
    const stack = this.stacks.get(stackName);
    if (!last || !stack) {
      throw new Error('no request to deliver again');
    }
    return this.step(stack, undefined, async () => this.redeliver(last, stack.status));
  }

  /** Lets deliveries held back for a later step arrive, in a step of their own. */
  public async deliverHeldEvents(stackName: string): Promise<StepReport> {
    const stack = this.stacks.get(stackName);
    if (!stack) {
      throw new Error(`no stack ${stackName}`);
    }
    return this.step(stack, undefined, async () => undefined);
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

  public stackStatus(stackName: string): string | undefined {
    return this.stacks.get(stackName)?.status;
  }

  /** A stack's events so far, newest first, as DescribeStackEvents lists them. */
  public stackEvents(stackName: string): readonly StackEvent[] {
    const stack = this.stacks.get(stackName);
    return (stack && this.cloud.cloudformation.stackEvents(stack.id)) ?? [];
  }

  /** The name of the nested stack that a parent's AWS::CloudFormation::Stack resource holds. */
  public nestedStackName(parentName: string, logicalId: string): string | undefined {
    return [...this.stacks.values()].find((s) => s.parent?.stack.name === parentName && s.parent.logicalId === logicalId && !s.status.startsWith('DELETE'))?.name;
  }

  public async close(): Promise<void> {
    await this.cloud.close();
  }

  private newStack(name: string, id: string, parent?: StackState['parent']): StackState {
    const stack: StackState = { name, id, parent, parameters: {}, resources: new Map(), status: 'REVIEW_IN_PROGRESS' };
    this.stacks.set(name, stack);
    return stack;
  }

  private async step(stack: StackState, delivery: DeliveryOptions | undefined, body: () => Promise<void>): Promise<StepReport> {
    const eventbridge = this.cloud.eventbridge;
    const firstRequest = this.cloud.cloudfront.requests.length;
    const firstDelivery = eventbridge.deliveries.length;
    this.current = { requests: [], changes: [], content: [], events: [], redeliveries: [], delivery: delivery ?? {} };
    // Deliveries held back by an earlier step arrive now that this one has begun.
    eventbridge.releaseHeld();
    await body();
    // Purges after a rollback, hand-overs and late deliveries finish after the stack settles.
    await this.settle();
    const current = this.current;
    const deliveries = new Map<string, number>();
    for (const invocation of this.cloud.lambda.invocations) {
      const url = invocation.source === 'event' ? (invocation.payload as { ResponseURL?: unknown })?.ResponseURL : undefined;
      const token = typeof url === 'string' ? /cloudformation-response\/([^?]+)/.exec(url)?.[1] : undefined;
      if (token) {
        deliveries.set(token, (deliveries.get(token) ?? 0) + 1);
      }
    }
    for (const r of current.requests) {
      const token = this.tokens.get(r) ?? '';
      r.answers = (this.cloud.cloudformation.answers.get(token) ?? []).map((a) => a.answer);
      r.deliveries = deliveries.get(token) ?? 0;
    }
    for (const { record, token, before } of current.redeliveries) {
      const answers = this.cloud.cloudformation.answers.get(token) ?? [];
      record.answer = answers.length > before ? answers[answers.length - 1].answer : undefined;
      record.unanswered = record.answer === undefined;
    }
    const created = new Set(this.cloud.cloudfront.requests.slice(firstRequest).map((r) => r.created).filter((c): c is string => !!c));
    const report: StepReport = {
      stackName: stack.name,
      stackStatus: stack.status,
      changes: current.changes,
      requests: current.requests,
      content: current.content,
      invalidations: this.cloud.cloudfront.invalidations().filter((i) => created.has(i.id)),
      events: current.events,
      deliveries: this.eventDeliveries(eventbridge.deliveries.slice(firstDelivery)),
      heldDeliveries: eventbridge.heldCount,
      rollbackPending: [...this.stacks.values()].some((s) => ['UPDATE_ROLLBACK_FAILED', 'UPDATE_FAILED', 'CREATE_FAILED'].includes(s.status)),
    };
    this.current = undefined;
    this.steps.push(report);
    return report;
  }

  /** Waits until no late delivery is due and no invocation runs, one feeding the other. */
  private async settle(): Promise<void> {
    do {
      await this.cloud.eventbridge.idle();
      await this.cloud.lambda.idle();
    } while (this.cloud.eventbridge.dueCount > 0);
  }

  /** What Lambda made of each delivery: whether an invocation of it ran to the end. */
  private eventDeliveries(records: readonly DeliveryRecord[]): EventDelivery[] {
    const out = records.map((d) => {
      const runs = this.cloud.lambda.invocations.filter((i) => i.payload === d.payload);
      const key = `${d.eventId} ${d.targetArn}`;
      return {
        ...d,
        handled: runs.some((i) => i.outcome === 'ok'),
        handledBefore: this.handledEvents.has(key),
        attempts: runs.length,
        targetGone: !this.cloud.lambda.has(d.targetArn),
      };
    });
    out.filter((d) => d.handled).forEach((d) => this.handledEvents.add(`${d.eventId} ${d.targetArn}`));
    return out;
  }

  private async update(stack: StackState, synthesized: SynthesizedStack, options: DeployOptions): Promise<void> {
    // From UPDATE_FAILED or CREATE_FAILED, an update carries on from the failed one.
    const resuming = stack.status === 'UPDATE_FAILED' || stack.status === 'CREATE_FAILED';
    const creating = stack.template === undefined && !resuming;
    const previous = this.lastSent;
    const parameters = { ...this.parameterValues(synthesized.template), ...options.parameters };
    const effective = this.effective(stack, synthesized, parameters);
    if (!creating && !resuming && JSON.stringify([stack.template, stack.parameters]) === JSON.stringify([effective.template, parameters])) {
      // The same template and parameter values: "No updates are to be performed", and no status change.
      stack.synthesized = effective;
      return;
    }
    this.forwardSent = [];
    this.setStatus(stack, creating ? 'CREATE_IN_PROGRESS' : 'UPDATE_IN_PROGRESS', 'User Initiated');
    const failure = await this.forward(stack, effective, parameters, options);
    if (failure === undefined) {
      if (creating) {
        stack.transition = undefined;
        this.setStatus(stack, 'CREATE_COMPLETE');
      } else {
        await this.cleanUp(stack);
      }
      return;
    }
    const reason = `The following resource(s) failed to ${creating ? 'create' : 'update'}: [${failure}]. `;
    if (options.disableRollback) {
      // What was done stays as it is, until a rollback, another deploy, or the stack's deletion.
      this.setStatus(stack, creating ? 'CREATE_FAILED' : 'UPDATE_FAILED', reason);
      return;
    }
    if (stack.transition!.oldTemplate === undefined) {
      await this.rollBackCreation(stack, reason);
      return;
    }
    this.setStatus(stack, 'UPDATE_ROLLBACK_IN_PROGRESS', reason);
    if (options.lateDuplicates) {
      for (const sent of this.forwardSent) {
        this.cloud.lambda.invokeAsync(sent.functionName, sent.event);
      }
    }
    if (options.staleDuplicate && previous) {
      this.redeliver(previous, stack.status);
    }
    await this.rollBack(stack, { fail: options.failRollback ?? [], skip: [], stepMs: options.rollbackStepMs });
  }

  /**
   * The rollback of a stack never created whole (a failed creation, or RollbackStack with no stable
   * state): everything it created deleted, dependents first, a custom resource whose Create failed
   * included; ROLLBACK_COMPLETE.
   */
  private async rollBackCreation(stack: StackState, reason: string): Promise<void> {
    const t = stack.transition!;
    this.setStatus(stack, 'ROLLBACK_IN_PROGRESS', reason);
    await this.removeCreated(stack, t, 'rollback');
    stack.transition = undefined;
    stack.template = undefined;
    this.setStatus(stack, 'ROLLBACK_COMPLETE');
  }

  /** What the failed operations created, deleted in reverse order: the ones whose creation failed (the last tried) first. */
  private async removeCreated(stack: StackState, t: Transition, phase: Phase): Promise<void> {
    const how = (id: string): Removal => ({ def: definition(t, id), createdNow: true, retainExceptOnCreate: t.retainExceptOnCreate });
    for (const failed of [...t.failedCreates].reverse()) {
      await this.removeResource(stack, failed, phase, how(failed.logicalId));
    }
    for (const id of [...t.created].reverse()) {
      if (stack.resources.has(id)) {
        await this.remove(stack, id, phase, how(id));
      }
    }
  }

  /**
   * The forward pass of an update: every resource whose properties changed is created or updated,
   * dependencies first, until one fails. Returns the one that failed.
   */
  private async forward(
    stack: StackState, given: SynthesizedStack, parameters: Record<string, string>, options: DeployOptions,
  ): Promise<string | undefined> {
    // A nested stack's template comes as synthesized: what its parameters make of its conditions.
    const synthesized = this.effective(stack, given, parameters);
    const template = synthesized.template;
    // An update that failed without rolling back: this one carries on from it, back to the same stable state.
    const carried = stack.transition;
    const transition: Transition = {
      creating: carried?.creating ?? stack.template === undefined,
      oldTemplate: carried ? carried.oldTemplate : stack.template,
      oldSynthesized: carried ? carried.oldSynthesized : stack.synthesized,
      oldParameters: carried ? carried.oldParameters : stack.parameters,
      template,
      synthesized,
      earlier: carried ? [carried.template, ...carried.earlier] : [],
      before: carried?.before ?? new Map([...stack.resources].map(([id, r]) => [id, { ...r, attributes: { ...r.attributes } }])),
      touched: [...carried?.touched ?? []],
      created: [...carried?.created ?? []],
      replaced: [...carried?.replaced ?? []],
      failedCreates: [...carried?.failedCreates ?? []],
    };
    const track = (list: string[], id: string) => {
      if (!transition.created.includes(id) && !list.includes(id)) {
        list.push(id);
      }
    };
    stack.transition = transition;
    stack.parameters = parameters;
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
      if (options.fail?.includes(id) && !stack.parent) {
        const verb = existing ? 'UPDATE' : 'CREATE';
        this.resourceEvent(stack, id, def.Type, `${verb}_IN_PROGRESS`, { physicalId: existing?.physicalId, properties });
        this.resourceEvent(stack, id, def.Type, `${verb}_FAILED`, { physicalId: existing?.physicalId, reason: INJECTED_FAILURE });
        this.note(stack, id, def.Type, 'fail', 'deploy');
        return id;
      }
      const ok = existing
        ? await this.change(stack, synthesized, id, def, properties, existing, 'deploy', options)
        : await this.create(stack, synthesized, id, def, properties, 'deploy', options);
      if (!ok) {
        if (existing && !options.disableRollback) {
          // A resource whose update failed is rolled back too: its Update back names what was tried.
          existing.properties = properties;
          track(transition.touched, id);
        }
        return id;
      }
      track(existing ? transition.touched : transition.created, id);
    }
    stack.template = template;
    stack.synthesized = synthesized;
    return undefined;
  }

  /** The cleanup after a successful update: removed resources deleted, dependents first; nested stacks' cleanup too. */
  private async cleanUp(stack: StackState): Promise<void> {
    const t = stack.transition!;
    this.setStatus(stack, 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS');
    for (const child of this.children(stack, t.touched)) {
      if (child.status === 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS') {
        await this.cleanUp(child);
      }
    }
    // What failed to be created (nothing depends on it), then removed resources and the old resources of replacements, dependents first.
    for (const failed of [...t.failedCreates].reverse()) {
      await this.removeResource(stack, failed, 'cleanup', { def: definition(t, failed.logicalId) });
    }
    const resources = [t.oldTemplate?.Resources, ...[...t.earlier].reverse().map((e) => e.Resources), t.template.Resources];
    const merged: Template = { Resources: Object.assign({}, ...resources) };
    for (const id of deploymentOrder(merged).reverse()) {
      for (const { old } of t.replaced.filter((r) => r.phase === 'deploy' && r.old.logicalId === id)) {
        await this.removeResource(stack, old, 'cleanup', { def: t.template.Resources[id], replaced: true });
      }
      if (!(id in t.template.Resources) && stack.resources.has(id)) {
        await this.remove(stack, id, 'cleanup', { def: definition(t, id) });
      }
    }
    stack.transition = undefined;
    this.setStatus(stack, 'UPDATE_COMPLETE');
  }

  /**
   * Rolls an update back: puts back what it changed, in the rollback order, from where an earlier
   * attempt stopped; stops at UPDATE_ROLLBACK_FAILED when a resource cannot be put back (no
   * cleanup then); else deletes what the update created and ends UPDATE_ROLLBACK_COMPLETE. A nested
   * stack waits in UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS for its parent's cleanup.
   */
  private async rollBack(stack: StackState, how: { fail: readonly string[]; skip: readonly string[]; stepMs?: number }): Promise<boolean> {
    const t = stack.transition!;
    const order = (this.options.rollbackOrder ?? 'dependencies-first') === 'dependencies-first' ? t.touched : [...t.touched].reverse();
    t.remaining ??= [...order];
    t.failedRollback = undefined;
    while (t.remaining.length > 0) {
      const id = t.remaining[0];
      const current = stack.resources.get(id)!;
      if (how.skip.includes(id)) {
        t.remaining.shift();
        // ContinueUpdateRollback's ResourcesToSkip: taken as rolled back, left as it is.
        this.resourceEvent(stack, id, current.type, 'UPDATE_COMPLETE', { physicalId: current.physicalId, reason: 'Resource skipped during UpdateRollback' });
        this.note(stack, id, current.type, 'skip', 'rollback');
        continue;
      }
      if (how.stepMs) {
        await new Promise((wake) => setTimeout(wake, how.stepMs));
      }
      const def = t.oldTemplate!.Resources[id];
      const old = t.before.get(id)!;
      let ok: boolean;
      if (how.fail.includes(id)) {
        this.resourceEvent(stack, id, def.Type, 'UPDATE_IN_PROGRESS', { physicalId: current.physicalId, properties: old.properties });
        this.resourceEvent(stack, id, def.Type, 'UPDATE_FAILED', { physicalId: current.physicalId, reason: INJECTED_FAILURE });
        this.note(stack, id, def.Type, 'fail', 'rollback');
        ok = false;
      } else if (def.Type === NESTED_STACK_TYPE) {
        this.resourceEvent(stack, id, def.Type, 'UPDATE_IN_PROGRESS', { physicalId: current.physicalId, properties: old.properties });
        ok = await this.rollBackNested(stack, id, how.skip);
        if (ok) {
          current.properties = old.properties;
          current.attributes = { ...old.attributes };
          this.resourceEvent(stack, id, def.Type, 'UPDATE_COMPLETE', { physicalId: current.physicalId });
          this.note(stack, id, def.Type, 'revert', 'rollback');
        } else {
          this.resourceEvent(stack, id, def.Type, 'UPDATE_FAILED', { physicalId: current.physicalId, reason: `Embedded stack ${current.physicalId} was not successfully rolled back` });
        }
      } else {
        ok = await this.change(stack, t.oldSynthesized!, id, def, old.properties, current, 'rollback', {});
      }
      if (!ok) {
        t.failedRollback = id;
        this.setStatus(stack, 'UPDATE_ROLLBACK_FAILED', `The following resource(s) failed to update: [${id}]. `);
        return false;
      }
      t.remaining.shift();
    }
    this.setStatus(stack, 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS');
    if (!stack.parent) {
      await this.finishRollback(stack);
    }
    return true;
  }

  /** The cleanup of a rollback: what the failed update created is deleted, dependents first. */
  private async finishRollback(stack: StackState): Promise<void> {
    const t = stack.transition!;
    for (const child of this.children(stack, t.touched)) {
      if (child.status === 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS') {
        await this.finishRollback(child);
      }
    }
    // What the rollback replaced (the resources the update had put in their place), then what the update created.
    for (const { old } of [...t.replaced].reverse().filter((r) => r.phase === 'rollback')) {
      await this.removeResource(stack, old, 'rollback', { def: definition(t, old.logicalId), replaced: true, createdNow: true });
    }
    await this.removeCreated(stack, t, 'rollback');
    stack.template = t.oldTemplate;
    stack.synthesized = t.oldSynthesized;
    stack.parameters = t.oldParameters;
    stack.transition = undefined;
    this.setStatus(stack, 'UPDATE_ROLLBACK_COMPLETE');
  }

  /** A nested stack's part of its parent's rollback: its own changes put back, its cleanup left to the parent's. */
  private async rollBackNested(parent: StackState, logicalId: string, skip: readonly string[]): Promise<boolean> {
    const child = this.stacks.get(parent.resources.get(logicalId)!.physicalId.split('/')[1]);
    if (!child?.transition) {
      return true;
    }
    if (child.status !== 'UPDATE_ROLLBACK_IN_PROGRESS') {
      this.setStatus(child, 'UPDATE_ROLLBACK_IN_PROGRESS', child.status === 'UPDATE_ROLLBACK_FAILED' ? 'User Initiated' : 'Rollback requested by the parent stack');
    }
    return this.rollBack(child, { fail: [], skip });
  }

  /** The logical ids of resources that failed to roll back, the nested stacks' included. */
  private failedRollbacks(stack: StackState): string[] {
    const t = stack.transition;
    const own = t?.failedRollback ? [t.failedRollback] : [];
    return [...own, ...this.children(stack, t?.touched ?? []).flatMap((c) => this.failedRollbacks(c))];
  }

  /** The nested stacks held by some of a stack's resources. */
  private children(stack: StackState, logicalIds: readonly string[]): StackState[] {
    return logicalIds
      .map((id) => stack.resources.get(id))
      .filter((r): r is Deployed => r?.type === NESTED_STACK_TYPE)
      .map((r) => this.stacks.get(r.physicalId.split('/')[1]))
      .filter((s): s is StackState => s !== undefined);
  }

  /**
   * Deletes a whole stack, dependents first: the resources of a failed update not rolled back
   * included, each as the newest template that has it says (DeletionPolicy).
   */
  private async deleteStack(stack: StackState, phase: Phase, createdNow = false): Promise<void> {
    this.setStatus(stack, 'DELETE_IN_PROGRESS', 'User Initiated');
    const t = stack.transition;
    const templates = [t?.template, ...t?.earlier ?? [], stack.template].filter((x): x is Template => x !== undefined);
    const merged: Template = { Resources: Object.assign({}, ...[...templates].reverse().map((x) => x.Resources)) };
    const order = deploymentOrder(merged).reverse();
    const def = (id: string) => templates.find((x) => id in x.Resources)?.Resources[id];
    // What failed to be created first: nothing depends on it, and it needs what it refers to, its handler.
    for (const failed of [...t?.failedCreates ?? []].reverse()) {
      await this.removeResource(stack, failed, phase, { def: def(failed.logicalId), createdNow });
    }
    for (const id of [...order, ...stack.resources.keys()]) {
      if (stack.resources.has(id)) {
        await this.remove(stack, id, phase, { def: def(id), createdNow });
      }
    }
    stack.transition = undefined;
    stack.template = undefined;
    this.setStatus(stack, 'DELETE_COMPLETE');
  }

  private async create(
    stack: StackState, synthesized: SynthesizedStack, id: string, def: TemplateResource, properties: Record<string, unknown>, phase: Phase,
    options: DeployOptions,
  ): Promise<boolean> {
    this.resourceEvent(stack, id, def.Type, 'CREATE_IN_PROGRESS', { properties });
    if (def.Type === INVALIDATION_TYPE) {
      const record = await this.sendRequest(stack, id, def.Type, 'Create', properties, undefined, undefined, phase, options);
      const answer = record.answer;
      if (answer?.Status !== 'SUCCESS') {
        this.resourceEvent(stack, id, def.Type, 'CREATE_FAILED', { physicalId: answer?.PhysicalResourceId, reason: failureReason(record) });
        if (answer?.PhysicalResourceId) {
          // It exists, under the physical id it answered: whatever deletes what the operation created deletes it too.
          stack.transition?.failedCreates.push({ logicalId: id, type: def.Type, physicalId: answer.PhysicalResourceId, properties, attributes: {} });
        }
        return false;
      }
      stack.resources.set(id, { logicalId: id, type: def.Type, physicalId: answer.PhysicalResourceId, properties, attributes: { ...answer.Data } });
    } else if (def.Type === NESTED_STACK_TYPE) {
      const name = `${stack.name}-${id}-${this.prng.alphanumeric(12)}`;
      const child = this.newStack(name, `arn:aws:cloudformation:${REGION}:${ACCOUNT_ID}:stack/${name}/${this.uuid()}`, { stack, logicalId: id });
      const deployed = this.deployed(id, def.Type, child.id, properties, {});
      stack.resources.set(id, deployed);
      this.setStatus(child, 'CREATE_IN_PROGRESS', 'User Initiated');
      const nested = this.nestedTemplate(synthesized, child, properties);
      const failure = await this.forward(child, nested, this.nestedParameters(nested, properties), options);
      if (failure !== undefined) {
        const reason = `The following resource(s) failed to create: [${failure}]. `;
        this.setStatus(child, 'CREATE_FAILED', reason);
        this.resourceEvent(stack, id, def.Type, 'CREATE_FAILED', { physicalId: child.id, reason: `Embedded stack ${child.id} was not successfully created: ${reason}` });
        // The parent's rollback deletes it, with what it got to create.
        stack.transition?.created.push(id);
        return false;
      }
      child.transition = undefined;
      this.setStatus(child, 'CREATE_COMPLETE');
      deployed.attributes = this.nestedOutputs(child);
    } else {
      const deployed = this.fake(stack, id, def.Type, properties);
      stack.resources.set(id, deployed);
      const refused = this.refusedApply(() => this.apply(stack, synthesized, deployed, phase));
      if (refused !== undefined) {
        stack.resources.delete(id);
        this.resourceEvent(stack, id, def.Type, 'CREATE_FAILED', { reason: refused });
        return false;
      }
      await this.options.customResources?.[def.Type]?.({ stackName: stack.name, logicalId: id, requestType: 'Create', phase, properties });
    }
    this.resourceEvent(stack, id, def.Type, 'CREATE_COMPLETE', { physicalId: stack.resources.get(id)!.physicalId });
    this.note(stack, id, def.Type, 'create', phase);
    return true;
  }

  private async change(
    stack: StackState, synthesized: SynthesizedStack, id: string, def: TemplateResource, properties: Record<string, unknown>, existing: Deployed,
    phase: Phase, options: DeployOptions,
  ): Promise<boolean> {
    this.resourceEvent(stack, id, def.Type, 'UPDATE_IN_PROGRESS', { physicalId: existing.physicalId, properties });
    if (def.Type === INVALIDATION_TYPE) {
      const record = await this.sendRequest(stack, id, def.Type, 'Update', properties, existing.properties, existing.physicalId, phase, options);
      const answer = record.answer;
      if (answer?.Status !== 'SUCCESS') {
        this.resourceEvent(stack, id, def.Type, 'UPDATE_FAILED', { physicalId: existing.physicalId, reason: failureReason(record) });
        return false;
      }
      if (answer.PhysicalResourceId !== existing.physicalId) {
        this.replace(stack, existing, answer.PhysicalResourceId, phase);
      }
      existing.properties = properties;
      existing.attributes = { ...answer.Data };
    } else if (def.Type === NESTED_STACK_TYPE) {
      const child = this.stacks.get(existing.physicalId.split('/')[1])!;
      existing.properties = properties;
      this.setStatus(child, 'UPDATE_IN_PROGRESS', 'User Initiated');
      const nested = this.nestedTemplate(synthesized, child, properties);
      const failure = await this.forward(child, nested, this.nestedParameters(nested, properties), options);
      if (failure !== undefined) {
        this.resourceEvent(stack, id, def.Type, 'UPDATE_FAILED', {
          physicalId: existing.physicalId,
          reason: `Embedded stack ${child.id} was not successfully updated. Currently in ${child.status} with reason: The following resource(s) failed to update: [${failure}]. `,
        });
        return false;
      }
      // Its cleanup waits for the parent's.
      this.setStatus(child, 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS');
      existing.attributes = this.nestedOutputs(child);
    } else {
      const oldProperties = existing.properties;
      existing.properties = properties;
      // A new name replaces an SSM parameter: a new physical id, which whatever refers to it sees.
      if (def.Type === 'AWS::SSM::Parameter' && properties.Name !== undefined && properties.Name !== oldProperties.Name) {
        this.replace(stack, { ...existing, properties: oldProperties }, String(properties.Name), phase);
        existing.physicalId = String(properties.Name);
        existing.attributes = { ...existing.attributes, Value: properties.Value };
      }
      const refused = this.refusedApply(() => this.apply(stack, synthesized, existing, phase, oldProperties));
      if (refused !== undefined) {
        existing.properties = oldProperties;
        this.resourceEvent(stack, id, def.Type, 'UPDATE_FAILED', { physicalId: existing.physicalId, reason: refused });
        return false;
      }
      await this.options.customResources?.[def.Type]?.({ stackName: stack.name, logicalId: id, requestType: 'Update', phase, properties, oldProperties });
    }
    this.resourceEvent(stack, id, def.Type, 'UPDATE_COMPLETE', { physicalId: existing.physicalId });
    this.note(stack, id, def.Type, phase === 'rollback' ? 'revert' : 'update', phase);
    return true;
  }

  /**
   * Applies a resource, unless its service refuses it (EventBridge's PutTargets, say): then the
   * service's message, for the resource's failure, with nothing applied.
   */
  private refusedApply(apply: () => void): string | undefined {
    try {
      apply();
      return undefined;
    } catch (e) {
      if (e instanceof ValidationException) {
        return `Resource handler returned message: "${e.message}"`;
      }
      throw e;
    }
  }

  /**
   * An update that gave a resource a new physical id replaced it: CloudFormation keeps the old one
   * until the cleanup, which deletes it (as its UpdateReplacePolicy says).
   */
  private replace(stack: StackState, existing: Deployed, physicalId: string, phase: Phase): void {
    stack.transition?.replaced.push({ old: { ...existing, attributes: { ...existing.attributes } }, phase });
    existing.physicalId = physicalId;
    this.resourceEvent(stack, existing.logicalId, existing.type, 'UPDATE_IN_PROGRESS', {
      physicalId, reason: 'Requested update requires the creation of a new physical resource; hence creating one.',
    });
  }

  /** Deletes a resource of the stack, as its DeletionPolicy says (see `Removal`). */
  private async remove(stack: StackState, id: string, phase: Phase, how: Removal): Promise<void> {
    await this.removeResource(stack, stack.resources.get(id)!, phase, how);
  }

  /**
   * Deletes a resource, or leaves it be when its policy retains it (DELETE_SKIPPED: no Delete
   * request, nothing undone). The stack forgets it, unless its logical id now names another (the old
   * resource of a replacement, one whose creation failed).
   */
  private async removeResource(stack: StackState, deployed: Deployed, phase: Phase, how: Removal): Promise<void> {
    const id = deployed.logicalId;
    const policy = how.replaced ? how.def?.UpdateReplacePolicy : how.def?.DeletionPolicy;
    const retained = policy === 'Retain' ? !(how.createdNow && how.retainExceptOnCreate) : policy === 'RetainExceptOnCreate' && !how.createdNow;
    if (stack.resources.get(id) === deployed) {
      stack.resources.delete(id);
    }
    if (retained) {
      this.resourceEvent(stack, id, deployed.type, 'DELETE_SKIPPED', { physicalId: deployed.physicalId });
      this.note(stack, id, deployed.type, 'skip', phase);
      return;
    }
    this.resourceEvent(stack, id, deployed.type, 'DELETE_IN_PROGRESS', { physicalId: deployed.physicalId });
    let failed: string | undefined;
    switch (deployed.type) {
      case INVALIDATION_TYPE: {
        // CloudFormation retries a failing cleanup Delete and then moves on; the handler must never fail one.
        const record = await this.sendRequest(stack, id, deployed.type, 'Delete', deployed.properties, undefined, deployed.physicalId, phase, {});
        failed = record.answer?.Status === 'SUCCESS' ? undefined : failureReason(record);
        break;
      }
      case NESTED_STACK_TYPE: {
        const child = this.stacks.get(deployed.physicalId.split('/')[1]);
        if (child && !child.status.startsWith('DELETE')) {
          await this.deleteStack(child, phase, how.createdNow ?? false);
        }
        break;
      }
      case 'AWS::CloudFront::Distribution':
        this.cloud.cloudfront.deleteDistribution(deployed.physicalId);
        break;
      case 'AWS::Lambda::Function':
        this.cloud.lambda.unregister(deployed.physicalId);
        break;
      case 'AWS::Lambda::Permission':
        this.cloud.lambda.removePermission(String(deployed.properties.FunctionName), deployed.physicalId);
        break;
      case 'AWS::Events::Rule':
        this.cloud.eventbridge.deleteRule(String(deployed.attributes.Arn));
        break;
      case 'AWS::SQS::Queue':
        this.queues.delete(String(deployed.attributes.Arn));
        break;
      case 'AWS::SQS::QueuePolicy':
        this.queuePolicies.delete(`${stack.name}/${id}`);
        break;
      case 'AWS::IAM::Policy':
      case 'AWS::IAM::ManagedPolicy':
        this.setPolicy(`${stack.name}/${id}`, undefined);
        break;
      case 'AWS::IAM::Role':
        this.setPolicy(`${stack.name}/${id}/inline`, undefined);
        break;
      case 'Custom::CDKBucketDeployment': {
        // RetainOnDelete false: the handler empties the destination, unless a BucketDeployment's tag on the bucket owns it.
        const bucket = String(deployed.properties.DestinationBucketName);
        const prefix = keyPrefix(deployed.properties);
        if (!retainsOnDelete(deployed.properties) && !this.bucketOwned(bucket, prefix)) {
          this.removeContent(bucket, prefix, phase);
        }
        break;
      }
    }
    if (deployed.type !== INVALIDATION_TYPE) {
      await this.options.customResources?.[deployed.type]?.({ stackName: stack.name, logicalId: id, requestType: 'Delete', phase, properties: deployed.properties });
    }
    this.resourceEvent(stack, id, deployed.type, failed === undefined ? 'DELETE_COMPLETE' : 'DELETE_FAILED', { physicalId: deployed.physicalId, reason: failed });
    this.note(stack, id, deployed.type, 'delete', phase);
  }

  private async sendRequest(
    stack: StackState, logicalId: string, resourceType: string, requestType: 'Create' | 'Update' | 'Delete', properties: Record<string, unknown>,
    oldProperties: Record<string, unknown> | undefined, physicalId: string | undefined, phase: Phase, options: DeployOptions,
  ): Promise<RequestRecord> {
    const serviceToken = String(properties.ServiceToken);
    const functionName = serviceToken.split(':').pop()!;
    const requestId = this.uuid();
    const stackStatus = stack.status;
    const sentAt = this.clock();
    const record: RequestRecord = {
      logicalId,
      resourceType,
      requestType,
      requestId,
      phase,
      stackStatus,
      sentAt,
      properties,
      oldProperties,
      physicalId,
    };
    this.current!.requests.push(record);
    const age = options.requestAgeMs ?? 0;
    const { url, token } = this.cloud.cloudformation.newResponseUrl(Date.now() - age);
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
      const waitMs = Math.max(0, Math.min(serviceTimeoutMs - age, this.options.answerTimeoutMs ?? 120_000));
      const received = await this.cloud.cloudformation.awaitAnswer(token, waitMs);
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
    return record;
  }

  /** Delivers a request once more, as Lambda may long after it was answered; its answer is collected at the end of the step. */
  private redeliver(sent: SentRequest, stackStatus: string): void {
    if (!this.cloud.lambda.has(sent.functionName)) {
      // The function went with an earlier stack: Lambda has nothing to run it again.
      return;
    }
    const record: RequestRecord = { ...sent.record, phase: 'redelivery', stackStatus, sentAt: this.clock() };
    delete record.answer;
    delete record.answeredAt;
    delete record.unanswered;
    this.current!.requests.push(record);
    const token = /cloudformation-response\/([^?]+)/.exec(String(sent.event.ResponseURL))![1];
    this.tokens.set(record, token);
    this.current!.redeliveries.push({ record, token, before: this.cloud.cloudformation.answers.get(token)?.length ?? 0 });
    this.cloud.lambda.invokeAsync(sent.functionName, sent.event);
  }

  /** The template of a nested stack, from the cloud assembly its TemplateURL points into. */
  private nestedTemplate(parent: SynthesizedStack, child: StackState, properties: Record<string, unknown>): SynthesizedStack {
    const key = String(properties.TemplateURL).split('/').pop()!;
    const file = parent.assetDirs.get(key);
    if (!file) {
      throw new Error(`no nested template ${key} in ${parent.assemblyDir}`);
    }
    return { ...parent, stackName: child.name, template: JSON.parse(fs.readFileSync(file, 'utf8')) as Template };
  }

  /** A nested stack's parameter values: its template's defaults, then what the parent passes. */
  private nestedParameters(nested: SynthesizedStack, properties: Record<string, unknown>): Record<string, string> {
    const given = (properties.Parameters ?? {}) as Record<string, unknown>;
    return { ...this.parameterValues(nested.template), ...Object.fromEntries(Object.entries(given).map(([k, v]) => [k, String(v)])) };
  }

  /** A nested stack resource's attributes: `Outputs.<name>` for each output of the nested stack. */
  private nestedOutputs(child: StackState): Record<string, unknown> {
    const outputs = child.template?.Outputs ?? {};
    return Object.fromEntries(Object.entries(outputs).map(([name, o]) => [`Outputs.${name}`, resolve(o.Value, this.context(child))]));
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
      case 'AWS::Lambda::Permission':
        // Its Ref is the statement id it added to the function's policy.
        return this.deployed(id, type, name, properties, {});
      case 'AWS::IAM::Role':
        return this.deployed(id, type, name, properties, { Arn: `arn:aws:iam::${ACCOUNT_ID}:role/${name}`, RoleId: `AROA${suffix}` });
      case 'AWS::Logs::LogGroup':
        return this.deployed(id, type, `/aws/lambda/${name}`, properties, { Arn: arn('logs', `log-group:/aws/lambda/${name}:*`) });
      case 'AWS::SSM::Parameter':
        return this.deployed(id, type, String(properties.Name ?? name), properties, { Type: properties.Type, Value: properties.Value });
      case 'AWS::Events::Rule': {
        // Its Ref is the rule's name.
        const ruleName = String(properties.Name ?? name.slice(0, 64));
        return this.deployed(id, type, ruleName, properties, { Arn: arn('events', `rule/${ruleName}`) });
      }
      case 'AWS::SQS::Queue': {
        // Its Ref is the queue's URL.
        const queueName = String(properties.QueueName ?? name.slice(0, 80));
        const url = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT_ID}/${queueName}`;
        return this.deployed(id, type, url, properties, { Arn: arn('sqs', queueName), QueueName: queueName, QueueUrl: url });
      }
      case 'AWS::CloudFormation::WaitConditionHandle': {
        // Its Ref is a presigned URL for signalling a wait condition.
        const url = `https://cloudformation-waitcondition-${REGION}.s3.${REGION}.amazonaws.com/${encodeURIComponent(stack.id)}/${id}?X-Amz-Signature=${suffix}`;
        return this.deployed(id, type, url, properties, {});
      }
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

  /** What deploying a resource does beyond existing: code to run, permissions, rules, files in a bucket. */
  private apply(stack: StackState, synthesized: SynthesizedStack, deployed: Deployed, phase: Phase, oldProperties?: Record<string, unknown>): void {
    const p = deployed.properties;
    switch (deployed.type) {
      case 'AWS::Lambda::Function': {
        if (this.runsInvalidations(synthesized, deployed.logicalId)) {
          const fn: HandlerFunction = functionAt(synthesized, deployed.logicalId);
          const variables = ((p.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {});
          const env = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, String(v)]));
          const deadLetterArn = (p.DeadLetterConfig as { TargetArn?: string } | undefined)?.TargetArn;
          this.cloud.deployFunction(deployed.physicalId, fn, { env, deadLetterArn });
          this.handlerRoles.add(String(p.Role).split('/').pop()!);
        }
        break;
      }
      case 'AWS::Lambda::Permission':
        // Every property of a permission replaces it; the statement id stays the resource's.
        this.cloud.lambda.addPermission(String(p.FunctionName), deployed.physicalId, {
          action: String(p.Action),
          principal: String(p.Principal),
          sourceArn: p.SourceArn === undefined ? undefined : String(p.SourceArn),
          sourceAccount: p.SourceAccount === undefined ? undefined : String(p.SourceAccount),
        });
        break;
      case 'AWS::Events::Rule': {
        const rule: Rule = {
          arn: String(deployed.attributes.Arn),
          name: deployed.physicalId,
          eventPattern: (typeof p.EventPattern === 'string' ? JSON.parse(p.EventPattern) : p.EventPattern ?? {}) as Record<string, unknown>,
          state: p.State === undefined ? 'ENABLED' : String(p.State),
          targets: (p.Targets ?? []) as RuleTarget[],
        };
        this.cloud.eventbridge.putRule(rule);
        break;
      }
      case 'AWS::SQS::Queue':
        this.queues.set(String(deployed.attributes.Arn), deployed.physicalId);
        break;
      case 'AWS::SQS::QueuePolicy':
        this.queuePolicies.set(`${stack.name}/${deployed.logicalId}`, {
          queues: (p.Queues ?? []) as string[],
          statements: (p.PolicyDocument as { Statement: unknown[] }).Statement,
        });
        break;
      case 'AWS::IAM::Policy':
      case 'AWS::IAM::ManagedPolicy': {
        // A managed policy attached to roles by its Roles property acts as an inline one: its statements apply to those roles.
        const roles = (p.Roles ?? []) as string[];
        const statements = (p.PolicyDocument as { Statement: unknown[] }).Statement;
        this.setPolicy(`${stack.name}/${deployed.logicalId}`, { roles, statements });
        break;
      }
      case 'AWS::IAM::Role': {
        const inline = (p.Policies ?? []) as Array<{ PolicyDocument: { Statement: unknown[] } }>;
        this.setPolicy(`${stack.name}/${deployed.logicalId}/inline`, { roles: [deployed.physicalId], statements: inline.flatMap((x) => x.PolicyDocument.Statement) });
        break;
      }
      case 'Custom::CDKBucketDeployment': {
        const bucket = String(p.DestinationBucketName);
        const prefix = String(p.DestinationBucketKeyPrefix ?? '');
        // An Update that moves the files without retaining them first removes the old destination, owned or not.
        if (oldProperties && !retainsOnDelete(p)) {
          const [oldBucket, oldPrefix] = [String(oldProperties.DestinationBucketName ?? ''), keyPrefix(oldProperties)];
          if (oldBucket !== '' && (oldBucket !== bucket || oldPrefix !== keyPrefix(p))) {
            this.removeContent(oldBucket, oldPrefix, phase);
          }
        }
        const version = createHash('sha256').update(JSON.stringify([p.SourceObjectKeys, p.SourceMarkers ?? null])).digest('hex').slice(0, 8);
        const key = `${bucket}/${prefix}`;
        if (this.content.get(key) !== version) {
          this.content.set(key, version);
          const files = this.filesOf(synthesized, p, prefix);
          const before = this.contentFiles.get(key);
          this.contentFiles.set(key, files);
          const changedKeys = files && before
            ? [...new Set([...files.keys(), ...before.keys()])].filter((k) => files.get(k) !== before.get(k)).sort()
            : undefined;
          const distributions = this.distributionsServing(bucket);
          this.current!.content.push({ bucket, prefix, version, distributions, phase, at: this.clock(), changedKeys });
        }
        break;
      }
    }
  }

  /**
   * What the BucketDeployment handler's `aws s3 rm s3://<bucket>/<prefix> --recursive` does: every
   * file under the prefix is gone, recorded as a change of content like a deploy.
   */
  private removeContent(bucket: string, prefix: string, phase: Phase): void {
    for (const key of [...this.content.keys()]) {
      const at = key.indexOf('/');
      const keyBucket = key.slice(0, at);
      const contentPrefix = key.slice(at + 1);
      if (keyBucket !== bucket || !(contentPrefix === '/' ? '' : contentPrefix).startsWith(prefix)) {
        continue;
      }
      const files = this.contentFiles.get(key);
      this.content.delete(key);
      // Known to be empty now: whatever lands there next is new, file by file.
      this.contentFiles.set(key, new Map());
      const changedKeys = files ? [...files.keys()].sort() : undefined;
      this.current!.content.push({ bucket, prefix: contentPrefix, version: 'removed', distributions: this.distributionsServing(bucket), phase, at: this.clock(), changedKeys });
    }
  }

  /**
   * The BucketDeployment handler's `bucket_owned`: whether the bucket carries a tag of a
   * BucketDeployment (`aws-cdk:cr-owned[:<prefix>]...`, which CDK puts on every destination bucket
   * it defines), in which case a Delete leaves the files for the bucket's own removal.
   */
  private bucketOwned(bucket: string, prefix: string): boolean {
    const tag = prefix === '' ? 'aws-cdk:cr-owned' : `aws-cdk:cr-owned:${prefix}`;
    return [...this.stacks.values()].some((stack) => [...stack.resources.values()].some((r) => r.type === 'AWS::S3::Bucket' && r.physicalId === bucket
      && ((r.properties.Tags ?? []) as Array<{ Key?: unknown }>).some((t) => String(t.Key).startsWith(tag))));
  }

  /**
   * The files a BucketDeployment puts under its prefix, with a hash of each, read from the cloud
   * assembly's folder assets; undefined when a source is not one, or has deploy-time values.
   */
  private filesOf(synthesized: SynthesizedStack, p: Record<string, unknown>, prefix: string): Map<string, string> | undefined {
    const keys = (p.SourceObjectKeys ?? []) as unknown[];
    const markers = (p.SourceMarkers ?? []) as unknown[];
    const files = new Map<string, string>();
    const base = prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix;
    for (const [i, key] of keys.entries()) {
      const dir = synthesized.assetDirs.get(String(key));
      if (!dir || !fs.existsSync(dir) || !fs.statSync(dir).isDirectory() || Object.keys((markers[i] ?? {}) as object).length > 0) {
        return undefined;
      }
      const walk = (at: string, rel: string): void => {
        for (const entry of fs.readdirSync(at)) {
          const full = `${at}/${entry}`;
          if (fs.statSync(full).isDirectory()) {
            walk(full, `${rel}${entry}/`);
          } else {
            files.set(`${base}${rel}${entry}`, createHash('sha256').update(fs.readFileSync(full)).digest('hex'));
          }
        }
      };
      walk(dir, '');
    }
    return files;
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

  /** A policy applied (or deleted, when undefined): the authorizer sees the change `iamPropagationMs` later. */
  private setPolicy(key: string, policy: { roles: string[]; statements: unknown[] } | undefined): void {
    const now = Date.now();
    const versions = this.policies.get(key) ?? [];
    // The versions superseded by one already in effect are gone for good.
    const current = versions.reduce((last, v, i) => (v.from <= now ? i : last), 0);
    this.policies.set(key, [...versions.slice(current), { from: now + (this.options.iamPropagationMs ?? 0), policy }]);
  }

  /** IAM as the handlers see it now: the statements of the policies in effect attached to their roles. */
  private authorize(action: string, arn: string): boolean {
    const now = Date.now();
    const statements = [...this.policies.values()]
      .map((versions) => versions.filter((v) => v.from <= now).pop()?.policy)
      .filter((p): p is { roles: string[]; statements: unknown[] } => p !== undefined && p.roles.some((r) => this.handlerRoles.has(r)))
      .flatMap((p) => p.statements) as Parameters<typeof authorizer>[0];
    return authorizer(statements)(action, arn);
  }

  /**
   * Whether EventBridge may put a rule's undeliverable event into a queue: the queue exists and a
   * queue policy allows `events.amazonaws.com` to send to it for that rule.
   */
  private queueAccepts(queueArn: string, ruleArn: string): boolean {
    const url = this.queues.get(queueArn);
    if (!url) {
      return false;
    }
    interface Statement {
      readonly Effect?: string;
      readonly Principal?: { Service?: string | string[] };
      readonly Action?: string | string[];
      readonly Resource?: string | string[];
      readonly Condition?: Record<string, Record<string, unknown>>;
    }
    const list = (v: unknown) => (v === undefined ? [] : Array.isArray(v) ? v : [v]).map(String);
    return [...this.queuePolicies.values()].filter((p) => p.queues.includes(url)).flatMap((p) => p.statements as Statement[]).some((s) => s.Effect === 'Allow'
      && list(s.Principal?.Service).includes('events.amazonaws.com')
      && list(s.Action).some((a) => a === 'sqs:SendMessage' || a === 'sqs:*')
      && list(s.Resource).some((r) => r === queueArn || r === '*')
      && Object.values(s.Condition ?? {}).every((c) => list(c['aws:SourceArn'] ?? ruleArn).includes(ruleArn)));
  }

  /** The synthesized stack as deployed with these parameter values: see `effectiveTemplate`. */
  private effective(
    stack: { readonly name: string; readonly id: string }, synthesized: SynthesizedStack, parameters: Record<string, string>,
  ): SynthesizedStack {
    const values = { accountId: ACCOUNT_ID, region: REGION, partition: 'aws', stackId: stack.id, stackName: stack.name };
    return { ...synthesized, template: effectiveTemplate(synthesized.template, parameters, values) };
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
        // Any attribute of a resource the driver fakes; a custom resource or nested stack has only what it gave.
        return r.type.startsWith('Custom::') || r.type === NESTED_STACK_TYPE ? undefined : `${r.physicalId}-${attr}`;
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

  /** Sets a stack's status, and sends EventBridge the stack status event CloudFormation sends. */
  private setStatus(stack: StackState, status: string, reason = ''): void {
    stack.status = status;
    const at = this.clock();
    // The time of day, never going back; updates begin at least a second apart, so each has its own LastUpdatedTime.
    this.lastStatusTime = Math.max(Date.now(), this.lastStatusTime + (status === 'UPDATE_IN_PROGRESS' ? 1000 : 0));
    const time = new Date(this.lastStatusTime);
    this.cloud.cloudformation.setStackStatus(stack.id, stack.name, status, time);
    if (status.endsWith('_COMPLETE') && stack.template) {
      this.publishExports(stack);
    }
    const eventId = this.uuid();
    this.current?.events.push({ eventId, stackName: stack.name, stackId: stack.id, status, at });
    this.cloud.cloudformation.addStackEvent({
      StackId: stack.id,
      EventId: eventId,
      StackName: stack.name,
      LogicalResourceId: stack.name,
      PhysicalResourceId: stack.id,
      ResourceType: NESTED_STACK_TYPE,
      Timestamp: time,
      ResourceStatus: status,
      ...(reason ? { ResourceStatusReason: reason } : {}),
    });
    const event = stackStatusChangeEvent({ id: eventId, stackId: stack.id, status, reason, time, stackIdForm: this.cloud.stackIdForm });
    this.cloud.eventbridge.putEvent(event, this.deliveryOptions());
  }

  /** How the next event is delivered: as the step asks, else now and then twice or late, as the driver's faults say. */
  private deliveryOptions(): DeliveryOptions {
    const asked = this.current?.delivery ?? {};
    const faults = this.options.eventFaults ?? {};
    let { twice, late } = asked;
    if (twice === undefined && (faults.duplicateRate ?? 0) > 0 && this.prng.next() < faults.duplicateRate!) {
      twice = true;
    }
    if (late === undefined && (faults.lateRate ?? 0) > 0 && this.prng.next() < faults.lateRate!) {
      late = this.prng.next() < 0.5 ? 'next-step' : faults.lateMs ?? 300;
    }
    return { twice, late };
  }

  private publishExports(stack: StackState): void {
    for (const output of Object.values(stack.template?.Outputs ?? {})) {
      if (output.Export) {
        this.exports.set(String(resolve(output.Export.Name, this.context(stack))), resolve(output.Value, this.context(stack)));
      }
    }
  }

  /**
   * Records a resource's status change as a stack event: its properties as CloudFormation resolved
   * them on CREATE_IN_PROGRESS and UPDATE_IN_PROGRESS, the reason when it failed or was skipped.
   */
  private resourceEvent(
    stack: StackState, logicalId: string, type: string, status: string,
    extra: { physicalId?: string; properties?: Record<string, unknown>; reason?: string } = {},
  ): void {
    // Strictly after the last event: each has a time of its own, and so an id of its own.
    this.lastStatusTime = Math.max(Date.now(), this.lastStatusTime + 1);
    const time = new Date(this.lastStatusTime);
    this.cloud.cloudformation.addStackEvent({
      StackId: stack.id,
      EventId: `${logicalId}-${status}-${time.toISOString()}`,
      StackName: stack.name,
      LogicalResourceId: logicalId,
      PhysicalResourceId: extra.physicalId ?? '',
      ResourceType: type,
      Timestamp: time,
      ResourceStatus: status,
      ...(extra.reason !== undefined ? { ResourceStatusReason: extra.reason } : {}),
      ...(extra.properties !== undefined ? { ResourceProperties: JSON.stringify(extra.properties) } : {}),
    });
  }

  private note(stack: StackState, logicalId: string, type: string, action: ResourceChange['action'], phase: Phase): void {
    this.current?.changes.push({ logicalId, type, action, phase, at: this.clock(), stackName: stack.name });
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

/** A resource's definition in the newest template of an update (or of the failed ones it carries on from) that has it. */
function definition(t: Transition, id: string): TemplateResource | undefined {
  return [t.template, ...t.earlier, t.oldTemplate].find((x) => x !== undefined && id in x.Resources)?.Resources[id];
}

/** Whether a BucketDeployment keeps its files when deleted: RetainOnDelete, a string to its handler, is "true" unless set otherwise. */
function retainsOnDelete(properties: Record<string, unknown>): boolean {
  return String(properties.RetainOnDelete ?? 'true') === 'true';
}

/** A BucketDeployment's destination prefix as its handler takes it: "/" is no prefix. */
function keyPrefix(properties: Record<string, unknown>): string {
  const prefix = String(properties.DestinationBucketKeyPrefix ?? '');
  return prefix === '/' ? '' : prefix;
}

/** The ResourceStatusReason of a resource the test makes fail. */
const INJECTED_FAILURE = 'Resource handler returned message: "Failure injected by the test"';

/** The ResourceStatusReason CloudFormation gives a custom resource whose request failed or went unanswered. */
function failureReason(record: RequestRecord): string {
  if (record.answer) {
    return `Received response status [${record.answer.Status}] from custom resource. Message returned: ${record.answer.Reason ?? ''} (RequestId: ${record.requestId})`;
  }
  return `CloudFormation did not receive a response from your Custom Resource. Please check your logs for requestId [${record.requestId}].`;
}

/** Logical ids in an order where every resource comes after what it refers to or depends on. */
export function deploymentOrder(template: Template): string[] {
  const ids = Object.keys(template.Resources);
  const known = new Set(ids);
  const deps = new Map(ids.map((id) => [id, [...dependencies(template.Resources[id])].filter((d) => known.has(d) && d !== id)]));
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
