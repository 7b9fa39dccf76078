import { Stack } from 'aws-cdk-lib';
import type * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import type { IConstruct } from 'constructs';
import { bucketDeploymentResource } from './deployment';
import type { StackContent, TriggerBinding } from './stack-content';
import { renderedList } from './stack-content';

/**
 * What makes an `Invalidation` fire.
 *
 * An invalidation fires on the stack's first deployment and on every deployment that changes its
 * distribution, tenant, paths or trigger; a deployment that changes none of them creates no
 * invalidation, and neither does deleting the stack. Whatever the trigger, by default the
 * invalidation runs after the rest of the stack (see `InvalidationProps.executeAfterStack`).
 */
export abstract class InvalidationTrigger {
  /**
   * Fires when anything else in the stack changes: a fingerprint of every other resource as
   * synthesized (asset hashes included, so new Lambda code or new site files count), plus the
   * deploy-time values of the CloudFormation parameters they use.
   *
   * Left out: the invalidation machinery itself (handler, IAM, rule), CDK metadata, so upgrading
   * this library alone purges nothing, and resources that depend on an invalidation (they deploy
   * after it). The invalidation always runs after every resource it follows.
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
   * The invalidation runs after whatever the values refer to (and, by default, after the rest of
   * the stack).
   *
   * @param values at least one value
   */
  public static onChangeOf(...values: string[]): InvalidationTrigger {
    return new ValuesTrigger(values);
  }

  /**
   * Fires when one of the BucketDeployments deploys new content: new source files, another
   * destination, other object metadata or deploy-time values in its sources. Runs after every one
   * of them has finished copying (and, by default, after the rest of the stack).
   *
   * @param deployments at least one BucketDeployment, in the same stack as the invalidation
   */
  public static onDeployment(...deployments: s3deploy.BucketDeployment[]): InvalidationTrigger {
    return new DeploymentTrigger(deployments);
  }

  /** Triggers come from the static factories. */
  protected constructor() {}

  /**
   * What the trigger contributes to an invalidation in `scope`: its `Trigger` property and what
   * it must run after.
   * @internal
   */
  public abstract _bind(scope: IConstruct, content: StackContent): TriggerBinding;
}

class StackChangeTrigger extends InvalidationTrigger {
  public _bind(_scope: IConstruct, content: StackContent): TriggerBinding {
    return { trigger: renderedList(() => content.stackChangeFingerprint()), after: [], followsStack: true, follows: { kind: 'stack' } };
  }
}

class ValuesTrigger extends InvalidationTrigger {
  constructor(private readonly values: string[]) {
    super();
    if (values.length === 0) {
      throw new Error('InvalidationTrigger.onChangeOf needs at least one value');
    }
  }

  public _bind(): TriggerBinding {
    // CloudFormation orders the invalidation after whatever the values refer to.
    return { trigger: [...this.values], after: [], followsStack: false, follows: { kind: 'values', values: this.values } };
  }
}

class DeploymentTrigger extends InvalidationTrigger {
  constructor(private readonly deployments: s3deploy.BucketDeployment[]) {
    super();
    if (deployments.length === 0) {
      throw new Error('InvalidationTrigger.onDeployment needs at least one BucketDeployment');
    }
  }

  public _bind(scope: IConstruct, content: StackContent): TriggerBinding {
    const stack = Stack.of(scope);
    const copies = this.deployments.map((d) => {
      if (Stack.of(d) !== stack) {
        throw new Error(`InvalidationTrigger.onDeployment: BucketDeployment ${d.node.path} is in stack ${Stack.of(d).stackName}, `
          + `the invalidation in stack ${stack.stackName}; put them in the same stack`);
      }
      return bucketDeploymentResource(d, 'InvalidationTrigger.onDeployment');
    });
    return {
      trigger: renderedList(() => content.deploymentFingerprint(copies)),
      after: this.deployments,
      followsStack: false,
      follows: { kind: 'deployments', deployments: this.deployments },
    };
  }
}
