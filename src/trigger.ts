import { Aspects, CfnResource, Lazy, Stack } from 'aws-cdk-lib';
import type { IAspect } from 'aws-cdk-lib';
import type * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import type { IConstruct } from 'constructs';
import { bucketDeploymentResource } from './deployment';
import type { RollbackGuard } from './fingerprint';
import { fingerprint, followedResources, isMachinery, renderResources, resourcesNeededBy } from './fingerprint';
import { compareStrings } from './paths';

/**
 * What makes an `Invalidation` fire, and what it waits for.
 *
 * An invalidation fires on the stack's first deployment and on every deployment that changes its
 * distribution, tenant, paths or trigger; a deployment that changes none of them creates no
 * invalidation, and neither does deleting the stack.
 */
export abstract class InvalidationTrigger {
  /**
   * Fires when anything else in the stack changes: a fingerprint of every other resource as
   * synthesized (asset hashes included, so new Lambda code or new site files count), plus the
   * deploy-time values of the CloudFormation parameters they use.
   *
   * The invalidation runs after every other resource of the stack, except those that depend on an
   * invalidation. The invalidation's own handler, its IAM policies and CDK metadata are left out, so
   * upgrading this library alone purges nothing.
   *
   * Does not see values CloudFormation resolves without a template change, other than parameters:
   * use `onChangeOf` for those.
   */
  public static onStackChange(): InvalidationTrigger {
    return new StackChangeTrigger();
  }

  /**
   * Fires when any of the given values changes. Values may be tokens: they are resolved when the
   * stack deploys, so an SSM parameter's value or a Lambda version's number fires it when it changes.
   * The invalidation runs after whatever the values refer to, and after `executeAfter` scopes.
   *
   * @param values at least one value
   */
  public static onChangeOf(...values: string[]): InvalidationTrigger {
    return new ValuesTrigger(values);
  }

  /**
   * Fires when one of the BucketDeployments deploys new content: new source files, another
   * destination, other object metadata or deploy-time values in its sources. Runs after every one
   * of them has finished copying.
   *
   * @param deployments at least one BucketDeployment, in the same stack as the invalidation
   */
  public static onDeployment(...deployments: s3deploy.BucketDeployment[]): InvalidationTrigger {
    return new DeploymentTrigger(deployments);
  }

  /**
   * Whether a rollback guard can deploy before what the trigger follows.
   * @internal
   */
  public abstract readonly _guardable: boolean;

  /** Triggers come from the static factories. */
  protected constructor() {}

  /**
   * Connects the trigger to an invalidation's custom resource (and its rollback guard, which what
   * the trigger follows must wait for) and returns the `Trigger` property.
   * @internal
   */
  public abstract _bind(resource: CfnResource, guard: RollbackGuard | undefined): string[];
}

/**
 * Makes every other resource of the stack wait for a rollback guard, except what the guard itself
 * needs (its handler's role may use resources of the stack, such as a permissions boundary). Aspects
 * may change the handler's role after this one has visited a resource, so what the guard needs is
 * worked out when the tree is validated, once every aspect has run.
 */
class GuardFirst implements IAspect {
  private readonly waiting: CfnResource[] = [];

  constructor(private readonly guard: RollbackGuard) {
    guard.resource.node.addValidation({ validate: () => this.release() });
  }

  public visit(node: IConstruct): void {
    if (CfnResource.isCfnResource(node) && Stack.of(node) === Stack.of(this.guard.resource) && !isMachinery(node)) {
      node.addDependency(this.guard.resource);
      this.waiting.push(node);
    }
  }

  /** Lets what the guard needs go first: its handler, and what its scopes were made to depend on. */
  private release(): string[] {
    const declared = this.guard.resource.node.scopes.flatMap((scope) => scope.node.dependencies)
      .flatMap((d) => d.node.findAll().filter((c): c is CfnResource => CfnResource.isCfnResource(c)));
    const explicit = this.guard.resource.obtainDependencies().filter((d): d is CfnResource => CfnResource.isCfnResource(d));
    const start = [this.guard.handler, ...declared, ...explicit];
    const needed = resourcesNeededBy(Stack.of(this.guard.resource), start);
    start.forEach((r) => needed.add(r));
    for (const resource of this.waiting.filter((r) => needed.has(r))) {
      resource.removeDependency(this.guard.resource);
    }
    return [];
  }
}

class StackChangeTrigger extends InvalidationTrigger {
  public readonly _guardable = true;

  public _bind(resource: CfnResource, guard: RollbackGuard | undefined): string[] {
    const stack = Stack.of(resource);
    if (guard) {
      Aspects.of(stack).add(new GuardFirst(guard));
    }
    let followed: ReturnType<typeof followedResources> | undefined;
    // Worked out while the template is rendered, once every resource of the stack exists.
    const follow = () => (followed ??= followedResources(stack));
    const explicit = () => resource.obtainDependencies()
      .filter((d): d is CfnResource => CfnResource.isCfnResource(d) && Stack.of(d) === stack)
      .map((d) => stack.resolve(d.logicalId) as string);
    resource.addOverride('DependsOn', Lazy.list({
      produce: () => [...new Set([...explicit(), ...follow().map((r) => r.logicalId)])].sort(compareStrings),
    }, { omitEmpty: true }));
    return Lazy.list({ produce: () => fingerprint(stack, 'stack', follow()) as string[] });
  }
}

class ValuesTrigger extends InvalidationTrigger {
  // The values may come from resources deployed in the same update: nothing can go before them.
  public readonly _guardable = false;

  constructor(private readonly values: string[]) {
    super();
    if (values.length === 0) {
      throw new Error('InvalidationTrigger.onChangeOf needs at least one value');
    }
  }

  public _bind(_resource: CfnResource, _guard: RollbackGuard | undefined): string[] {
    return [...this.values];
  }
}

class DeploymentTrigger extends InvalidationTrigger {
  public readonly _guardable = true;

  constructor(private readonly deployments: s3deploy.BucketDeployment[]) {
    super();
    if (deployments.length === 0) {
      throw new Error('InvalidationTrigger.onDeployment needs at least one BucketDeployment');
    }
  }

  public _bind(resource: CfnResource, guard: RollbackGuard | undefined): string[] {
    const stack = Stack.of(resource);
    const targets = this.deployments.map((d) => {
      if (Stack.of(d) !== stack) {
        throw new Error(`InvalidationTrigger.onDeployment: BucketDeployment ${d.node.path} is in stack ${Stack.of(d).stackName}, `
          + `the invalidation in stack ${stack.stackName}; put them in the same stack`);
      }
      resource.node.addDependency(d);
      if (guard) {
        d.node.addDependency(guard.resource);
      }
      return bucketDeploymentResource(d, 'InvalidationTrigger.onDeployment');
    });
    // The copy's custom resource says what lands where; its service token is only the handler.
    return Lazy.list({ produce: () => fingerprint(stack, 'deployment', renderResources(stack, targets), ['ServiceToken']) as string[] });
  }
}
