import { CustomResource, Duration, Stack, Token } from 'aws-cdk-lib';
import type { CfnResource } from 'aws-cdk-lib';
import type * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { Construct } from 'constructs';
import type { IConstruct } from 'constructs';
import { addManifestAsset, changedFilesRequest, sourceCount } from './changed-files';
import type { ChangedFilesRequest } from './changed-files';
import { waitThroughConditionalReferences } from './conditional-dependencies';
import type { InvalidationHandler, InvalidationHandlerSettings } from './handler-settings';
import { markInvalidationResource, markMachinery } from './machinery';
import { addNote, addWarning } from './notes';
import { InvalidationProvider } from './provider';
import { checkSetup } from './setup-checks';
import type { ChangedFilesProperties, InvalidationResourceProperties } from './shared/contract';
import { ANSWER_MARGIN_SECONDS, ATTRIBUTES, MAX_TIMEOUT_SECONDS, RESOURCE_TYPE } from './shared/contract';
import { normalizePaths, pathProblem, quote } from './shared/paths';
import { InvalidationTrigger } from './trigger';

/**
 * Properties of an `Invalidation`.
 */
export interface InvalidationProps {
  /**
   * The distribution whose edge caches to purge: one defined in this app (any stack, nested stacks
   * included), or one imported with `Distribution.fromDistributionAttributes`.
   *
   * It must belong to the account of the Invalidation's stack: the handler's IAM policy covers the
   * distributions of that account (README, "Permissions"). A distribution whose stack (or, when imported, whose `env.account` or
   * literal ARN) names another account is an error at synth, when both accounts are known.
   */
  readonly distribution: cloudfront.IDistribution;

  /**
   * The paths to invalidate. Each starts with `/`; a `*` may only come last and matches anything
   * (`/images/*`); items starting with `#` are cache tags, for distributions with cache tags set up.
   * Tokens are allowed and checked when the stack deploys. Duplicates, and paths a wildcard of the
   * list already covers, are dropped; lists over 3000 paths go out in several batches.
   *
   * `InvalidationPaths.changedFiles(deployment)` purges only the objects a deploy added, changed
   * or deleted; `InvalidationPaths.ofDeployment(deployment)` everything the deployment holds.
   *
   * @default ['/*']
   */
  readonly paths?: string[];

  /**
   * What fires the invalidation.
   *
   * Two Invalidations of a stack with the same distribution, tenant and paths (after normalization)
   * purge twice on every deploy that fires both. Synth warns about the later one
   * (`cdk-cloudfront-invalidation:duplicateInvalidation`) when one of the two triggers fires only
   * on deploys that fire the other: both `onStackChange`; `onDeployment` next to `onStackChange`,
   * or of deployments all followed by the other's `onDeployment`; `onChangeOf` of values all among
   * the other's. Triggers that follow other things fire on other deploys and are not flagged.
   *
   * @default InvalidationTrigger.onStackChange()
   */
  readonly trigger?: InvalidationTrigger;

  /**
   * Invalidate one tenant of a multi-tenant distribution (CreateInvalidationForDistributionTenant)
   * instead of the whole distribution. A tenant id such as `dt_...`, or a token. An empty or blank
   * id is an error at synth (`distributionTenantId "" is not a tenant id`).
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
   * stale and no later deployment would notice. So without `waitForCompletion`, `false` has no
   * effect, and synth warns about it.
   *
   * @default true
   */
  readonly failOnTimeout?: boolean;

  /**
   * Whether the invalidation runs after the rest of the stack: every other resource except the
   * invalidation machinery, CDK metadata and whatever depends on an invalidation. A resource with a
   * CloudFormation Condition counts while its condition holds. Purging before new content lands
   * lets edges cache the old content again, so leave this on unless the invalidation must not wait
   * for slow resources it has nothing to do with.
   *
   * When false, the invalidation runs after what its trigger follows only (`onChangeOf`: what its
   * values refer to; `onDeployment`: the deployments), plus `executeAfter`. `onStackChange`
   * follows the whole stack, so with it `false` is an error.
   *
   * @default true
   */
  readonly executeAfterStack?: boolean;
}

/**
 * Purges a CloudFront distribution's edge caches when a deployment changes what it serves.
 *
 * Backed by a custom resource whose handler calls CreateInvalidation with a CallerReference derived
 * from what changed and from the CloudFormation request, so a deployment that changes nothing
 * creates no invalidation and a retried request never creates a second one.
 *
 * All invalidations of a stack share a fixed set of resources, created with the first: the handler
 * function (with its role, policies, log group and dead-letter queue), an anchor resource that
 * waits for the rest of the stack, and an EventBridge rule that purges every invalidation of the
 * stack again, and whatever the failed deploy purged, once a deploy has failed and rolled back (or
 * stopped, with rollback disabled). The user's own resources are left as they are.
 *
 * Synth adds two info messages: what each Invalidation can bill (id
 * `cdk-cloudfront-invalidation:cost`), and, once per stack, what a failed deploy or a hotswap
 * leaves unpurged (`cdk-cloudfront-invalidation:limitations`). Acknowledge one with
 * `Annotations.of(scope).acknowledgeInfo(id)` where aws-cdk-lib has it, or, with any version, the
 * context key `cdk-cloudfront-invalidation:acknowledgeInfo`: a list of ids, or ids separated by
 * commas (in cdk.json, `cdk synth -c cdk-cloudfront-invalidation:acknowledgeInfo=<id>`, or
 * `node.setContext` on a stack before its first construct).
 */
export class Invalidation extends Construct {
  /**
   * Sets up the handler that the Invalidations of `scope`'s stack share: its logs, runtime, memory,
   * tracing, concurrency, VPC and failure alarm (see `InvalidationHandlerSettings`). Call it before
   * or after the stack's first Invalidation; settings given again replace the earlier ones they name,
   * except those that add resources or permissions, which may be given once (see `InvalidationHandlerSettings`).
   *
   * @param scope any construct of the stack (a nested stack has a handler of its own)
   * @param settings the settings to apply
   * @throws when `logRemovalPolicy` is `RemovalPolicy.SNAPSHOT`; when `runtime` is not a Node.js runtime of
   *   version 20 or newer; when `memorySize` is not a whole number from 128 to 10240, or
   *   `reservedConcurrentExecutions` not a whole number of at least 1; when `vpcSubnets` or
   *   `securityGroups` come without `vpc`
   */
  public static configureHandler(scope: IConstruct, settings: InvalidationHandlerSettings): void {
    InvalidationProvider.configure(scope, settings);
  }

  /**
   * The handler that the Invalidations of `scope`'s stack share: its function, role, log group,
   * dead-letter queue and failure alarm. Use them for alarms, subscriptions and log queries of your
   * own (README, "Operations").
   *
   * @param scope any construct of a stack that has an Invalidation (a nested stack has a handler of its own)
   * @throws when the stack has no Invalidation yet: define one first
   */
  public static handlerOf(scope: IConstruct): InvalidationHandler {
    const provider = InvalidationProvider.find(scope);
    if (!provider) {
      throw new Error(`${scope.node.path}: stack ${Stack.of(scope).node.path} has no Invalidation, so it has no handler; `
        + 'call Invalidation.handlerOf after defining an Invalidation in it');
    }
    return provider.handler();
  }

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

  /**
   * How many paths the latest deployment that purged submitted, wildcards and cache tags included,
   * as a number in a string (`'0'` when it submitted none). This is what CloudFront bills: past the
   * first 1000 paths a month in the account, about $0.005 a path.
   *
   * @attribute
   */
  public readonly pathsSubmitted: string;

  /**
   * How many of `pathsSubmitted` are wildcard paths, as a number in a string. CloudFront keeps at
   * most 15 wildcard paths in progress per distribution.
   *
   * @attribute
   */
  public readonly wildcardsSubmitted: string;

  /**
   * With `InvalidationPaths.changedFiles`: one line on what the latest deployment purged, such as
   * `3 of 500 objects added, changed or deleted: 3 path(s)`, or why it purged the deployment's
   * whole prefix (`purged /*: there is no earlier manifest`); empty otherwise.
   *
   * @attribute
   */
  public readonly pathsNote: string;

  /** The distribution this invalidation purges. */
  public readonly distribution: cloudfront.IDistribution;

  private readonly resource: CustomResource;

  public constructor(scope: Construct, id: string, props: InvalidationProps) {
    super(scope, id);
    markMachinery(this);
    this.distribution = props.distribution;
    this.checkAccount(props.distribution);

    const paths = props.paths ?? ['/*'];
    const changedFiles = changedFilesRequest(paths);
    this.validatePaths(paths);
    const timeout = props.timeout ?? Duration.minutes(30);
    const timeoutSeconds = this.validateTimeout(timeout);
    const trigger = props.trigger ?? InvalidationTrigger.onStackChange();
    if (props.distributionTenantId !== undefined && !Token.isUnresolved(props.distributionTenantId) && !/^\S+$/.test(props.distributionTenantId)) {
      throw new Error(`${this.node.path}: distributionTenantId ${quote(props.distributionTenantId)} is not a tenant id; give the tenant's id `
        + '(such as dt_2abc...), or leave distributionTenantId out to purge the whole distribution');
    }
    if (props.failOnTimeout === false && !props.waitForCompletion) {
      addWarning(this, 'cdk-cloudfront-invalidation:failOnTimeoutWithoutWait', 'failOnTimeout: false has no effect without '
        + 'waitForCompletion: true: a deploy that does not wait only fails when CloudFront has not even accepted the invalidation by the '
        + 'timeout, which always fails it. Set waitForCompletion: true, or leave failOnTimeout out.');
    }

    const provider = InvalidationProvider.of(this);
    const binding = trigger._bind(this, provider.content);
    const afterStack = props.executeAfterStack ?? true;
    if (!afterStack && binding.followsStack) {
      throw new Error(`${this.node.path}: executeAfterStack is false, but the onStackChange trigger follows the whole stack `
        + 'and always runs after it; use onChangeOf or onDeployment to run sooner');
    }

    const changedFilesProperties = changedFiles ? this.shipManifest(changedFiles, provider) : undefined;
    const properties: Omit<InvalidationResourceProperties, 'ServiceToken'> = {
      DistributionId: props.distribution.distributionId,
      DistributionTenantId: props.distributionTenantId,
      Paths: paths,
      Trigger: binding.trigger,
      WaitForCompletion: String(props.waitForCompletion ?? false),
      TimeoutSeconds: String(timeoutSeconds),
      FailOnTimeout: String(props.failOnTimeout ?? true),
      ChangedFiles: changedFilesProperties,
    };
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.function.functionArn,
      resourceType: RESOURCE_TYPE,
      serviceTimeout: Duration.seconds(timeoutSeconds + ANSWER_MARGIN_SECONDS),
      properties,
    });
    markInvalidationResource(this.resource.node.defaultChild as CfnResource);
    // The handler must hold its permissions before the first request reaches it.
    this.resource.node.addDependency(provider.policy);
    if (afterStack || binding.followsStack) {
      this.resource.node.addDependency(provider.anchor);
    }
    if (binding.after.length > 0) {
      this.resource.node.addDependency(...binding.after);
    }
    // What it waits for may carry a Condition (the deployments of onDeployment, what executeAfter names).
    waitThroughConditionalReferences(this.resource.node.defaultChild as CfnResource);
    checkSetup({
      scope: this,
      distribution: props.distribution,
      distributionTenantId: props.distributionTenantId,
      paths,
      changedFiles,
      follows: binding.follows,
    });
    // What a failed deploy changed is not known from the rule's input: a changedFiles Invalidation purges its whole prefix then.
    const rollbackPaths = changedFiles ? [`${changedFiles.root}*`] : paths;
    provider.addRollbackTarget({
      DistributionId: props.distribution.distributionId, DistributionTenantId: props.distributionTenantId, Paths: rollbackPaths,
    });
    addNote(this, 'cdk-cloudfront-invalidation:cost', `${costOf(paths, changedFiles)}. CloudFront bills each path past the first 1000 a month `
      + 'in the account, about $0.005 a path; a wildcard or a cache tag counts as one.');

    this.invalidationIds = this.resource.getAttString(ATTRIBUTES.INVALIDATION_IDS);
    this.invalidationId = this.resource.getAttString(ATTRIBUTES.INVALIDATION_ID);
    this.callerReference = this.resource.getAttString(ATTRIBUTES.CALLER_REFERENCE);
    this.warning = this.resource.getAttString(ATTRIBUTES.WARNING);
    this.pathsSubmitted = this.resource.getAttString(ATTRIBUTES.PATHS_SUBMITTED);
    this.wildcardsSubmitted = this.resource.getAttString(ATTRIBUTES.WILDCARDS_SUBMITTED);
    this.pathsNote = this.resource.getAttString(ATTRIBUTES.PATHS_NOTE);
  }

  /**
   * Makes the invalidation wait for these constructs (every resource in them) to be deployed, on
   * top of what it waits for already. Use it for content the stack does not hold, such as files
   * another stack puts in the origin, or with `executeAfterStack: false`. It waits for a resource
   * with a CloudFormation Condition while that condition holds (through a conditional reference in
   * its Metadata: a DependsOn on it would be refused when the condition is false).
   */
  public executeAfter(...scopes: IConstruct[]): void {
    this.resource.node.addDependency(...scopes);
  }

  /**
   * Ships the manifest of a changedFiles deployment as an asset the handler may read, and checks at
   * synth that the deployment got no source after it was made.
   */
  private shipManifest(request: ChangedFilesRequest, provider: InvalidationProvider): ChangedFilesProperties {
    const { asset, sources } = addManifestAsset(this, 'FileManifest', request.deployment);
    provider.grantManifestReads(asset.bucket);
    this.node.addValidation({
      validate: () => (sourceCount(request.deployment) === sources ? [] : [`${this.node.path}: BucketDeployment ${request.deployment.node.path} `
        + `got sources after InvalidationPaths.changedFiles made its manifest (${sources} then, ${sourceCount(request.deployment)} now); `
        + 'call addSource before defining the Invalidation']),
    });
    return {
      ManifestBucket: asset.s3BucketName,
      ManifestKey: asset.s3ObjectKey,
      OriginPath: request.originPath,
      Root: request.root,
      IndexDocument: request.indexDocument ?? '',
      MaxPaths: String(request.maxPaths),
    };
  }

  /** Refuses a distribution of another account, when both accounts are known at synth. */
  private checkAccount(distribution: cloudfront.IDistribution): void {
    const ours = Stack.of(this).account;
    const theirs = accountOf(distribution);
    if (theirs !== undefined && !Token.isUnresolved(ours) && theirs !== ours) {
      throw new Error(`${this.node.path}: distribution ${distribution.node.path} belongs to account ${theirs}, but the Invalidation's `
        + `stack ${Stack.of(this).node.path} deploys to account ${ours}; the handler can only invalidate distributions of its own `
        + 'account: put the Invalidation in a stack of that account');
    }
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
        throw new Error(`${this.node.path}: paths[${i}] ${quote(p)} is not a valid invalidation path: ${problem}`);
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

/** What an Invalidation can bill per deploy, as far as synth knows: `1 path (/*) per deploy`. */
function costOf(paths: string[], changedFiles: ChangedFilesRequest | undefined): string {
  if (changedFiles) {
    return `Up to ${changedFiles.maxPaths} paths per deploy: the files that changed (1 path, ${changedFiles.root}*, on the first deploy)`;
  }
  if (Token.isUnresolved(paths) || paths.some((p) => Token.isUnresolved(p))) {
    return 'Paths known only at deploy time: each path, wildcard or cache tag of the list per deploy';
  }
  const items = normalizePaths(paths);
  const shown = items.length <= 3 ? items.join(' ') : `${items.slice(0, 3).join(' ')} ...`;
  return `${items.length} ${items.length === 1 ? 'path' : 'paths'} (${shown}) per deploy`;
}

/** The account of a distribution, when known at synth: from a literal ARN, else from its environment. */
function accountOf(distribution: cloudfront.IDistribution): string | undefined {
  const arn = (distribution as { distributionArn?: unknown }).distributionArn;
  if (typeof arn === 'string' && !Token.isUnresolved(arn)) {
    const account = arn.split(':')[4];
    if (account) {
      return account;
    }
  }
  const account = distribution.env.account;
  return Token.isUnresolved(account) ? undefined : account;
}
