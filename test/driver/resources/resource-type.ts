/**
 * The interface of a resource type the lifecycle driver deploys: what creating, updating and
 * deleting one does, apart from CloudFormation's state machine (statuses, stack events, the
 * report), which the driver keeps for every type alike. Most types are simulated (`simulated`):
 * a physical id and attributes shaped like the real ones, and what deploying one does in the local
 * cloud; the custom resource and the nested stack are played in full.
 */
import type { SynthesizedStack } from '../assembly';
import type { DriverState } from '../driver-state';
import type { DeployOptions, Phase } from '../options';
import type { Deployed, Removal, StackState } from '../stack-state';

/** Where a resource is deleted: its stack, and the part of the operation. */
export interface ResourceContext {
  readonly state: DriverState;
  readonly stack: StackState;
  readonly phase: Phase;
}

/** Where a resource is created or updated: also its logical id and type, the stack's template and the deploy's options. */
export interface DeployContext extends ResourceContext {
  readonly logicalId: string;
  readonly type: string;
  readonly synthesized: SynthesizedStack;
  readonly options: DeployOptions;
}

/** Why a create failed, with the physical id CloudFormation's CREATE_FAILED event shows, if any. */
export interface CreateFailure {
  readonly reason: string;
  readonly physicalId?: string;
}

/**
 * A CloudFormation resource type as the lifecycle driver plays it. The driver records the
 * IN_PROGRESS event before each call and the COMPLETE or FAILED event after it.
 */
export interface ResourceType {
  /** Creates the resource: puts it in the stack's resources, or returns why it failed. */
  create(context: DeployContext, properties: Record<string, unknown>): Promise<CreateFailure | undefined>;
  /** Updates the resource to the properties (`existing` holds the old ones): undefined, or why it failed. */
  update(context: DeployContext, existing: Deployed, properties: Record<string, unknown>): Promise<string | undefined>;
  /** Deletes the resource (its policy did not retain it): undefined, or why the delete failed. */
  delete(context: ResourceContext, deployed: Deployed, removal: Removal): Promise<string | undefined>;
}

/** A simulated resource's physical id (its `Ref`) and attributes (its `Fn::GetAtt`). */
export interface Identity {
  readonly physicalId: string;
  readonly attributes: Record<string, unknown>;
}

/** The names a simulated resource's identity is made from: a random suffix, and `<stack>-<logical id>-<suffix>`. */
export interface Names {
  readonly name: string;
  readonly suffix: string;
}

/** What is particular to a simulated resource type. */
export interface SimulatedResource {
  /** The physical id and attributes of a new resource, shaped like the real ones (what `Ref` and `Fn::GetAtt` give). */
  identity(context: DeployContext, properties: Record<string, unknown>, names: Names): Identity;
  /** The new identity when an update replaces the resource (a property that names it changed); undefined when it does not. */
  replacement?(existing: Deployed, properties: Record<string, unknown>): Identity | undefined;
  /**
   * What deploying it does in the local cloud beyond existing (code to run, permissions, rules,
   * files), given the old properties on an update; throws the service's ValidationException to refuse it.
   */
  apply?(context: DeployContext, deployed: Deployed, oldProperties?: Record<string, unknown>): void;
  /** What deleting it undoes in the local cloud. */
  remove?(context: ResourceContext, deployed: Deployed): void;
}
