import { Aws, CfnWaitConditionHandle, Duration, Stack } from 'aws-cdk-lib';
import type { CfnResource } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { IConstruct } from 'constructs';
import { acknowledge } from './acknowledgements';
import { CONDITIONAL_DEPENDENCIES_KEY, conditionalReferences } from './conditional-dependencies';
import { recordSettings, settingsGivenFor } from './given-settings';
import { createDeadLetterQueue, createFailureAlarm } from './handler-dead-letters';
import { applyLogSettings, createLogGroup } from './handler-logs';
import { createExecutionPolicy, createPermissionsPolicy, HandlerGrants, managedGrants } from './handler-permissions';
import { HANDLER_ASSET_DIR, newestNodeRuntime } from './handler-runtime';
import type { InvalidationHandler, InvalidationHandlerSettings } from './handler-settings';
import { placeInVpc } from './handler-vpc';
import { markMachinery } from './machinery';
import { addNote, addWarning } from './notes';
import { addRollbackPurgeRule } from './rollback-purge-rule';
import type { RollbackPurgeTarget } from './shared/contract';
import { STACK_ID_ENV } from './shared/contract';
import { renderedList, renderedValue, StackContent } from './stack-content';

const PROVIDER_ID = 'CloudFrontInvalidationProvider';

/**
 * The fixed set of resources that every Invalidation of a stack shares, created with the first:
 *
 * - the handler function, its role, log group and a policy with the CloudFront invalidation actions
 *   on the distributions and tenants of the stack's account (see `CLOUDFRONT_ACTIONS`), starting a
 *   fresh invocation of itself, and reading its own stack and its events;
 * - the anchor, a resource that depends on everything the Invalidations follow, so that each
 *   Invalidation needs one DependsOn and the user's resources none;
 * - a rule on the stack's own status events that hands the handler a purge of every Invalidation
 *   once a deploy has failed (`PURGE_STATUSES`), with a dead-letter queue for what cannot be delivered.
 */
export class InvalidationProvider extends Construct {
  /** The stack's provider, created with the first Invalidation. */
  public static of(scope: IConstruct): InvalidationProvider {
    return InvalidationProvider.find(scope) ?? new InvalidationProvider(Stack.of(scope), PROVIDER_ID);
  }

  /** The stack's provider, if it has an Invalidation. */
  public static find(scope: IConstruct): InvalidationProvider | undefined {
    return Stack.of(scope).node.tryFindChild(PROVIDER_ID) as InvalidationProvider | undefined;
  }

  /** Applies handler settings to the stack of `scope`, now or when its provider is created. */
  public static configure(scope: IConstruct, settings: InvalidationHandlerSettings): void {
    const first = recordSettings(scope, settings);
    const stack = Stack.of(scope);
    const provider = InvalidationProvider.find(stack);
    if (provider) {
      provider.applySettings(settings);
    } else if (first) {
      // Settings for a stack that never gets an Invalidation do nothing: say so.
      stack.node.addValidation({
        validate: () => {
          if (!InvalidationProvider.find(stack)) {
            addWarning(stack, 'cdk-cloudfront-invalidation:unusedHandlerSettings', 'Invalidation.configureHandler was called '
              + `for stack ${stack.node.path}, which has no Invalidation: its settings apply to nothing. A nested stack has a handler of its `
              + 'own: configure it from a construct of the nested stack.');
          }
          return [];
        },
      });
    }
  }

  public readonly function: lambda.Function;
  public readonly role: iam.Role;
  /** The role as the function and `handlerOf` give it out: what is granted to it goes into `policy`. */
  public readonly grantee: iam.IRole;
  /** Holds every permission beyond logging and the dead-letter queue; each Invalidation depends on it. */
  public readonly policy: iam.ManagedPolicy;
  /** What the function needs to be created and to run; the function depends on it. */
  public readonly executionPolicy: iam.ManagedPolicy;
  public readonly logGroup: logs.LogGroup;
  public readonly deadLetterQueue: sqs.Queue;
  /** Each Invalidation depends on it (unless asked otherwise); it depends on what they follow. */
  public readonly anchor: CfnWaitConditionHandle;
  /** What the Invalidations of the stack follow, worked out once per synthesis. */
  public readonly content: StackContent;
  private readonly grants: HandlerGrants;
  private failureAlarm?: cloudwatch.Alarm;
  private readonly rollbackTargets: RollbackPurgeTarget[] = [];

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    markMachinery(this);
    const stack = Stack.of(this);

    this.content = new StackContent(stack);
    this.node.addValidation({
      validate: () => {
        this.content.reset();
        return [];
      },
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Runs the CloudFront invalidation custom resource handler',
    });
    this.grantee = managedGrants(this.role, () => this.policy);
    this.logGroup = createLogGroup(this);
    this.deadLetterQueue = createDeadLetterQueue(this);
    this.executionPolicy = createExecutionPolicy(this, this.role, this.logGroup, this.deadLetterQueue);

    this.function = new lambda.Function(this, 'Handler', {
      runtime: newestNodeRuntime(),
      architecture: lambda.Architecture.ARM_64,
      code: lambda.Code.fromAsset(HANDLER_ASSET_DIR),
      handler: 'index.handler',
      // Every permission is in the library's managed policies, none in an inline one of the role.
      role: this.grantee,
      logGroup: this.logGroup,
      memorySize: 256,
      // The handler hands unfinished work to a fresh invocation well before this.
      timeout: Duration.minutes(15),
      deadLetterQueue: this.deadLetterQueue,
      environment: { [STACK_ID_ENV]: Aws.STACK_ID },
      description: 'Creates CloudFront invalidations for Custom::CloudFrontInvalidation resources',
    });
    this.function.node.addDependency(this.executionPolicy);
    acknowledge(this.function.node.defaultChild as CfnResource, {
      id: 'Serverless-LambdaTracing',
      reason: 'X-Ray tracing is off by default: it bills each trace, and the handler logs each purge in one line. '
        + 'Turn it on with Invalidation.configureHandler(scope, { tracing: lambda.Tracing.ACTIVE }).',
    });

    this.policy = createPermissionsPolicy(this, this.role, this.function);
    this.grants = new HandlerGrants(this.executionPolicy, this.policy);

    this.anchor = new CfnWaitConditionHandle(this, 'Anchor');
    this.anchor.addOverride('DependsOn', renderedList(() => this.content.followedIds(), true));
    this.anchor.addOverride(`Metadata.${CONDITIONAL_DEPENDENCIES_KEY}`, renderedValue(() => conditionalReferences(this.content.conditionalFollowed())));

    addRollbackPurgeRule(this, this.function, this.deadLetterQueue, this.rollbackTargets);

    addNote(this, 'cdk-cloudfront-invalidation:limitations', 'If the deploy that first adds an Invalidation to this stack fails, its rollback removes the handler and '
      + 'the rule that purges after failed deploys, and a failed deploy that never reached an Invalidation it adds leaves that '
      + 'Invalidation\'s distribution unnamed: content changed there may stay stale at the edges until the next deploy. '
      + 'Deploy again, or purge by hand (README, "Limitations"). `cdk deploy --hotswap` and `cdk watch` purge nothing.');

    this.applySettings(settingsGivenFor(stack));
  }

  /**
   * Lets the handler read the changedFiles manifests of an asset bucket: the objects named
   * `*.invalidation-manifest`, the previous deploys' included (an Update compares the new manifest
   * with the previous one, whose key only the previous template held).
   */
  public grantManifestReads(bucket: s3.IBucket): void {
    this.grants.grantManifestReads(bucket);
  }

  /** Adds an Invalidation to those the rule purges after a rollback. */
  public addRollbackTarget(target: RollbackPurgeTarget): void {
    this.rollbackTargets.push(target);
  }

  /** The handler's resources, for alarms and subscriptions. */
  public handler(): InvalidationHandler {
    return {
      function: this.function,
      role: this.grantee,
      logGroup: this.logGroup,
      deadLetterQueue: this.deadLetterQueue,
      failureAlarm: this.failureAlarm,
    };
  }

  private applySettings(settings: InvalidationHandlerSettings): void {
    const fn = this.function.node.defaultChild as lambda.CfnFunction;
    applyLogSettings(this.logGroup, settings);
    if (settings.runtime !== undefined) {
      fn.runtime = settings.runtime.name;
    }
    if (settings.memorySize !== undefined) {
      fn.memorySize = settings.memorySize;
    }
    if (settings.tracing !== undefined) {
      this.trace(settings.tracing);
    }
    if (settings.reservedConcurrentExecutions !== undefined) {
      fn.reservedConcurrentExecutions = settings.reservedConcurrentExecutions;
    }
    if (settings.vpc !== undefined) {
      placeInVpc(this, this.function, this.grants, settings);
    }
    if (settings.failureAlarm === true || settings.failureAlarmActions !== undefined) {
      this.failureAlarm ??= createFailureAlarm(this, this.deadLetterQueue);
      this.failureAlarm.addAlarmAction(...settings.failureAlarmActions ?? []);
    }
  }

  private trace(tracing: lambda.Tracing): void {
    const fn = this.function.node.defaultChild as lambda.CfnFunction;
    fn.tracingConfig = tracing === lambda.Tracing.DISABLED ? undefined : { mode: tracing };
    if (tracing !== lambda.Tracing.DISABLED) {
      this.grants.grantOnAnyResource('xray', ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
        'X-Ray\'s PutTraceSegments and PutTelemetryRecords take no resource but *; they only record traces.');
    }
  }
}
