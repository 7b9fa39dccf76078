import type { RemovalPolicy } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';

/**
 * Settings of the handler that all Invalidations of a stack share. Give them with
 * `Invalidation.configureHandler(scope, settings)`, before or after the stack's first Invalidation;
 * settings given again replace the earlier ones they name, except those that add resources or
 * permissions (`logEncryptionKey`, `tracing`, `vpc`, `vpcSubnets`, `securityGroups`,
 * `failureAlarm`, `failureAlarmActions`), which may be given once per stack.
 *
 * README, "Compliance", shows the settings that pass cdk-nag's NIST 800-53 R5, HIPAA and PCI DSS packs.
 */
export interface InvalidationHandlerSettings {
  /**
   * How long the handler's log group keeps its logs.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * What becomes of the handler's log group when it leaves the stack: when the stack is deleted,
   * and when a failed first deploy (or a failed update that added the first Invalidation) rolls
   * back. `RemovalPolicy.RETAIN` keeps the logs for `logRetention`, so the requests of a stack that
   * is gone can still be read (the empty log group stays); `RemovalPolicy.DESTROY` deletes them
   * with the stack. `RemovalPolicy.SNAPSHOT` is refused: log groups have no snapshots.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;

  /**
   * The KMS key that encrypts the handler's log group. CloudWatch Logs must be allowed to use the
   * key: for a key defined in the app (`new kms.Key`), the library adds that grant to the key
   * policy (the CloudWatch Logs service principal of the stack's region); for an imported key, the
   * key policy must already allow it (docs/aws-services.md, "CloudWatch Logs").
   *
   * @default - encrypted by CloudWatch Logs with a key it owns
   */
  readonly logEncryptionKey?: kms.IKey;

  /**
   * The Lambda runtime of the handler: a Node.js runtime, `nodejs20.x` or newer (the handler is
   * built for Node.js 20 and runs on each newer one).
   *
   * @default - the newest `nodejsNN.x` runtime the app's aws-cdk-lib knows (`lambda.Runtime.ALL`),
   *   so that cdk-nag's latest-runtime rules pass with the aws-cdk-lib installed
   */
  readonly runtime?: lambda.Runtime;

  /**
   * The handler's memory, in MiB: a whole number from 128 to 10240. The handler makes a few API
   * calls per request; more memory also means more CPU, which only a changedFiles manifest of many
   * thousand files can use.
   *
   * @default 256
   */
  readonly memorySize?: number;

  /**
   * AWS X-Ray tracing of the handler. `lambda.Tracing.ACTIVE` records a trace of each invocation
   * (X-Ray bills traces past its free tier) and gives the role `xray:PutTraceSegments` and
   * `xray:PutTelemetryRecords`, which take no resource other than `*`.
   *
   * @default lambda.Tracing.DISABLED
   */
  readonly tracing?: lambda.Tracing;

  /**
   * The handler's reserved concurrency: the most invocations that run at once, a whole number of at
   * least 1. Requests over it are throttled and retried by CloudFormation's and Lambda's own retries;
   * a low limit only makes deploys of many Invalidations slower. It is taken from the account's
   * unreserved concurrency.
   *
   * @default - no reserved concurrency: the account's unreserved pool
   */
  readonly reservedConcurrentExecutions?: number;

  /**
   * Runs the handler in this VPC. The handler calls the CloudFront, CloudFormation, Lambda and S3
   * APIs: the subnets need a route to them, through a NAT gateway or other egress; CloudFront's
   * API has no VPC endpoint we know of (docs/aws-services.md, "Lambda"). The role gets the network interface
   * permissions Lambda needs in a VPC, which take no resource other than `*`.
   *
   * @default - no VPC
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Where in `vpc` the handler runs. Only with `vpc`.
   *
   * @default - the VPC's private subnets with egress (`ec2.SubnetType.PRIVATE_WITH_EGRESS`)
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * The handler's security groups. Only with `vpc`; they must allow HTTPS (TCP 443) out.
   *
   * @default - one security group of the library's, allowing all traffic out and none in
   */
  readonly securityGroups?: ec2.ISecurityGroup[];

  /**
   * Whether to add a CloudWatch alarm that goes off when a purge has finally failed: when the
   * handler's dead-letter queue holds a message (an invocation whose retries are spent, or a
   * status event the stack's purge rule could not deliver). Reach it with
   * `Invalidation.handlerOf(scope).failureAlarm`. A failed purge during a deploy fails the deploy
   * and needs no alarm.
   *
   * @default false, or true when `failureAlarmActions` is given
   */
  readonly failureAlarm?: boolean;

  /**
   * What the failure alarm does when it goes off, such as `new cloudwatch_actions.SnsAction(topic)`.
   * Giving actions turns `failureAlarm` on.
   *
   * @default - no actions
   */
  readonly failureAlarmActions?: cloudwatch.IAlarmAction[];
}

/**
 * The resources of the handler that all Invalidations of a stack share, returned by
 * `Invalidation.handlerOf(scope)`: to add alarms and subscriptions, or to read its logs.
 */
export interface InvalidationHandler {
  /** The handler function, which answers the custom resources and purges after a failed deploy. */
  readonly function: lambda.IFunction;

  /** The role the handler runs with; its permissions are customer managed policies. */
  readonly role: iam.IRole;

  /** The log group the handler writes to: one JSON line per event (README, "Operations"). */
  readonly logGroup: logs.ILogGroup;

  /**
   * Keeps, for 14 days, the invocations whose retries are spent and the stack status events the
   * purge rule could not deliver: each message is a purge that did not happen.
   */
  readonly deadLetterQueue: sqs.IQueue;

  /**
   * The alarm on `deadLetterQueue`, when `failureAlarm` or `failureAlarmActions` is set.
   *
   * @default - no alarm
   */
  readonly failureAlarm?: cloudwatch.IAlarm;
}
