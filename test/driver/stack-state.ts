/**
 * What the lifecycle driver knows of a stack: its resources as deployed, its template and
 * parameters, its status, and the update under way; and the order CloudFormation deploys a
 * template's resources in.
 */
import type { SynthesizedStack, Template, TemplateResource } from './assembly';
import { dependencies } from './conditions';
import type { Phase } from './options';

/** The type of a nested stack, and of the stack status events CloudFormation records for a stack itself. */
export const NESTED_STACK_TYPE = 'AWS::CloudFormation::Stack';

/** How a resource is deleted: which of its policies applies, and whether the operation that deletes it created it. */
export interface Removal {
  /** Its definition in the template that gives its DeletionPolicy and UpdateReplacePolicy. */
  readonly def?: TemplateResource;
  /** Created by the operation now deleting it (a rollback's cleanup, a failed creation's rollback): RetainExceptOnCreate deletes it. */
  readonly createdNow?: boolean;
  /** RollbackStack's RetainExceptOnCreate: what the operation created is deleted even with DeletionPolicy Retain. */
  readonly retainExceptOnCreate?: boolean;
  /** The old resource of a replacement: UpdateReplacePolicy applies, and the logical id stays the stack's. */
  readonly replaced?: boolean;
}

/** A resource as deployed: its physical id, its properties as resolved, and the attributes `Fn::GetAtt` reads. */
export interface Deployed {
  readonly logicalId: string;
  readonly type: string;
  physicalId: string;
  properties: Record<string, unknown>;
  attributes: Record<string, unknown>;
}

/**
 * An update under way: what it started from (the last stable state), what it did, and how far its
 * rollback got. An update that failed without rolling back (UPDATE_FAILED, CREATE_FAILED) stays,
 * and the next deploy carries on from it: its rollback goes back to the same stable state.
 */
export interface Transition {
  readonly creating: boolean;
  /** The last stable template; none when the stack was never created whole. */
  readonly oldTemplate?: Template;
  readonly oldSynthesized?: SynthesizedStack;
  readonly oldParameters: Record<string, string>;
  readonly template: Template;
  readonly synthesized: SynthesizedStack;
  /** The templates of the failed updates this one carries on from, newest first. */
  readonly earlier: readonly Template[];
  /** Resources as they were before the update. */
  readonly before: Map<string, Deployed>;
  /** Existing resources the update changed (or tried to), in order. */
  readonly touched: string[];
  /** Resources the update created, in order. */
  readonly created: string[];
  /**
   * Resources replaced (a custom resource that answered a new physical id, an SSM parameter renamed):
   * the old resource, deleted by the cleanup of the update (`deploy`) or of its rollback (`rollback`).
   */
  readonly replaced: Array<{ readonly old: Deployed; readonly phase: Phase }>;
  /**
   * Custom resources whose Create failed with a physical id in the answer: they exist, and the
   * rollback, the next update's cleanup or the stack's deletion deletes them.
   */
  readonly failedCreates: Deployed[];
  /** RollbackStack's RetainExceptOnCreate. */
  retainExceptOnCreate?: boolean;
  /** What the rollback still has to put back, in its order. */
  remaining?: string[];
  /** The resource that failed to roll back, which ContinueUpdateRollback may skip. */
  failedRollback?: string;
}

/** A stack as the driver deployed it: its template, parameter values, resources, status and the update under way. */
export interface StackState {
  readonly name: string;
  readonly id: string;
  /** For a nested stack: its parent and the AWS::CloudFormation::Stack resource that holds it. */
  readonly parent?: { readonly stack: StackState; readonly logicalId: string };
  template?: Template;
  synthesized?: SynthesizedStack;
  parameters: Record<string, string>;
  resources: Map<string, Deployed>;
  status: string;
  transition?: Transition;
}

/** A resource's definition in the newest template of an update (or of the failed ones it carries on from) that has it. */
export function definition(t: Transition, id: string): TemplateResource | undefined {
  return [t.template, ...t.earlier, t.oldTemplate].find((x) => x !== undefined && id in x.Resources)?.Resources[id];
}

/** Logical ids in an order where every resource comes after what it refers to or depends on. */
export function deploymentOrder(template: Template): string[] {
  const ids = Object.keys(template.Resources);
  const known = new Set(ids);
  const deps = new Map(ids.map((id) => [id, [...dependencies(template.Resources[id])].filter((d) => known.has(d) && d !== id)]));
  const order: string[] = [];
  const progress = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]) => {
    if (progress.get(id) === 'done') {
      return;
    }
    if (progress.get(id) === 'visiting') {
      throw new Error(`circular dependency: ${[...path, id].join(' -> ')}`);
    }
    progress.set(id, 'visiting');
    for (const d of [...deps.get(id)!].sort()) {
      visit(d, [...path, id]);
    }
    progress.set(id, 'done');
    order.push(id);
  };
  [...ids].sort().forEach((id) => visit(id, []));
  return order;
}
