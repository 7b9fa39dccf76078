/**
 * The steps of a property-based lifecycle sequence and the settings of its run, as fast-check
 * draws them: deploys of the example site (each with its failure, deliveries and knobs),
 * redeliveries, continued rollbacks, RollbackStack and deletions. Knobs (`Knobs`, off unless asked
 * for) add the draws of later behaviours without changing the ones drawn before them.
 */
import * as fc from 'fast-check';
import type { RollbackOrder } from '../driver/options';
import type { StackIdForm } from '../emulator/eventbridge-events';

/** Where a deploy is made to fail, if anywhere. */
export type Failure = 'none' | 'before-purge' | 'after-purge' | 'in-content';

/** One step of a sequence: a deploy of the example site, or an operation on the stack it left. */
export type Step =
  | {
    readonly kind: 'deploy';
    readonly site: 'v1' | 'v2' | 'v3';
    readonly invalidationId: 'Purge' | 'Refresh';
    /** onStackChange or onChangeOf the site version. */
    readonly trigger: 'stack' | 'values';
    readonly waitForCompletion: boolean;
    readonly recordPurge: boolean;
    readonly failure: Failure;
    /** If it rolls back, the BucketDeployment fails to roll back: UPDATE_ROLLBACK_FAILED until continued. */
    readonly failRollback: boolean;
    readonly duplicateDelivery: boolean;
    readonly lateDuplicates: boolean;
    /** If it rolls back, the last request of an earlier step arrives again during the rollback. */
    readonly staleDuplicate: boolean;
    /** How this step's stack status events are delivered. */
    readonly events: EventDelivery;
    /** Rollback disabled (knob `disableRollback`): a failure ends UPDATE_FAILED or CREATE_FAILED. */
    readonly disableRollback?: boolean;
    /** The Invalidation's DeletionPolicy and UpdateReplacePolicy are Retain (knob `retainInvalidations`). */
    readonly retainInvalidation?: boolean;
    /** Whether the site's BucketDeployment retains its files on Delete (knob `bucketRetainOnDelete`; CDK's default is true). */
    readonly retainFiles?: boolean;
    /**
     * A second BucketDeployment, of assets under `assets/`, that does not retain its files (knob
     * `bucketRetainOnDelete`): drawn for the whole sequence (`RunSettings.assets`), since a
     * successful deploy that removes it deletes its files after every purge (README, "Limitations").
     */
    readonly assets?: boolean;
  }
  | { readonly kind: 'redeliver' }
  | { readonly kind: 'continue' }
  /** RollbackStack, for a stack left UPDATE_FAILED or CREATE_FAILED (knob `disableRollback`). */
  | { readonly kind: 'rollback' }
  | { readonly kind: 'destroy' };

/**
 * Behaviours of CloudFormation (and of the BucketDeployment handler) the sequences may draw, each
 * off unless asked for: with all of them off, the sequences are the ones drawn before they existed.
 */
export interface Knobs {
  /** IAM's changes reach the handler late: each sequence draws `iamPropagationMs` from 0, 300 and 2000. */
  readonly iamPropagation?: boolean;
  /** Deploys with rollback disabled, and RollbackStack steps; a deploy after a failure fixes the stack. */
  readonly disableRollback?: boolean;
  /** DeletionPolicy Retain (via `applyRemovalPolicy`) on the Invalidation of some deploys. */
  readonly retainInvalidations?: boolean;
  /** BucketDeployments with retainOnDelete false: the site's on some deploys, and an assets one on every deploy of some sequences. */
  readonly bucketRetainOnDelete?: boolean;
  /** The form of `detail.stack-id` in the stack status events, drawn per sequence: full ARN, ARN without its unique id, or name. */
  readonly stackIdForms?: boolean;
  /** EventBridge applies a changed rule late (PutRule): each sequence draws `ruleChangeDelayMs` from 0, 50 and 150. */
  readonly ruleChangeDelay?: boolean;
}

/** Every knob. */
export const ALL_KNOBS: Required<Knobs> = {
  iamPropagation: true, disableRollback: true, retainInvalidations: true, bucketRetainOnDelete: true, stackIdForms: true, ruleChangeDelay: true,
};

/** Stack status events as EventBridge may deliver them: once, twice, late by a delay, or once the next step has begun. */
export type EventDelivery = 'once' | 'twice' | 'late' | 'next-step';

/** The deploy steps of `Step`. */
export type DeployStep = Extract<Step, { kind: 'deploy' }>;

/** The steps a sequence draws from, with the knobs asked for. */
export function stepArbitraryFor(knobs: Knobs = {}): fc.Arbitrary<Step> {
  // Fields only drawn when their knob is on, so that without knobs the draws are as they always were.
  const deploy = fc.record({
    kind: fc.constant('deploy' as const),
    site: fc.constantFrom('v1' as const, 'v2' as const, 'v3' as const),
    invalidationId: fc.constantFrom('Purge' as const, 'Purge' as const, 'Purge' as const, 'Refresh' as const),
    trigger: fc.constantFrom('stack' as const, 'stack' as const, 'stack' as const, 'values' as const),
    waitForCompletion: fc.boolean(),
    recordPurge: fc.boolean(),
    failure: fc.constantFrom<Failure>('none', 'none', 'none', 'before-purge', 'after-purge', 'in-content'),
    failRollback: fc.constantFrom(false, false, false, true),
    duplicateDelivery: fc.boolean(),
    lateDuplicates: fc.boolean(),
    staleDuplicate: fc.constantFrom(false, false, true),
    events: fc.constantFrom<EventDelivery>('once', 'once', 'once', 'twice', 'late', 'next-step'),
    ...(knobs.disableRollback ? { disableRollback: fc.boolean() } : {}),
    ...(knobs.retainInvalidations ? { retainInvalidation: fc.boolean() } : {}),
    ...(knobs.bucketRetainOnDelete ? { retainFiles: fc.boolean() } : {}),
  }) as fc.Arbitrary<DeployStep>;
  return fc.oneof(
    { weight: 8, arbitrary: deploy as fc.Arbitrary<Step> },
    { weight: 2, arbitrary: fc.constant({ kind: 'redeliver' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'continue' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'destroy' as const }) },
    ...(knobs.disableRollback ? [{ weight: 1, arbitrary: fc.constant({ kind: 'rollback' as const }) }] : []),
  );
}

/** The settings of one sequence's run, drawn once per sequence: the local cloud's timing, order and fault seed. */
export interface RunSettings {
  readonly completionDelayMs: number;
  readonly rollbackOrder: RollbackOrder;
  readonly faultSeed: number;
  /** How late IAM's changes reach the handler (knob `iamPropagation`). @default 0 */
  readonly iamPropagationMs?: number;
  /** Every deploy of the sequence has the assets deployment (knob `bucketRetainOnDelete`). @default false */
  readonly assets?: boolean;
  /** The form of the stack id in status events (knob `stackIdForms`). @default 'arn' */
  readonly stackIdForm?: StackIdForm;
  /** How late EventBridge applies a changed rule (knob `ruleChangeDelay`). @default 0 */
  readonly ruleChangeDelayMs?: number;
}

/** The settings a sequence's run draws from, with the knobs asked for. */
export function settingsArbitraryFor(knobs: Knobs = {}): fc.Arbitrary<RunSettings> {
  return fc.record({
    completionDelayMs: fc.integer({ min: 0, max: 4000 }),
    rollbackOrder: fc.constantFrom<RollbackOrder>('dependencies-first', 'dependents-first'),
    faultSeed: fc.integer({ min: 1, max: 2 ** 30 }),
    ...(knobs.iamPropagation ? { iamPropagationMs: fc.constantFrom(0, 300, 2000) } : {}),
    ...(knobs.bucketRetainOnDelete ? { assets: fc.boolean() } : {}),
    ...(knobs.stackIdForms ? { stackIdForm: fc.constantFrom<StackIdForm>('arn', 'arn-without-id', 'name') } : {}),
    ...(knobs.ruleChangeDelay ? { ruleChangeDelayMs: fc.constantFrom(0, 50, 150) } : {}),
  }) as fc.Arbitrary<RunSettings>;
}

/** A step in words, as the report of a broken invariant lists the sequence. */
export function describeStep(step: Step): string {
  if (step.kind === 'continue') {
    return 'continue the rollback';
  }
  if (step.kind === 'rollback') {
    return 'roll the stack back (RollbackStack)';
  }
  if (step.kind !== 'deploy') {
    return step.kind;
  }
  const extras = [
    step.invalidationId !== 'Purge' ? `as ${step.invalidationId}` : '',
    step.trigger === 'values' ? 'on its version' : '',
    step.waitForCompletion ? 'waiting' : '',
    step.recordPurge ? 'recording the purge' : '',
    step.failure !== 'none' ? `failing ${step.failure}` : '',
    step.failure !== 'none' && step.failRollback ? 'its rollback failing' : '',
    step.duplicateDelivery ? 'delivered twice' : '',
    step.lateDuplicates && step.failure !== 'none' ? 'late duplicates' : '',
    step.staleDuplicate && step.failure !== 'none' ? 'an older request again' : '',
    step.events !== 'once' ? `events ${step.events}` : '',
    step.disableRollback ? 'rollback disabled' : '',
    step.retainInvalidation ? 'the Invalidation retained' : '',
    step.retainFiles === false ? 'files not retained' : '',
    step.assets ? 'with assets' : '',
  ].filter(Boolean);
  return `deploy ${step.site}${extras.length ? ` (${extras.join(', ')})` : ''}`;
}
