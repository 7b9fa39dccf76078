/**
 * What the lifecycle driver is told: the options of the driver itself and of each of its
 * operations (deploy, RollbackStack, ContinueUpdateRollback), and the stand-ins it calls for other
 * custom resource types.
 */
import type { LocalCloudOptions } from './local-cloud';
import type { DeliveryOptions } from '../emulator/eventbridge';

/** The order in which a rollback updates resources back (see `DriverOptions.rollbackOrder`). */
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

/** How the lifecycle driver runs: its local cloud, its seed, its timeouts and the faults it injects. */
export interface DriverOptions {
  readonly cloud?: LocalCloudOptions;
  /**
   * The order in which a rollback updates resources back. CloudFormation's is the update order,
   * dependencies first (see docs/architecture.md, "Failed deploys"); the other one checks correctness regardless.
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

/** How one deploy goes: what fails, parameter values, how requests and events are delivered. */
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

/** How RollbackStack (`cdk rollback`) goes. */
export interface RollbackStackOptions {
  /** Resources that fail to roll back: the stack ends UPDATE_ROLLBACK_FAILED, until `continueUpdateRollback`. */
  readonly fail?: readonly string[];
  /** RetainExceptOnCreate: what the failed operations created is deleted even with DeletionPolicy Retain. @default false */
  readonly retainExceptOnCreate?: boolean;
  /** How this step's stack status events are delivered. */
  readonly events?: DeliveryOptions;
}

/** How ContinueUpdateRollback goes. */
export interface ContinueRollbackOptions {
  /** ResourcesToSkip: resources that failed to roll back, left as they are and taken as rolled back. */
  readonly resourcesToSkip?: readonly string[];
  /** Resources that fail to roll back once more. */
  readonly fail?: readonly string[];
  /** How this step's stack status events are delivered. */
  readonly events?: DeliveryOptions;
}

/** The part of an operation a resource change or request belongs to. */
export type Phase = 'deploy' | 'rollback' | 'cleanup' | 'delete' | 'redelivery';
