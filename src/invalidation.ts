import { CfnResource, CustomResource, Duration, Lazy, Reference, Stack, Token, Tokenization } from 'aws-cdk-lib';
import type * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { Construct } from 'constructs';
import type { IConstruct } from 'constructs';
import { ANSWER_MARGIN_SECONDS, ATTRIBUTES, GUARD_RESOURCE_TYPE, MAX_TIMEOUT_SECONDS, RESOURCE_TYPE } from './contract';
import type { InvalidationResourceProperties } from './contract';
import { markInvalidationResource, markMachinery, referencedIds } from './fingerprint';
import { pathProblem } from './paths';
import { InvalidationProvider } from './provider';
import { InvalidationTrigger } from './trigger';

/**
 * Properties of an `Invalidation`.
 */
export interface InvalidationProps {
  /**
   * The distribution whose edge caches to purge: one defined in this app (any stack), or one
   * imported with `Distribution.fromDistributionAttributes`.
   */
  readonly distribution: cloudfront.IDistribution;

  /**
   * The paths to invalidate. Each starts with `/`; a `*` may only come last and matches anything
   * (`/images/*`); items starting with `#` are cache tags, for distributions with cache tags set up.
   * Tokens are allowed and checked when the stack deploys. Duplicates, and paths a wildcard of the
   * list already covers, are dropped; lists over 3000 paths go out in several batches.
   *
   * @default ['/*']
   */
  readonly paths?: string[];

  /**
   * What fires the invalidation.
   *
   * @default InvalidationTrigger.onStackChange()
   */
  readonly trigger?: InvalidationTrigger;

  /**
   * Invalidate one tenant of a multi-tenant distribution (CreateInvalidationForDistributionTenant)
   * instead of the whole distribution. A tenant id such as `dt_...`, or a token.
   *
   * @default - the whole distribution
   */
  readonly distributionTenantId?: string;

  /**
   * Whether the deployment waits until CloudFront has finished invalidating (usually one to five
   * minutes, sometimes over ten). Waiting is not bound by Lambda's 15 minutes: the handler carries
   * on in a fresh invocation, for as long as `timeout` allows.
   *
   * @default false - the deployment goes on as soon as CloudFront has accepted every batch
   */
  readonly waitForCompletion?: boolean;

  /**
   * How long one deployment may spend on the invalidation: getting every batch accepted (CloudFront
   * allows only so many paths in progress at once, and throttles) and, with `waitForCompletion`,
   * waiting for completion. At most 58 minutes: CloudFormation waits at most an hour for a custom
   * resource, and the handler keeps two minutes to answer.
   *
   * @default Duration.minutes(30)
   */
  readonly timeout?: Duration;

  /**
   * Whether running out of `timeout` while waiting for completion fails the deployment. When false,
   * the deployment succeeds with a warning in the `Warning` attribute instead. Invalidations that
   * CloudFront has not even accepted by the deadline always fail it: otherwise the caches would stay
   * stale and no later deployment would notice.
   *
   * @default true
   */
  readonly failOnTimeout?: boolean;
}

/**
 * Purges a CloudFront distribution's edge caches when a deployment changes what it serves.
 *
 * Backed by a custom resource whose handler calls CreateInvalidation with a CallerReference derived
 * from what changed and from the CloudFormation request, so a deployment that changes nothing
 * creates no invalidation and a retried request never creates a second one. All invalidations of a
 * stack share one handler function.
 */
export class Invalidation extends Construct {
  /**
   * Comma-separated ids, in batch order, of the invalidations made for the distribution, paths and
   * trigger now deployed: the ones the latest deployment created, or, when it changed none of
   * them or rolled back, the ones an earlier deployment created for the same inputs, as found
   * among the distribution's 10 newest invalidations (empty when they are out of sight). The purge
   * after a rollback runs once the rollback is over and is not reported here.
   *
   * @attribute
   */
  public readonly invalidationIds: string;

  /**
   * Id of the first of `invalidationIds`; empty when that is empty.
   *
   * @attribute
   */
  public readonly invalidationId: string;

  /**
   * The CallerReference of the invalidations in `invalidationIds`, without the `-n` that batch n
   * of a long path list adds; empty when `invalidationIds` is.
   *
   * @attribute
   */
  public readonly callerReference: string;

  /**
   * A warning from the latest deployment, such as a wait that timed out with `failOnTimeout: false`;
   * empty when there was none.
   *
   * @attribute
   */
  public readonly warning: string;

  /** The distribution this invalidation purges. */
  public readonly distribution: cloudfront.IDistribution;

  private readonly resource: CustomResource;

  public constructor(scope: Construct, id: string, props: InvalidationProps) {
    super(scope, id);
    markMachinery(this);
    this.distribution = props.distribution;

    const paths = props.paths ?? ['/*'];
    this.validatePaths(paths);
    const timeout = props.timeout ?? Duration.minutes(30);
    const timeoutSeconds = this.validateTimeout(timeout);

    const provider = InvalidationProvider.of(this);
    if (props.distributionTenantId === undefined) {
      provider.grantDistribution(props.distribution.distributionId);
    } else {
      provider.grantTenant(props.distributionTenantId);
    }

    const trigger = props.trigger ?? InvalidationTrigger.onStackChange();
    // The rollback guard names the distribution and tenant by logical id when they are in its stack:
    // it must not wait for them (see below).
    const distribution = this.guardReference(props.distribution.distributionId);
    const tenant = this.guardReference(props.distributionTenantId);
    // A rollback guard can deploy before the content when nothing it needs is deployed with it.
    const guardable = trigger._guardable && distribution !== undefined && tenant !== undefined
      && !Token.isUnresolved(paths) && paths.every((p) => !Token.isUnresolved(p));
    const inputs = {
      DistributionId: props.distribution.distributionId,
      DistributionTenantId: props.distributionTenantId,
      Paths: paths,
      TimeoutSeconds: String(timeoutSeconds),
    };
    const properties: Omit<InvalidationResourceProperties, 'ServiceToken' | 'Trigger'> = {
      ...inputs,
      WaitForCompletion: String(props.waitForCompletion ?? false),
      FailOnTimeout: String(props.failOnTimeout ?? true),
      RollbackGuard: guardable ? 'true' : undefined,
    };
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.function.functionArn,
      resourceType: RESOURCE_TYPE,
      serviceTimeout: Duration.seconds(timeoutSeconds + ANSWER_MARGIN_SECONDS),
      properties,
    });
    const cfn = this.resource.node.defaultChild as CfnResource;
    markInvalidationResource(cfn);
    // The handler must hold its permissions before the first request reaches it.
    this.resource.node.addDependency(provider.policy);

    // When a deploy fails before the invalidation's turn, CloudFormation never calls it, yet the
    // content it follows may have changed and gone back. The guard has the same inputs and deploys
    // before that content, so every rollback of a change reaches it. It must not wait for the
    // policy: the policy names the distribution, which waits for the guard.
    const guard = guardable && distribution && tenant
      ? new CustomResource(this, 'RollbackGuard', {
        serviceToken: provider.function.functionArn,
        resourceType: GUARD_RESOURCE_TYPE,
        serviceTimeout: Duration.minutes(5),
        properties: {
          DistributionId: distribution.id,
          DistributionLogicalId: distribution.logicalId,
          DistributionTenantId: tenant.id,
          DistributionTenantLogicalId: tenant.logicalId,
          Paths: paths,
          TimeoutSeconds: String(timeoutSeconds),
          WaitForCompletion: 'false',
          FailOnTimeout: 'true',
        } satisfies Omit<InvalidationResourceProperties, 'ServiceToken' | 'Trigger'>,
      }).node.defaultChild as CfnResource
      : undefined;
    const triggerValue = trigger._bind(cfn, guard && { resource: guard, handler: provider.function.node.defaultChild as CfnResource });
    cfn.addPropertyOverride('Trigger', triggerValue);
    guard?.addPropertyOverride('Trigger', triggerValue);

    this.invalidationIds = this.resource.getAttString(ATTRIBUTES.INVALIDATION_IDS);
    this.invalidationId = this.resource.getAttString(ATTRIBUTES.INVALIDATION_ID);
    this.callerReference = this.resource.getAttString(ATTRIBUTES.CALLER_REFERENCE);
    this.warning = this.resource.getAttString(ATTRIBUTES.WARNING);
  }

  /**
   * Makes the invalidation wait for these constructs (every resource in them) to be deployed, on
   * top of what its trigger waits for. Use it for content the trigger does not see, such as files
   * another stack or a custom resource puts in the origin.
   */
  public executeAfter(...scopes: IConstruct[]): void {
    this.resource.node.addDependency(...scopes);
  }

  /**
   * How a rollback guard names a distribution or tenant: by logical id when the id is a reference
   * to a resource of this stack, which the guard must not wait for; as the value when it refers to
   * no resource of this stack; `undefined` when it is worked out from other resources of the stack,
   * which the guard would have to wait for.
   */
  private guardReference(id: string | undefined): { id?: string; logicalId?: string } | undefined {
    if (id === undefined) {
      return {};
    }
    const stack = Stack.of(this);
    const inStack = (logicalId: unknown) => stack.node.findAll()
      .some((c) => CfnResource.isCfnResource(c) && Stack.of(c) === stack && stack.resolve(c.logicalId) === logicalId);
    // The id of a resource (its Ref, or its Id attribute): in this stack, name it; elsewhere, its value will do.
    const reference = Tokenization.reverse(id);
    if (reference instanceof Reference) {
      const target = reference.target;
      if (Stack.of(target) !== stack) {
        return { id };
      }
      if (CfnResource.isCfnResource(target) && (reference.displayName === 'Ref' || reference.displayName === 'Id')) {
        return { logicalId: Lazy.string({ produce: () => stack.resolve(target.logicalId) }) };
      }
    }
    return [...referencedIds(stack.resolve(id))].some(inStack) ? undefined : { id };
  }

  private validatePaths(paths: string[]): void {
    if (Token.isUnresolved(paths)) {
      return;
    }
    if (paths.length === 0) {
      throw new Error(`${this.node.path}: paths is empty; give at least one path, e.g. ['/*'] (the default)`);
    }
    paths.forEach((p, i) => {
      if (Token.isUnresolved(p)) {
        return;
      }
      const problem = pathProblem(p);
      if (problem) {
        throw new Error(`${this.node.path}: paths[${i}] ${JSON.stringify(p)} is not a valid invalidation path: ${problem}`);
      }
    });
  }

  private validateTimeout(timeout: Duration): number {
    if (timeout.isUnresolved()) {
      throw new Error(`${this.node.path}: timeout must be a literal duration, not a token`);
    }
    const seconds = timeout.toSeconds({ integral: false });
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_TIMEOUT_SECONDS) {
      throw new Error(`${this.node.path}: timeout is ${timeout.toHumanString()}, but must be a whole number of seconds from 1 second to `
        + `${MAX_TIMEOUT_SECONDS / 60} minutes (CloudFormation waits at most ${3600 / 60} minutes for a custom resource, `
        + `and the handler keeps ${ANSWER_MARGIN_SECONDS / 60} minutes to answer)`);
    }
    return seconds;
  }
}
