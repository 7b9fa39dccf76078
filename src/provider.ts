import * as path from 'path';
import { Aws, CfnWaitConditionHandle, Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { IConstruct } from 'constructs';
import { ROLLBACK_COMPLETE_STATUS, STACK_ID_ENV } from './contract';
import type { RollbackPurgeEvent, RollbackPurgeTarget } from './contract';
import { MANIFEST_EXTENSION } from './file-manifest';
import type { InvalidationHandlerSettings } from './handler-settings';
import { markMachinery } from './machinery';
import { fitRollbackTargets } from './rollback-targets';
import { renderedList, StackContent } from './stack-content';

/** Written as a string so that the aws-cdk-lib floor need not know the runtime. */
const RUNTIME = new lambda.Runtime('nodejs24.x', lambda.RuntimeFamily.NODEJS, { supportsInlineCode: true });

/** Where the bundled handler lands when the library builds (see .projenrc.ts). */
export const HANDLER_ASSET_DIR = path.join(__dirname, '..', 'assets', 'lambda', 'invalidation', 'index');

const PROVIDER_ID = 'CloudFrontInvalidationProvider';

/** Settings given for a stack before its first Invalidation. */
const pendingSettings = new WeakMap<Stack, InvalidationHandlerSettings>();

/**
 * The fixed set of resources that every Invalidation of a stack shares, created with the first:
 *
 * - the handler function, its role, log group and a policy with the CloudFront actions on exactly
 *   the distributions (and tenants) used, starting a fresh invocation of itself, and reading its
 *   own stack;
 * - the anchor, a resource that depends on everything the Invalidations follow, so that each
 *   Invalidation needs one DependsOn and the user's resources none;
 * - a rule on the stack's own status events that hands the handler a purge of every Invalidation
 *   once an update has rolled back, with a dead-letter queue for what cannot be delivered.
 */
export class InvalidationProvider extends Construct {
  /** The stack's provider, created with the first Invalidation. */
  public static of(scope: IConstruct): InvalidationProvider {
    const stack = Stack.of(scope);
    return (stack.node.tryFindChild(PROVIDER_ID) as InvalidationProvider | undefined) ?? new InvalidationProvider(stack, PROVIDER_ID);
  }

  /** Applies handler settings to the stack of `scope`, now or when its provider is created. */
  public static configure(scope: IConstruct, settings: InvalidationHandlerSettings): void {
    if (settings.logRemovalPolicy === RemovalPolicy.SNAPSHOT) {
      throw new Error(`${scope.node.path}: logRemovalPolicy is RemovalPolicy.SNAPSHOT, but a log group has no snapshots; use RETAIN or DESTROY`);
    }
    const stack = Stack.of(scope);
    const provider = stack.node.tryFindChild(PROVIDER_ID) as InvalidationProvider | undefined;
    if (provider) {
      provider.applySettings(settings);
    } else {
      pendingSettings.set(stack, { ...pendingSettings.get(stack), ...settings });
    }
  }

  public readonly function: lambda.Function;
  /** Holds every permission beyond logging and the dead-letter queue; each Invalidation depends on it. */
  public readonly policy: iam.Policy;
  /** Each Invalidation depends on it (unless asked otherwise); it depends on what they follow. */
  public readonly anchor: CfnWaitConditionHandle;
  /** What the Invalidations of the stack follow, worked out once per synthesis. */
  public readonly content: StackContent;
  private readonly logGroup: logs.LogGroup;
  private readonly statements = new Map<string, iam.PolicyStatement>();
  private readonly granted = new Set<string>();
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

    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Runs the CloudFront invalidation custom resource handler',
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.RETAIN });
    this.logGroup.grantWrite(role);

    // Keeps what neither Lambda's asynchronous retries nor the rule's could deliver, for 14 days.
    const deadLetters = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    this.function = new lambda.Function(this, 'Handler', {
      runtime: RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      code: lambda.Code.fromAsset(HANDLER_ASSET_DIR),
      handler: 'index.handler',
      role,
      logGroup: this.logGroup,
      memorySize: 256,
      // The handler hands unfinished work to a fresh invocation well before this.
      timeout: Duration.minutes(15),
      deadLetterQueue: deadLetters,
      environment: { [STACK_ID_ENV]: Aws.STACK_ID },
      description: 'Creates CloudFront invalidations for Custom::CloudFrontInvalidation resources',
    });

    // A policy of its own, not the role's default one: the function does not wait for it, so it may
    // name the function itself without a dependency cycle.
    this.policy = new iam.Policy(this, 'Policy', {
      roles: [role],
      statements: [
        new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.function.functionArn] }),
        // To tell a rollback from an update, and a late request from a live one.
        new iam.PolicyStatement({ actions: ['cloudformation:DescribeStacks', 'cloudformation:DescribeStackResource'], resources: [stack.stackId] }),
      ],
    });

    this.anchor = new CfnWaitConditionHandle(this, 'Anchor');
    this.anchor.addOverride('DependsOn', renderedList(() => this.content.followedIds(), true));

    const input: RollbackPurgeEvent = {
      rollbackPurge: {
        eventId: events.EventField.fromPath('$.id'),
        stackId: events.EventField.fromPath('$.detail.stack-id'),
        status: events.EventField.fromPath('$.detail.status-details.status'),
        time: events.EventField.fromPath('$.time'),
        // The Invalidations are added after the provider: listed when the template is rendered.
        targets: Lazy.uncachedAny({ produce: () => fitRollbackTargets(stack, this.rollbackTargets) }) as unknown as RollbackPurgeTarget[],
      },
    };
    new events.Rule(this, 'RollbackPurge', {
      description: 'Purges the caches of every CloudFront Invalidation of the stack once an update has rolled back',
      eventPattern: {
        source: ['aws.cloudformation'],
        detailType: ['CloudFormation Stack Status Change'],
        detail: { 'stack-id': [Aws.STACK_ID], 'status-details': { status: [ROLLBACK_COMPLETE_STATUS] } },
      },
      targets: [new targets.LambdaFunction(this.function, {
        event: events.RuleTargetInput.fromObject(input),
        // EventBridge's most: CloudFormation's events are delivered durably, and a purge must not be lost.
        retryAttempts: 185,
        maxEventAge: Duration.hours(24),
        deadLetterQueue: deadLetters,
      })],
    });

    this.applySettings(pendingSettings.get(stack) ?? {});
    pendingSettings.delete(stack);
  }

  /** Lets the handler invalidate a distribution. */
  public grantDistribution(distributionId: string): void {
    this.grant('distribution', distributionId, ['cloudfront:CreateInvalidation', 'cloudfront:GetInvalidation', 'cloudfront:ListInvalidations']);
  }

  /** Lets the handler invalidate a distribution tenant. */
  public grantTenant(tenantId: string): void {
    this.grant('distribution-tenant', tenantId, [
      'cloudfront:CreateInvalidationForDistributionTenant',
      'cloudfront:GetInvalidationForDistributionTenant',
      'cloudfront:ListInvalidationsForDistributionTenant',
    ]);
  }

  /**
   * Lets the handler read the changedFiles manifests of an asset bucket: the objects named
   * `*.invalidation-manifest`, the previous deploys' included (an Update compares the new manifest
   * with the previous one, whose key only the previous template held).
   */
  public grantManifestReads(bucket: s3.IBucket): void {
    const arn = bucket.arnForObjects(`*${MANIFEST_EXTENSION}`);
    const key = JSON.stringify(Stack.of(this).resolve(arn));
    if (this.granted.has(key)) {
      return;
    }
    this.granted.add(key);
    let statement = this.statements.get('s3');
    if (!statement) {
      statement = new iam.PolicyStatement({ actions: ['s3:GetObject'] });
      this.statements.set('s3', statement);
      this.policy.addStatements(statement);
    }
    statement.addResources(arn);
  }

  /** Adds an Invalidation to those the rule purges after a rollback. */
  public addRollbackTarget(target: RollbackPurgeTarget): void {
    this.rollbackTargets.push(target);
  }

  private applySettings(settings: InvalidationHandlerSettings): void {
    const cfn = this.logGroup.node.defaultChild as logs.CfnLogGroup;
    if (settings.logRetention !== undefined) {
      cfn.retentionInDays = settings.logRetention === logs.RetentionDays.INFINITE ? undefined : settings.logRetention;
    }
    if (settings.logRemovalPolicy !== undefined) {
      this.logGroup.applyRemovalPolicy(settings.logRemovalPolicy);
    }
  }

  private grant(resource: string, id: string, actions: string[]): void {
    const arn = Stack.of(this).formatArn({ service: 'cloudfront', region: '', resource, resourceName: id });
    if (this.granted.has(arn)) {
      return;
    }
    this.granted.add(arn);
    let statement = this.statements.get(resource);
    if (!statement) {
      statement = new iam.PolicyStatement({ actions });
      this.statements.set(resource, statement);
      this.policy.addStatements(statement);
    }
    statement.addResources(arn);
  }
}
