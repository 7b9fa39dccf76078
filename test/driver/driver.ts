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
 *
 * This class holds the operations CloudFormation offers; the state machine behind them is in
 * `update.ts` (create, update, cleanup), `rollback.ts` and `delete-stack.ts`, with one resource's
 * change in `resource-changes.ts` and what each resource type does in `resources/` (one file per
 * type, looked up by CloudFormation type in `resources/registry.ts`); requests to custom resources
 * go through `delivery.ts`, the IAM applied through `applied-policies.ts`, the queues through
 * `deployed-queues.ts`, and BucketDeployments' files through `bucket-contents.ts`.
 */
import type { SynthesizedStack } from './assembly';
import { deleteStack } from './delete-stack';
import { redeliver } from './delivery';
import { DriverState } from './driver-state';
import { ACCOUNT_ID, LocalCloud, REGION } from './local-cloud';
import type { ContinueRollbackOptions, DeployOptions, DriverOptions, RollbackStackOptions } from './options';
import type { StepReport } from './reports';
import { failedRollbacks, rollBack, rollBackCreation } from './rollback';
import { setStatus } from './stack-events';
import type { Deployed, StackState } from './stack-state';
import { runStep } from './step';
import { effective, parameterValues } from './template-values';
import { update } from './update';
import type { StackEvent } from '../emulator/cloudformation-query';
import type { DeliveryOptions } from '../emulator/eventbridge';

/** Plays CloudFormation for synthesized stacks against the local cloud (see the module's description). */
export class LifecycleDriver {
  public static async start(options: DriverOptions = {}): Promise<LifecycleDriver> {
    return new LifecycleDriver(await LocalCloud.start(options.cloud), options);
  }

  /** Every step so far. */
  public readonly steps: StepReport[] = [];
  private readonly state: DriverState;

  private constructor(public readonly cloud: LocalCloud, options: DriverOptions) {
    const state = new DriverState(cloud, options);
    this.state = state;
    this.cloud.authorizer = (action, arn) => state.policies.authorize(action, arn);
    this.cloud.physicalIds = (stackId, logicalId) => [...state.stacks.values()].find((s) => s.id === stackId)?.resources.get(logicalId)?.physicalId;
    this.cloud.resourceStatuses = (stackId, logicalId) => state.statuses.get(`${stackId} ${logicalId}`);
    this.cloud.queueAccepts = (queueArn, ruleArn) => state.queues.accepts(queueArn, ruleArn);
  }

  /**
   * Creates or updates a stack to match the synthesized one.
   *
   * @throws TemplateValidationError, before anything is deployed, for a template CloudFormation refuses
   */
  public async deploy(synthesized: SynthesizedStack, options: DeployOptions = {}): Promise<StepReport> {
    let stack = this.state.stacks.get(synthesized.stackName);
    if (stack?.status === 'UPDATE_ROLLBACK_FAILED') {
      throw new Error(`Stack:${stack.id} is in UPDATE_ROLLBACK_FAILED state and can not be updated.`);
    }
    // CreateChangeSet checks the template with its parameter values first: a refused one changes nothing.
    effective({ name: synthesized.stackName, id: stack?.id ?? '' }, synthesized, { ...parameterValues(this.state, synthesized.template), ...options.parameters });
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
      stack = this.state.newStack(synthesized.stackName, `arn:aws:cloudformation:${REGION}:${ACCOUNT_ID}:stack/${synthesized.stackName}/${this.state.uuid()}`);
    }
    const target = stack;
    // `cdk deploy` publishes the assets before CloudFormation deploys the template.
    this.cloud.publishFileAssets(synthesized.assemblyDir);
    return this.step(target, options.events, async () => {
      if (rolledBack) {
        await deleteStack(this.state, rolledBack, 'delete');
      }
      await update(this.state, target, synthesized, options);
    });
  }

  /**
   * ContinueUpdateRollback: resumes the rollback of a stack left UPDATE_ROLLBACK_FAILED, putting
   * back what is left (skipping what it is told to), then cleans up and ends UPDATE_ROLLBACK_COMPLETE.
   */
  public async continueUpdateRollback(stackName: string, options: ContinueRollbackOptions = {}): Promise<StepReport> {
    const stack = this.state.stacks.get(stackName);
    if (!stack || stack.status !== 'UPDATE_ROLLBACK_FAILED' || !stack.transition) {
      throw new Error(`Stack ${stackName} is in ${stack?.status ?? 'no'} state: only a stack in UPDATE_ROLLBACK_FAILED can continue its rollback`);
    }
    const failed = failedRollbacks(this.state, stack);
    const wrong = (options.resourcesToSkip ?? []).filter((id) => !failed.includes(id));
    if (wrong.length > 0) {
      throw new Error(`Only resources that failed to roll back can be skipped (${failed.join(', ')}), not ${wrong.join(', ')}`);
    }
    return this.step(stack, options.events, async () => {
      setStatus(this.state, stack, 'UPDATE_ROLLBACK_IN_PROGRESS', 'User Initiated');
      await rollBack(this.state, stack, { fail: options.fail ?? [], skip: options.resourcesToSkip ?? [] });
    });
  }

  /**
   * RollbackStack (`cdk rollback`): rolls a stack left UPDATE_FAILED back to its last stable
   * template (UPDATE_ROLLBACK_IN_PROGRESS, the cleanup of what the failed updates created,
   * UPDATE_ROLLBACK_COMPLETE), or one left CREATE_FAILED, or UPDATE_FAILED with no stable state,
   * to nothing (ROLLBACK_IN_PROGRESS, everything deleted, ROLLBACK_COMPLETE).
   */
  public async rollbackStack(stackName: string, options: RollbackStackOptions = {}): Promise<StepReport> {
    const stack = this.state.stacks.get(stackName);
    if (!stack || !['UPDATE_FAILED', 'CREATE_FAILED'].includes(stack.status) || !stack.transition) {
      throw new Error(`Stack ${stackName} is in ${stack?.status ?? 'no'} state: only a stack in CREATE_FAILED or UPDATE_FAILED can be rolled back`);
    }
    const t = stack.transition;
    t.retainExceptOnCreate = options.retainExceptOnCreate;
    return this.step(stack, options.events, async () => {
      if (t.oldTemplate === undefined) {
        await rollBackCreation(this.state, stack, 'User Initiated');
      } else {
        setStatus(this.state, stack, 'UPDATE_ROLLBACK_IN_PROGRESS', 'User Initiated');
        await rollBack(this.state, stack, { fail: options.fail ?? [], skip: [] });
      }
    });
  }

  /** Deletes a stack: every resource, dependents first. */
  public async destroy(stackName: string): Promise<StepReport> {
    const stack = this.state.stacks.get(stackName);
    if (!stack || stack.status === 'REVIEW_IN_PROGRESS' || stack.status === 'DELETE_COMPLETE') {
      throw new Error(`stack ${stackName} is not deployed`);
    }
    return this.step(stack, undefined, () => deleteStack(this.state, stack, 'delete'));
  }

  /** Whether any request went to an invalidation handler yet: one that `redeliverLast` can deliver again. */
  public get sentAny(): boolean {
    return this.state.lastSent !== undefined;
  }

  /** Delivers the most recent request to an invalidation handler once more, as Lambda may. */
  public async redeliverLast(stackName: string): Promise<StepReport> {
    const last = this.state.lastSent;
    const stack = this.state.stacks.get(stackName);
    if (!last || !stack) {
      throw new Error('no request to deliver again');
    }
    return this.step(stack, undefined, async () => redeliver(this.state, last, stack.status));
  }

  /** Lets deliveries held back for a later step arrive, in a step of their own. */
  public async deliverHeldEvents(stackName: string): Promise<StepReport> {
    const stack = this.state.stacks.get(stackName);
    if (!stack) {
      throw new Error(`no stack ${stackName}`);
    }
    return this.step(stack, undefined, async () => undefined);
  }

  /** Sets an SSM parameter: the next deploy resolves parameters that name it to this value. */
  public putParameter(name: string, value: string): void {
    this.state.ssmParameters.set(name, value);
  }

  /** A stack's current state, for assertions. */
  public resource(stackName: string, logicalId: string): Readonly<Deployed> | undefined {
    return this.state.stacks.get(stackName)?.resources.get(logicalId);
  }

  public stackId(stackName: string): string | undefined {
    return this.state.stacks.get(stackName)?.id;
  }

  public stackStatus(stackName: string): string | undefined {
    return this.state.stacks.get(stackName)?.status;
  }

  /** A stack's events so far, newest first, as DescribeStackEvents lists them. */
  public stackEvents(stackName: string): readonly StackEvent[] {
    const stack = this.state.stacks.get(stackName);
    return (stack && this.cloud.cloudformation.stackEvents(stack.id)) ?? [];
  }

  /** The name of the nested stack that a parent's AWS::CloudFormation::Stack resource holds. */
  public nestedStackName(parentName: string, logicalId: string): string | undefined {
    return [...this.state.stacks.values()].find((s) => s.parent?.stack.name === parentName && s.parent.logicalId === logicalId && !s.status.startsWith('DELETE'))?.name;
  }

  public async close(): Promise<void> {
    await this.cloud.close();
  }

  private async step(stack: StackState, delivery: DeliveryOptions | undefined, body: () => Promise<void>): Promise<StepReport> {
    const report = await runStep(this.state, stack, delivery, body);
    this.steps.push(report);
    return report;
  }
}
