/**
 * The handler's permissions: every one in the library's two customer managed policies, none in an
 * inline policy of its role.
 *
 * - `ExecutionPolicy`: what Lambda checks when it creates or updates the function, and what the
 *   function needs to run; the function depends on it.
 * - `Permissions`: everything else; each Invalidation depends on it, the function does not (it
 *   names the function).
 */
import { Stack } from 'aws-cdk-lib';
import type { CfnResource } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { acknowledge, findingName } from './acknowledgements';
import { MANIFEST_EXTENSION } from './shared/file-manifest';

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
 * The role, for the function and for users: statements granted to it go into the customer managed
 * policy `into()` gives, never into an inline policy of the role. The function's own statement for
 * its dead-letter queue, added while it is made (before that policy exists), is in the execution
 * policy already and is dropped.
 */
export function managedGrants(role: iam.Role, into: () => iam.ManagedPolicy | undefined): iam.IRole {
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

/**
 * The policy the function waits for: writing its logs and dead letters (what Lambda checks when it
 * creates or updates the function), and later what the function needs to run.
 */
export function createExecutionPolicy(scope: Construct, role: iam.Role, logGroup: logs.ILogGroup, deadLetterQueue: sqs.IQueue): iam.ManagedPolicy {
  return new iam.ManagedPolicy(scope, 'ExecutionPolicy', {
    description: 'Lets the CloudFront invalidation handler write its logs and dead letters',
    roles: [role],
    statements: [
      new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [deadLetterQueue.queueArn] }),
    ],
  });
}

/**
 * The policy each Invalidation waits for and the function does not, so that it may name the
 * function itself without a dependency cycle: invalidating (`CLOUDFRONT_ACTIONS`) on the
 * distributions and tenants of the stack's account, reading its stack and its events, and starting
 * a fresh invocation of the function.
 */
export function createPermissionsPolicy(scope: Construct, role: iam.Role, handlerFunction: lambda.IFunction): iam.ManagedPolicy {
  const stack = Stack.of(scope);
  const cloudFrontResources = ['distribution', 'distribution-tenant'].map((resource) => stack.formatArn({ service: 'cloudfront', region: '', resource, resourceName: '*' }));
  const policy = new iam.ManagedPolicy(scope, 'Permissions', {
    description: 'Lets the CloudFront invalidation handler invalidate, read its stack, and hand work to itself',
    roles: [role],
    statements: [
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [handlerFunction.functionArn] }),
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
  const policyResource = policy.node.defaultChild as CfnResource;
  acknowledge(policyResource, {
    id: 'AwsSolutions-IAM5',
    reason: 'Creating, reading and listing invalidations of the account\'s distributions and tenants changes no data. The purge after '
      + 'a failed deploy runs with the policy of the template rolled back to, and must reach distributions only the failed deploy named.',
    findings: cloudFrontResources.map((arn) => `Resource::${findingName(policyResource, arn)}`),
  });
  return policy;
}

/** The statements added to the handler's policies by the settings and the Invalidations of a stack, each once. */
export class HandlerGrants {
  private readonly statements = new Map<string, iam.PolicyStatement>();
  private readonly granted = new Set<string>();

  constructor(private readonly executionPolicy: iam.ManagedPolicy, private readonly permissions: iam.ManagedPolicy) {}

  /**
   * Lets the handler read the changedFiles manifests of an asset bucket: the objects named
   * `*.invalidation-manifest`, the previous deploys' included (an Update compares the new manifest
   * with the previous one, whose key only the previous template held).
   */
  public grantManifestReads(bucket: s3.IBucket): void {
    const arn = bucket.arnForObjects(`*${MANIFEST_EXTENSION}`);
    const key = JSON.stringify(Stack.of(this.permissions).resolve(arn));
    if (this.granted.has(key)) {
      return;
    }
    this.granted.add(key);
    let statement = this.statements.get('s3');
    if (!statement) {
      statement = new iam.PolicyStatement({ actions: ['s3:GetObject'] });
      this.statements.set('s3', statement);
      this.permissions.addStatements(statement);
    }
    statement.addResources(arn);
    const policyResource = this.permissions.node.defaultChild as CfnResource;
    acknowledge(policyResource, {
      id: 'AwsSolutions-IAM5',
      reason: 'The handler reads the changedFiles manifests of the asset bucket, the previous deploys\' included, whose keys only earlier '
        + `templates held: every object named *${MANIFEST_EXTENSION}, and no other.`,
      findings: [`Resource::${findingName(policyResource, arn)}`],
    });
  }

  /**
   * Lets the function do actions that take no resource but `*` (once per `key`), in the policy it
   * waits for, and acknowledges cdk-nag's AwsSolutions-IAM5 finding on `*` with the reason.
   */
  public grantOnAnyResource(key: string, actions: string[], reason: string): void {
    if (this.statements.has(key)) {
      return;
    }
    const statement = new iam.PolicyStatement({ actions, resources: ['*'] });
    this.statements.set(key, statement);
    this.executionPolicy.addStatements(statement);
    acknowledge(this.executionPolicy.node.defaultChild as CfnResource, { id: 'AwsSolutions-IAM5', reason, findings: ['Resource::*'] });
  }
}
