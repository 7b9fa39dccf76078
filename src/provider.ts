import * as path from 'path';
import { Aws, CfnWaitConditionHandle, Duration, Lazy, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import type { CfnResource } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { IConstruct } from 'constructs';
import { acknowledge, findingName } from './acknowledgements';
import { CONDITIONAL_DEPENDENCIES_KEY, conditionalReferences } from './conditional-dependencies';
import type { InvalidationHandler, InvalidationHandlerSettings } from './handler-settings';
import { markMachinery } from './machinery';
import { addNote, addWarning } from './notes';
import { fitRollbackTargets, ROLLBACK_PURGE_PATHS, rollbackPurgeTemplate } from './rollback-targets';
import type { RollbackPurgeTarget } from './shared/contract';
import { PURGE_STATUSES, STACK_ID_ENV } from './shared/contract';
import { MANIFEST_EXTENSION } from './shared/file-manifest';
import { renderedList, renderedValue, StackContent } from './stack-content';

/** The oldest Node.js the handler is built for (see .projenrc.ts, `target`). */
const OLDEST_NODE = 20;

/** The Node.js major version of a runtime named `nodejsNN.x`; undefined for any other. */
function nodeVersion(runtime: lambda.Runtime): number | undefined {
  const match = /^nodejs(\d+)\.x$/.exec(runtime.name);
  return runtime.family === lambda.RuntimeFamily.NODEJS && match ? Number(match[1]) : undefined;
}

/** The newest `nodejsNN.x` runtime the app's aws-cdk-lib knows, as cdk-nag's latest-runtime rules judge it. */
export function newestNodeRuntime(): lambda.Runtime {
  const known = lambda.Runtime.ALL.filter((r) => !r.isVariable && nodeVersion(r) !== undefined);
  return known.reduce((newest, r) => (nodeVersion(r)! > nodeVersion(newest)! ? r : newest));
}

/** Where the bundled handler lands when the library builds (see .projenrc.ts). */
export const HANDLER_ASSET_DIR = path.join(__dirname, '..', 'assets', 'lambda', 'invalidation', 'index');

const PROVIDER_ID = 'CloudFrontInvalidationProvider';

/** Every setting given for a stack, merged: the provider applies them when it is created after them. */
const givenSettings = new WeakMap<Stack, InvalidationHandlerSettings>();

/** Settings that add resources or permissions: each may be given once per stack (again only with the same value). */
const SET_ONCE = ['logEncryptionKey', 'tracing', 'vpc', 'vpcSubnets', 'securityGroups', 'failureAlarm', 'failureAlarmActions'] as const;

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
    checkSettings(scope, settings);
    const stack = Stack.of(scope);
    const given = givenSettings.get(stack);
    for (const name of SET_ONCE) {
      if (given?.[name] !== undefined && settings[name] !== undefined && given[name] !== settings[name]) {
        throw new Error(`${scope.node.path}: ${name} is already set for the handler of stack ${stack.node.path}; `
          + `give ${SET_ONCE.join(', ')} once per stack`);
      }
    }
    givenSettings.set(stack, { ...given, ...settings });
    const provider = InvalidationProvider.find(stack);
    if (provider) {
      provider.applySettings(settings);
    } else if (!given) {
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
  private failureAlarm?: cloudwatch.Alarm;
  private securityGroup?: ec2.SecurityGroup;
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

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Runs the CloudFront invalidation custom resource handler',
    });
    this.grantee = managedGrants(this.role, () => this.policy);
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.RETAIN });

    // Keeps what neither Lambda's asynchronous retries nor the rule's could deliver, for 14 days.
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(this.deadLetterQueue.node.defaultChild as CfnResource, {
      id: 'Serverless-SQSRedrivePolicy',
      reason: 'This queue is a dead-letter queue: the last stop of the handler\'s failed invocations and undeliverable events, read by people.',
    });

    // What Lambda checks when it creates or updates the function (the dead-letter queue, and the network
    // interfaces in a VPC), and what the function needs to run: a customer managed policy the function waits for.
    this.executionPolicy = new iam.ManagedPolicy(this, 'ExecutionPolicy', {
      description: 'Lets the CloudFront invalidation handler write its logs and dead letters',
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [this.logGroup.logGroupArn] }),
        new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }),
      ],
    });

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

    // A policy of its own that the function does not wait for, so it may name the function itself without a
    // dependency cycle; each Invalidation waits for it.
    const cloudFrontResources = ['distribution', 'distribution-tenant'].map((resource) => stack.formatArn({ service: 'cloudfront', region: '', resource, resourceName: '*' }));
    this.policy = new iam.ManagedPolicy(this, 'Permissions', {
      description: 'Lets the CloudFront invalidation handler invalidate, read its stack, and hand work to itself',
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.function.functionArn] }),
        // To tell a rollback from an update and a late request from a live one, and to find what a failed deploy purged.
        new iam.PolicyStatement({
          actions: ['cloudformation:DescribeStacks', 'cloudformation:DescribeStackResource', 'cloudformation:DescribeStackEvents'],
          resources: [stack.stackId],
        }),
        // Every distribution and tenant of the account, not only those of the template: the purge after a failed
        // deploy runs with the policy of the template rolled back to, and must reach what only the failed deploy named.
        new iam.PolicyStatement({ actions: CLOUDFRONT_ACTIONS, resources: cloudFrontResources }),
      ],
    });
    const policyResource = this.policy.node.defaultChild as CfnResource;
    acknowledge(policyResource, {
      id: 'AwsSolutions-IAM5',
      reason: 'Creating, reading and listing invalidations of the account\'s distributions and tenants changes no data. The purge after '
        + 'a failed deploy runs with the policy of the template rolled back to, and must reach distributions only the failed deploy named.',
      findings: cloudFrontResources.map((arn) => `Resource::${findingName(policyResource, arn)}`),
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
        deadLetterQueue: this.deadLetterQueue,
      })],
    });

    addNote(this, 'cdk-cloudfront-invalidation:limitations', 'If the deploy that first adds an Invalidation to this stack fails, its rollback removes the handler and '
      + 'the rule that purges after failed deploys, and a failed deploy that never reached an Invalidation it adds leaves that '
      + 'Invalidation\'s distribution unnamed: content changed there may stay stale at the edges until the next deploy. '
      + 'Deploy again, or purge by hand (README, "Limitations"). `cdk deploy --hotswap` and `cdk watch` purge nothing.');

    this.applySettings(givenSettings.get(stack) ?? {});
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
    const policyResource = this.policy.node.defaultChild as CfnResource;
    acknowledge(policyResource, {
      id: 'AwsSolutions-IAM5',
      reason: 'The handler reads the changedFiles manifests of the asset bucket, the previous deploys\' included, whose keys only earlier '
        + `templates held: every object named *${MANIFEST_EXTENSION}, and no other.`,
      findings: [`Resource::${findingName(policyResource, arn)}`],
    });
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
    const logGroup = this.logGroup.node.defaultChild as logs.CfnLogGroup;
    const fn = this.function.node.defaultChild as lambda.CfnFunction;
    if (settings.logRetention !== undefined) {
      logGroup.retentionInDays = settings.logRetention === logs.RetentionDays.INFINITE ? undefined : settings.logRetention;
    }
    if (settings.logRemovalPolicy !== undefined) {
      this.logGroup.applyRemovalPolicy(settings.logRemovalPolicy);
    }
    if (settings.logEncryptionKey !== undefined) {
      this.encryptLogs(settings.logEncryptionKey);
    }
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
      this.placeInVpc(settings);
    }
    if (settings.failureAlarm === true || settings.failureAlarmActions !== undefined) {
      this.alarmOnFailure(settings.failureAlarmActions ?? []);
    }
  }

  private encryptLogs(key: kms.IKey): void {
    const stack = Stack.of(this);
    (this.logGroup.node.defaultChild as logs.CfnLogGroup).kmsKeyId = key.keyArn;
    // A key of the app's own gets the grant CloudWatch Logs needs; an imported key's policy is the user's (docs/aws-services.md).
    const logsService = new iam.ServicePrincipal(`logs.${stack.region}.${stack.urlSuffix}`);
    key.grantEncryptDecrypt(logsService);
    key.grant(logsService, 'kms:DescribeKey');
    this.logGroup.node.addDependency(key);
  }

  private trace(tracing: lambda.Tracing): void {
    const fn = this.function.node.defaultChild as lambda.CfnFunction;
    fn.tracingConfig = tracing === lambda.Tracing.DISABLED ? undefined : { mode: tracing };
    if (tracing !== lambda.Tracing.DISABLED) {
      this.grantOnAnyResource('xray', ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
        'X-Ray\'s PutTraceSegments and PutTelemetryRecords take no resource but *; they only record traces.');
    }
  }

  /**
   * Lets the function do actions that take no resource but `*` (once per `key`), in the policy it
   * waits for, and acknowledges cdk-nag's AwsSolutions-IAM5 finding on `*` with the reason.
   */
  private grantOnAnyResource(key: string, actions: string[], reason: string): void {
    if (this.statements.has(key)) {
      return;
    }
    const statement = new iam.PolicyStatement({ actions, resources: ['*'] });
    this.statements.set(key, statement);
    this.executionPolicy.addStatements(statement);
    acknowledge(this.executionPolicy.node.defaultChild as CfnResource, { id: 'AwsSolutions-IAM5', reason, findings: ['Resource::*'] });
  }

  private placeInVpc(settings: InvalidationHandlerSettings): void {
    const vpc = settings.vpc!;
    const groups = settings.securityGroups ?? [this.securityGroup ??= new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: 'The CloudFront invalidation handler: HTTPS out to the AWS APIs, nothing in',
      allowAllOutbound: true,
    })];
    const subnets = this.subnetsFor(vpc, settings.vpcSubnets);
    (this.function.node.defaultChild as lambda.CfnFunction).vpcConfig = {
      subnetIds: subnets.subnetIds,
      securityGroupIds: groups.map((g) => g.securityGroupId),
    };
    // Lambda creates the function's network interfaces with its role, and checks that it may when it creates the function.
    this.function.node.addDependency(subnets.internetConnectivityEstablished);
    this.grantOnAnyResource('vpc', ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets',
      'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
    'Lambda manages the network interfaces of a function in a VPC with the function\'s role; these EC2 actions are those of '
      + 'AWS\'s AWSLambdaVPCAccessExecutionRole, which grants them on *.');
  }

  /** The subnets the handler runs in: never public ones, where a function has no route out (docs/aws-services.md, "Lambda"). */
  private subnetsFor(vpc: ec2.IVpc, selection: ec2.SubnetSelection | undefined): ec2.SelectedSubnets {
    const what = selection ? 'vpcSubnets' : 'vpc (its PRIVATE_WITH_EGRESS subnets, the default of vpcSubnets)';
    let subnets: ec2.SelectedSubnets;
    try {
      subnets = vpc.selectSubnets(selection ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
    } catch (e) {
      throw new Error(`${this.node.path}: ${what} selects no subnets of VPC ${vpc.node.path}: ${(e as Error).message}. `
        + 'The handler needs subnets with a route to the AWS APIs: give vpcSubnets');
    }
    if (subnets.subnetIds.length === 0) {
      throw new Error(`${this.node.path}: ${what} selects no subnets of VPC ${vpc.node.path}; give vpcSubnets`);
    }
    const isolated = new Set(vpc.isolatedSubnets.map((s) => s.subnetId));
    if (subnets.subnetIds.every((id) => isolated.has(id))) {
      addWarning(this, 'cdk-cloudfront-invalidation:isolatedSubnets', 'vpcSubnets selects isolated subnets of VPC '
        + `${vpc.node.path}: the handler reaches CloudFront's API only if something else routes them out (docs/aws-services.md, "Lambda").`);
    }
    if (subnets.hasPublic) {
      throw new Error(`${this.node.path}: vpcSubnets selects public subnets of VPC ${vpc.node.path}, where a Lambda function gets no `
        + 'public address and so no route to CloudFront\'s API; select private subnets with a NAT gateway (PRIVATE_WITH_EGRESS)');
    }
    return subnets;
  }

  private alarmOnFailure(actions: cloudwatch.IAlarmAction[]): void {
    this.failureAlarm ??= new cloudwatch.Alarm(this, 'FailureAlarm', {
      alarmDescription: `A CloudFront purge of stack ${Stack.of(this).stackName} has finally failed: read the message in the dead-letter `
        + 'queue and the handler\'s log, then purge by hand (README, "Troubleshooting").',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.failureAlarm.addAlarmAction(...actions);
  }
}

/**
 * The role, for the function and for users: statements granted to it go into the customer managed
 * policy `into()` gives, never into an inline policy of the role. The function's own statement for
 * its dead-letter queue, added while it is made (before that policy exists), is in the execution
 * policy already and is dropped.
 */
function managedGrants(role: iam.Role, into: () => iam.ManagedPolicy | undefined): iam.IRole {
  const add = (statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult => {
    const policy = into();
    policy?.addStatements(statement);
    return { statementAdded: true, policyDependable: policy };
  };
  const grantee: iam.IRole = new Proxy(role, {
    get: (target, property) => {
      switch (property) {
        case 'addToPrincipalPolicy':
          return add;
        case 'addToPolicy':
          return (statement: iam.PolicyStatement) => add(statement).statementAdded;
        case 'grantPrincipal':
          return grantee;
        default:
          return Reflect.get(target, property, target);
      }
    },
  });
  return grantee;
}

/** Refuses settings the handler cannot run with, naming the setting and the value. */
function checkSettings(scope: IConstruct, settings: InvalidationHandlerSettings): void {
  const where = scope.node.path;
  if (settings.logRemovalPolicy === RemovalPolicy.SNAPSHOT) {
    throw new Error(`${where}: logRemovalPolicy is RemovalPolicy.SNAPSHOT, but a log group has no snapshots; use RETAIN or DESTROY`);
  }
  if (settings.runtime !== undefined && (nodeVersion(settings.runtime) ?? 0) < OLDEST_NODE) {
    throw new Error(`${where}: runtime is ${settings.runtime.name}, but the handler needs a Node.js runtime, nodejs${OLDEST_NODE}.x or newer `
      + `(such as ${newestNodeRuntime().name}); leave runtime out for the newest one aws-cdk-lib knows`);
  }
  const whole = (name: string, value: number | undefined, min: number, max: number, unit: string) => {
    if (value !== undefined && !Token.isUnresolved(value) && (!Number.isInteger(value) || value < min || value > max)) {
      throw new Error(`${where}: ${name} is ${value}, but must be a whole number ${unit}from ${min} to ${max}`);
    }
  };
  whole('memorySize', settings.memorySize, 128, 10240, 'of MiB ');
  const retention = settings.logRetention;
  if (retention !== undefined && !Token.isUnresolved(retention) && !Object.values(logs.RetentionDays).includes(retention)) {
    throw new Error(`${where}: logRetention is ${retention}, which is not one of CloudWatch Logs' retention periods; give a logs.RetentionDays value`);
  }
  whole('reservedConcurrentExecutions', settings.reservedConcurrentExecutions, 1, 1_000_000, '');
  if (settings.vpc === undefined) {
    for (const name of ['vpcSubnets', 'securityGroups'] as const) {
      if (settings[name] !== undefined) {
        throw new Error(`${where}: ${name} is given without vpc; give the vpc the handler runs in too`);
      }
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
