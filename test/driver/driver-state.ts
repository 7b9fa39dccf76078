/**
 * Everything the lifecycle driver keeps between steps (its stacks, the exports, SSM parameters, the
 * IAM, queues and bucket content it applied, the requests it sent) and during one (the step's
 * record), shared by CloudFormation's operations and the resource types.
 */
import { AppliedPolicies } from './applied-policies';
import { BucketContents } from './bucket-contents';
import { DeployedQueues } from './deployed-queues';
import type { LocalCloud } from './local-cloud';
import type { DriverOptions } from './options';
import type { ContentChange, RequestRecord, ResourceChange, StackEventRecord } from './reports';
import type { Deployed, StackState } from './stack-state';
import { NESTED_STACK_TYPE } from './stack-state';
import type { DeliveryOptions } from '../emulator/eventbridge';
import { Prng } from '../emulator/prng';

/** The last request sent to an invalidation resource, kept so it can be delivered again. */
export interface SentRequest {
  readonly functionName: string;
  readonly event: Record<string, unknown>;
  readonly record: RequestRecord;
}

/** What the step under way did so far, for its report. */
export interface CurrentStep {
  readonly requests: RequestRecord[];
  readonly changes: ResourceChange[];
  readonly content: ContentChange[];
  readonly events: StackEventRecord[];
  readonly redeliveries: Array<{ record: RequestRecord; token: string; before: number }>;
  readonly delivery: DeliveryOptions;
}

/** The lifecycle driver's state: what CloudFormation's operations and the resource types read and change. */
export class DriverState {
  public readonly stacks = new Map<string, StackState>();
  /** Values exported by stacks' Outputs, by export name. */
  public readonly exports = new Map<string, unknown>();
  public readonly prng: Prng;
  /** SSM parameters, which parameters of type AWS::SSM::Parameter::Value<...> name. */
  public readonly ssmParameters = new Map<string, string>();
  public readonly policies: AppliedPolicies;
  public readonly queues = new DeployedQueues();
  public readonly contents = new BucketContents(this);
  /** Events handled for a target, as `<event id> <target ARN>`. */
  public readonly handledEvents = new Set<string>();
  /** The last request sent to an invalidation handler, which `redeliverLast` delivers again. */
  public lastSent: SentRequest | undefined;
  /** Requests sent during the current deploy's forward pass. */
  public forwardSent: SentRequest[] = [];
  /** Statuses of the custom resources the handler serves, as DescribeStackResource shows them, by stack id and logical id. */
  public readonly statuses = new Map<string, string>();
  /** The ResponseURL token of each request record. */
  public readonly tokens = new WeakMap<RequestRecord, string>();
  public current: CurrentStep | undefined;
  /** When the last stack status change happened, in ms since the epoch. */
  public lastStatusTime = 0;

  public constructor(public readonly cloud: LocalCloud, public readonly options: DriverOptions) {
    this.prng = new Prng(options.seed ?? 1);
    this.policies = new AppliedPolicies(options.iamPropagationMs ?? 0);
  }

  /** The driver's clock: the next place in the sequence shared with CloudFront's requests. */
  public clock(): number {
    return this.cloud.tick();
  }

  /** A fresh UUID from the seeded generator. */
  public uuid(): string {
    const h = this.prng.alphanumeric(32).toLowerCase();
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
  }

  /** A stack about to be created, under its name. */
  public newStack(name: string, id: string, parent?: StackState['parent']): StackState {
    const stack: StackState = { name, id, parent, parameters: {}, resources: new Map(), status: 'REVIEW_IN_PROGRESS' };
    this.stacks.set(name, stack);
    return stack;
  }

  /** The nested stack an AWS::CloudFormation::Stack resource holds, by the resource's physical id (the stack's id). */
  public nestedStack(physicalId: string): StackState | undefined {
    return this.stacks.get(physicalId.split('/')[1]);
  }

  /** The nested stacks held by some of a stack's resources. */
  public children(stack: StackState, logicalIds: readonly string[]): StackState[] {
    return logicalIds
      .map((id) => stack.resources.get(id))
      .filter((r): r is Deployed => r?.type === NESTED_STACK_TYPE)
      .map((r) => this.nestedStack(r.physicalId))
      .filter((s): s is StackState => s !== undefined);
  }
}
