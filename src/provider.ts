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
import { CONDITIONAL_DEPENDENCIES_KEY, conditionalReferences } from './conditional-dependencies';
import { PURGE_STATUSES, STACK_ID_ENV } from './contract';
import type { RollbackPurgeTarget } from './contract';
import { MANIFEST_EXTENSION } from './file-manifest';
import type { InvalidationHandlerSettings } from './handler-settings';
import { markMachinery } from './machinery';
import { addNote } from './notes';
import { fitRollbackTargets, ROLLBACK_PURGE_PATHS, rollbackPurgeTemplate } from './rollback-targets';
import { renderedList, renderedValue, StackContent } from './stack-content';

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
        // To tell a rollback from an update and a late request from a live one, and to find what a failed deploy purged.
        new iam.PolicyStatement({
          actions: ['cloudformation:DescribeStacks', 'cloudformation:DescribeStackResource', 'cloudformation:DescribeStackEvents'],
          resources: [stack.stackId],
        }),
        // Every distribution and tenant of the account, not only those of the template: the purge after a failed
        // deploy runs with the policy of the template rolled back to, and must reach what only the failed deploy named.
        new iam.PolicyStatement({
          actions: CLOUDFRONT_ACTIONS,
          resources: ['distribution', 'distribution-tenant'].map((resource) => stack.formatArn({ service: 'cloudfront', region: '', resource, resourceName: '*' })),
        }),
      ],
    });

    // Acknowledged where cdk-nag (2.x) reads it, with the reason; the library does not depend on cdk-nag.
    (this.policy.node.defaultChild as iam.CfnPolicy).addMetadata('cdk_nag', {
      rules_to_suppress: [{
        id: 'AwsSolutions-IAM5',
        reason: 'Creating, reading and listing invalidations of the account\'s distributions and tenants changes no data. The purge after '
          + 'a failed deploy runs with the policy of the template rolled back to, and must reach distributions only the failed deploy named.',
        applies_to: [{ regex: '/^Resource::arn:<AWS::Partition>:cloudfront::[^:]+:distribution(-tenant)?\\/\\*$/g' }],
      }],
    });

    this.anchor = new CfnWaitConditionHandle(this, 'Anchor');
    this.anchor.addOverride('DependsOn', renderedList(() => this.content.followedIds(), true));
    this.anchor.addOverride(`Metadata.${CONDITIONAL_DEPENDENCIES_KEY}`, renderedValue(() => conditionalReferences(this.content.conditionalFollowed())));

    const stackArnPrefix = `arn:${stack.partition}:cloudformation:${stack.region}:${stack.account}:stack/${stack.stackName}`;
    new events.Rule(this, 'RollbackPurge', {
      description: 'Purges the caches of every CloudFront Invalidation of the stack once a deploy has failed',
      eventPattern: {
        source: ['aws.cloudformation'],
        detailType: ['CloudFormation Stack Status Change'],
        detail: {
          // The stack's id as documented (its ARN), and the forms the documentation does not rule out: the handler
          // checks the stack again (docs/eventbridge.md, "Stack status events").
          'stack-id': [{ prefix: `${stackArnPrefix}/` }, stackArnPrefix, stack.stackName],
          'status-details': { status: PURGE_STATUSES },
        },
      },
      targets: [new targets.LambdaFunction(this.function, {
        event: new RollbackPurgeInput(() => rollbackPurgeTemplate(fitRollbackTargets(stack, this.rollbackTargets)).text),
        // EventBridge's most: CloudFormation's events are delivered durably, and a purge must not be lost.
        retryAttempts: 185,
        maxEventAge: Duration.hours(24),
        deadLetterQueue: deadLetters,
      })],
    });

    addNote(this, 'cdk-cloudfront-invalidation:limitations', 'If the deploy that first adds an Invalidation to this stack fails, its rollback removes the handler and '
      + 'the rule that purges after failed deploys, and a failed deploy that never reached an Invalidation it adds leaves that '
      + 'Invalidation\'s distribution unnamed: content changed there may stay stale at the edges until the next deploy. '
      + 'Deploy again, or purge by hand (README, "Limitations"). `cdk deploy --hotswap` and `cdk watch` purge nothing.');

    this.applySettings(pendingSettings.get(stack) ?? {});
    pendingSettings.delete(stack);
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

}

/**
 * The CloudFront actions of the handler: creating, reading and listing invalidations of
 * distributions and of distribution tenants.
 */
export const CLOUDFRONT_ACTIONS = [
  'cloudfront:CreateInvalidation',
  'cloudfront:GetInvalidation',
  'cloudfront:ListInvalidations',
  'cloudfront:CreateInvalidationForDistributionTenant',
  'cloudfront:GetInvalidationForDistributionTenant',
  'cloudfront:ListInvalidationsForDistributionTenant',
];

/**
 * The purge rule's input: an InputTransformer whose template is written by `rollbackPurgeTemplate`
 * when the template is rendered (the Invalidations are added after the provider).
 */
class RollbackPurgeInput extends events.RuleTargetInput {
  constructor(private readonly template: () => string) {
    super();
  }

  public bind(_rule: events.IRule): events.RuleTargetInputProperties {
    return { inputPathsMap: ROLLBACK_PURGE_PATHS, inputTemplate: Lazy.uncachedString({ produce: this.template }) };
  }
}
