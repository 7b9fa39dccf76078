import * as path from 'path';
import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { IConstruct } from 'constructs';
import { markMachinery } from './fingerprint';

/** Written as a string so that the aws-cdk-lib floor need not know the runtime. */
const RUNTIME = new lambda.Runtime('nodejs24.x', lambda.RuntimeFamily.NODEJS, { supportsInlineCode: true });

/** Where the bundled handler lands when the library builds (see .projenrc.ts). */
export const HANDLER_ASSET_DIR = path.join(__dirname, '..', 'assets', 'lambda', 'invalidation', 'index');

const PROVIDER_ID = 'CloudFrontInvalidationProvider';

/**
 * The handler shared by every Invalidation of a stack, with the permissions they need: CloudFront
 * invalidation actions on exactly the distributions (and tenants) used, starting a fresh invocation
 * of itself, and reading its own stack's status.
 */
export class InvalidationProvider extends Construct {
  /** The stack's provider, created with the first Invalidation. */
  public static of(scope: IConstruct): InvalidationProvider {
    const stack = Stack.of(scope);
    return (stack.node.tryFindChild(PROVIDER_ID) as InvalidationProvider | undefined) ?? new InvalidationProvider(stack, PROVIDER_ID);
  }

  public readonly function: lambda.Function;
  /** Holds every permission beyond logging; each Invalidation depends on it. */
  public readonly policy: iam.Policy;
  private readonly statements = new Map<string, iam.PolicyStatement>();
  private readonly granted = new Set<string>();

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    markMachinery(this);

    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Runs the CloudFront invalidation custom resource handler',
    });
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_YEAR });
    logGroup.grantWrite(role);

    this.function = new lambda.Function(this, 'Handler', {
      runtime: RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      code: lambda.Code.fromAsset(HANDLER_ASSET_DIR),
      handler: 'index.handler',
      role,
      logGroup,
      memorySize: 256,
      // The handler hands unfinished work to a fresh invocation well before this.
      timeout: Duration.minutes(15),
      description: 'Creates CloudFront invalidations for Custom::CloudFrontInvalidation resources',
    });

    // A policy of its own, not the role's default one: the function does not wait for it, so it may
    // name the function itself without a dependency cycle.
    this.policy = new iam.Policy(this, 'Policy', {
      roles: [role],
      statements: [
        new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.function.functionArn] }),
        // To tell a rollback from an update, and for a rollback guard to find its distribution.
        new iam.PolicyStatement({ actions: ['cloudformation:DescribeStacks', 'cloudformation:DescribeStackResource'], resources: [Stack.of(this).stackId] }),
      ],
    });
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
