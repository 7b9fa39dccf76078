/**
 * What the Invalidations of one stack follow, worked out once per stack and synthesis rather than
 * once per Invalidation: the resources they run after (the anchor's DependsOn, and its conditional
 * references for those with a Condition), a fingerprint of them for `onStackChange`, and
 * fingerprints of deployments for `onDeployment`.
 */
import { CfnParameter, CfnResource, Lazy, Stack } from 'aws-cdk-lib';
import type { IResolvable } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { ConditionalTarget } from './conditional-dependencies';
import type { FingerprintEntry } from './fingerprint';
import { fingerprint, fingerprintEntry, followedResources } from './fingerprint';
import { isInvalidationResource, isMachinery } from './machinery';
import type { RenderedResource } from './render';
import { renderResource } from './render';

/**
 * What a trigger follows, to tell whether one fires on every deploy that fires another: the whole
 * stack (onStackChange), some deployments (onDeployment) or some values (onChangeOf).
 */
export type TriggerFollows =
  | { readonly kind: 'stack' }
  | { readonly kind: 'deployments'; readonly deployments: readonly IConstruct[] }
  | { readonly kind: 'values'; readonly values: readonly string[] };

/** What a trigger contributes to an Invalidation. */
export interface TriggerBinding {
  /** The `Trigger` property: a change here fires the invalidation. */
  readonly trigger: string[];
  /** Constructs the invalidation must run after, on top of the anchor. */
  readonly after: readonly IConstruct[];
  /** Whether the trigger follows the whole stack, so the invalidation runs after the anchor whatever it asks for. */
  readonly followsStack: boolean;
  /** What the trigger follows. */
  readonly follows: TriggerFollows;
}

/**
 * A list worked out while the template is rendered, once every construct exists. While CDK still
 * prepares the app (it resolves every template to find cross-stack references, before those are
 * in place), the list stands empty: what it holds refers to nothing CDK must find there.
 */
export function renderedList(produce: () => unknown[], omitEmpty = false): string[] {
  return Lazy.uncachedList({ produce: (context) => (context.preparing ? [] : produce()) as string[] }, { omitEmpty });
}

/** A value worked out while the template is rendered, like `renderedList`; none while CDK prepares the app. */
export function renderedValue(produce: () => unknown): IResolvable {
  return Lazy.uncachedAny({ produce: (context) => (context.preparing ? undefined : produce()) });
}

/** The resources of a stack and what its Invalidations follow, cached until the tree is validated again. */
export class StackContent {
  private followed?: RenderedResource[];
  private stackFingerprint?: unknown[];
  private parameterMap?: Map<string, CfnParameter>;
  private readonly entries = new Map<CfnResource, FingerprintEntry[]>();
  private readonly deploymentFingerprints = new Map<string, unknown[]>();

  constructor(private readonly stack: Stack) {}

  /**
   * Forgets what was worked out. Called when the app is validated, after CDK has prepared it
   * (references in place) and before the templates are written, so each synthesis works it out
   * once, from the final tree.
   */
  public reset(): void {
    this.followed = undefined;
    this.stackFingerprint = undefined;
    this.parameterMap = undefined;
    this.entries.clear();
    this.deploymentFingerprints.clear();
  }

  /**
   * Logical ids of the resources without a Condition that an invalidation runs after by default
   * (the anchor's DependsOn), sorted.
   */
  public followedIds(): string[] {
    return this.followedResources().filter((r) => r.definition.Condition === undefined).map((r) => r.logicalId);
  }

  /**
   * The resources with a Condition that an invalidation runs after by default, with their
   * condition. A DependsOn on one is refused when its condition is false, so the anchor waits for
   * them through conditional references (see `conditionalReferences`).
   */
  public conditionalFollowed(): ConditionalTarget[] {
    return this.followedResources().filter((r) => typeof r.definition.Condition === 'string')
      .map((r) => ({ logicalId: r.logicalId, condition: r.definition.Condition as string }));
  }

  /** The `onStackChange` fingerprint: every followed resource, and the parameters they use. */
  public stackChangeFingerprint(): unknown[] {
    return (this.stackFingerprint ??= fingerprint('stack', this.followedResources().map((r) => this.entry(r)), this.parameters()));
  }

  /**
   * The `onDeployment` fingerprint of the given custom resources (BucketDeployment copies): what
   * lands where. Their service token is only the handler, so it is left out.
   */
  public deploymentFingerprint(resources: readonly CfnResource[]): unknown[] {
    const key = resources.map((r) => r.node.path).join('\n');
    let value = this.deploymentFingerprints.get(key);
    if (!value) {
      const entries = resources.flatMap((resource) => {
        let cached = this.entries.get(resource);
        if (!cached) {
          // What the copy refers to may change at deploy time with its own definition unchanged
          // (a parameter replaced, say, whose name a data source holds): those values fire it too.
          cached = renderResource(resource).map((r) => fingerprintEntry(r, this.parameters(), ['ServiceToken'], 'references'));
          this.entries.set(resource, cached);
        }
        return cached;
      });
      value = fingerprint('deployment', entries, this.parameters());
      this.deploymentFingerprints.set(key, value);
    }
    return value;
  }

  private followedResources(): RenderedResource[] {
    if (!this.followed) {
      const all = this.resources();
      const invalidationIds = all.filter(isInvalidationResource).map((r) => this.stack.resolve(r.logicalId) as string);
      // Machinery is never rendered: an Invalidation's own definition is what is being worked out.
      this.followed = followedResources(all.filter((r) => !isMachinery(r)).flatMap(renderResource), invalidationIds);
    }
    return this.followed;
  }

  private entry(resource: RenderedResource): FingerprintEntry {
    return fingerprintEntry(resource, this.parameters());
  }

  private parameters(): Map<string, CfnParameter> {
    if (!this.parameterMap) {
      this.parameterMap = new Map();
      for (const c of this.stack.node.findAll()) {
        if (c instanceof CfnParameter && Stack.of(c) === this.stack) {
          this.parameterMap.set(this.stack.resolve(c.logicalId), c);
        }
      }
    }
    return this.parameterMap;
  }

  private resources(): CfnResource[] {
    return this.stack.node.findAll().filter((c): c is CfnResource => CfnResource.isCfnResource(c) && Stack.of(c) === this.stack);
  }
}
