/**
 * Property-based lifecycle testing: random sequences of deploys, redeliveries, rollbacks (some
 * failing, continued later), replacements and deletions of the example site, played by the
 * lifecycle driver under injected CloudFront faults, slow completion, and stack status events
 * delivered twice or late, with every invariant checked after every step. Knobs (`Knobs`, off
 * unless asked for) add late IAM, deploys with rollback disabled followed by RollbackStack or a
 * fixing deploy, Invalidations retained on deletion, and BucketDeployments that do not retain
 * their files.
 * Used by test/lifecycle/properties.test.ts (a fixed seed, CI-sized) and test/properties/run.ts (any size).
 */
import * as path from 'path';
import { CfnResource, RemovalPolicy } from 'aws-cdk-lib';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as fc from 'fast-check';
import { InvalidationTrigger } from '../../src';
import { logicalIdOf, SITE_DIR, STACK_NAME, synthSite } from '../demo/app';
import type { SynthesizedStack } from '../driver/assembly';
import type { RollbackOrder, StepReport } from '../driver/driver';
import { LifecycleDriver } from '../driver/driver';
import { InvariantChecker } from '../driver/invariants';
import { DEFAULT_FAULT_KINDS } from '../emulator/cloudfront';
import type { StackIdForm } from '../emulator/eventbridge';
import { Prng } from '../emulator/prng';

/** Where a deploy is made to fail, if anywhere. */
export type Failure = 'none' | 'before-purge' | 'after-purge' | 'in-content';

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

type DeployStep = Extract<Step, { kind: 'deploy' }>;

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

export const stepArbitrary: fc.Arbitrary<Step> = stepArbitraryFor();

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

export const settingsArbitrary: fc.Arbitrary<RunSettings> = settingsArbitraryFor();

export interface Figures {
  steps: number;
  deploys: number;
  /** Deploys whose Invalidation fires on a value (onChangeOf). */
  valueTriggerDeploys: number;
  rollbacks: number;
  rollbacksBeforePurge: number;
  rollbacksAfterPurge: number;
  /** Rollbacks that ended UPDATE_ROLLBACK_FAILED, and ContinueUpdateRollback calls. */
  failedRollbacks: number;
  continuedRollbacks: number;
  replacements: number;
  redeliveries: number;
  duplicateDeliveries: number;
  /** Older requests delivered again during a rollback. */
  staleDuplicates: number;
  deletions: number;
  /** Stack status events delivered to the stack's rule target, duplicates and late ones included. */
  eventDeliveries: number;
  eventsDeliveredTwice: number;
  eventsDeliveredLate: number;
  /** Rollback purges the handler ran to the end (first handling of an UPDATE_ROLLBACK_COMPLETE event). */
  rollbackPurges: number;
  cloudFrontRequests: number;
  injectedFaults: number;
  /** CloudFormation API calls (DescribeStacks, DescribeStackResource) throttled or made to hang. */
  cloudFormationFaults: number;
  /** Hand-overs to a fresh invocation that IAM refused (lambda:InvokeFunction denied). */
  invokeDenials: number;
  /** Deploys failed, and rolled back, because a hand-over was refused (the handler's documented answer). */
  handOffFailures: number;
  /** Invocations killed right after their answer reached CloudFormation. */
  killsAfterAnswer: number;
  /** Answer PUTs the ResponseURL refused with a 500. */
  answerFaults: number;
  invalidations: number;
  handlerInvocations: number;
  handOvers: number;
  /** Deploys with rollback disabled that failed (UPDATE_FAILED, CREATE_FAILED), RollbackStack calls, and deploys that fixed such a stack. */
  failedWithoutRollback: number;
  rollbackStacks: number;
  fixingDeploys: number;
  /** Deletions skipped because a policy retained the resource, Invalidations' and others'. */
  retainedResources: number;
  /** Removals of files by a BucketDeployment that does not retain them. */
  filesRemoved: number;
  /** CloudFront requests IAM refused (a grant not yet propagated, or one revoked). */
  iamDenials: number;
  /** Invariant violations found (a passing run has none). */
  violations: number;
  unanswered: number;
  peakWildcardsInProgress: number;
}

export function emptyFigures(): Figures {
  const names: Array<keyof Figures> = [
    'steps', 'deploys', 'valueTriggerDeploys', 'rollbacks', 'rollbacksBeforePurge', 'rollbacksAfterPurge', 'failedRollbacks', 'continuedRollbacks',
    'replacements', 'redeliveries', 'duplicateDeliveries', 'staleDuplicates', 'deletions', 'eventDeliveries', 'eventsDeliveredTwice', 'eventsDeliveredLate',
    'rollbackPurges', 'cloudFrontRequests', 'injectedFaults', 'cloudFormationFaults', 'invokeDenials', 'handOffFailures', 'killsAfterAnswer',
    'answerFaults', 'invalidations', 'handlerInvocations', 'handOvers', 'failedWithoutRollback', 'rollbackStacks', 'fixingDeploys', 'retainedResources',
    'filesRemoved', 'iamDenials', 'violations', 'unanswered', 'peakWildcardsInProgress',
  ];
  return Object.fromEntries(names.map((n) => [n, 0])) as unknown as Figures;
}

/**
 * Faults of the platform around CloudFront, each at a share of the fault rate, drawn from their own
 * seeded generator: CloudFormation's API throttled or hanging past an invocation's working time,
 * hand-overs that IAM refuses, invocations killed right after their answer went out, and answer
 * PUTs that the ResponseURL refuses.
 */
function injectPlatformFaults(driver: LifecycleDriver, rate: number, seed: number, figures: Figures): void {
  const prng = new Prng(seed);
  /** Whether this call gets a fault (a share of the rate), counting it under `figure`. */
  const draw = (share: number, figure: 'cloudFormationFaults' | 'invokeDenials' | 'answerFaults'): boolean => {
    const hit = rate > 0 && prng.next() < rate * share;
    figures[figure] += hit ? 1 : 0;
    return hit;
  };
  const { cloudformation, lambda } = driver.cloud;
  cloudformation.throttleDescribeStacks = () => draw(1, 'cloudFormationFaults');
  cloudformation.apiDelayMs = () => (draw(0.25, 'cloudFormationFaults') ? 3000 : 0);
  const allow = driver.cloud.authorizer;
  driver.cloud.authorizer = (action, arn) => !(action === 'lambda:InvokeFunction' && draw(0.5, 'invokeDenials')) && allow(action, arn);
  cloudformation.answerFault = () => (draw(0.5, 'answerFaults') ? 'ServerError' : undefined);
  cloudformation.onAnswer = (token) => {
    if (rate > 0 && prng.next() < rate * 0.5) {
      figures.killsAfterAnswer += lambda.crashWhere((payload) => JSON.stringify(payload ?? null).includes(token));
    }
  };
}
const synthesized = new Map<string, SynthesizedStack>();

/** The example site for a step, synthesized once per distinct configuration. */
function stackFor(step: DeployStep): SynthesizedStack {
  const key = JSON.stringify([
    step.site, step.invalidationId, step.trigger, step.waitForCompletion, step.recordPurge, step.failure,
    step.retainInvalidation, step.retainFiles, step.assets,
  ]);
  let stack = synthesized.get(key);
  if (!stack) {
    stack = synthSite({
      site: step.site,
      invalidationId: step.invalidationId,
      invalidation: {
        waitForCompletion: step.waitForCompletion,
        trigger: step.trigger === 'values' ? InvalidationTrigger.onChangeOf(step.site) : undefined,
      },
      recordPurge: step.recordPurge || step.failure === 'after-purge',
      extend: (s, parts) => {
        if (step.trigger === 'values') {
          parts.invalidation.executeAfter(parts.deployment);
        }
        if (step.failure === 'before-purge') {
          // A resource new in this deploy that the driver fails: after the files land, before the purge.
          new ssm.StringParameter(s, 'Version', { stringValue: step.site });
        }
        if (step.retainInvalidation) {
          // RemovalPolicy.RETAIN: DeletionPolicy and UpdateReplacePolicy Retain.
          cfnResourcesOf(parts.invalidation, 'Custom::CloudFrontInvalidation').forEach((r) => r.applyRemovalPolicy(RemovalPolicy.RETAIN));
        }
        if (step.retainFiles === false) {
          cfnResourcesOf(parts.deployment, 'Custom::CDKBucketDeployment').forEach((r) => r.addPropertyOverride('RetainOnDelete', false));
        }
        if (step.assets) {
          const assets = new s3deploy.BucketDeployment(s, 'Assets', {
            sources: [s3deploy.Source.asset(path.join(SITE_DIR, step.site))],
            destinationBucket: parts.bucket,
            destinationKeyPrefix: 'assets/',
            retainOnDelete: false,
          });
          parts.invalidation.executeAfter(assets);
        }
      },
    });
    synthesized.set(key, stack);
  }
  return stack;
}

/** The CloudFormation resources of a type under a construct. */
function cfnResourcesOf(scope: { node: { findAll(): readonly unknown[] } }, type: string): CfnResource[] {
  return scope.node.findAll().filter((c): c is CfnResource => CfnResource.isCfnResource(c as never) && (c as CfnResource).cfnResourceType === type);
}

function failing(step: DeployStep, stack: SynthesizedStack): string[] {
  switch (step.failure) {
    case 'before-purge':
      return [logicalIdOf(stack, 'Version')];
    case 'after-purge':
      return [logicalIdOf(stack, 'LastPurge')];
    case 'in-content':
      return [bucketDeploymentOf(stack)];
    default:
      return [];
  }
}

function bucketDeploymentOf(stack: SynthesizedStack): string {
  return Object.keys(stack.template.Resources).find((id) => stack.template.Resources[id].Type === 'Custom::CDKBucketDeployment')!;
}

const DELIVERY = {
  'once': {},
  'twice': { twice: true },
  'late': { late: 400 },
  'next-step': { late: 'next-step' },
} as const;

/**
 * Plays one sequence on a fresh local cloud and returns what went wrong after each step (empty when
 * every invariant held), adding to the figures. A stack left UPDATE_ROLLBACK_FAILED has its rollback
 * continued before the next deploy (CloudFormation refuses updates until then) and at the end, and
 * events held back are delivered at the end, so that every purge had its chance.
 */
export async function playSequence(steps: readonly Step[], settings: RunSettings, faultRate: number, figures: Figures): Promise<string[]> {
  const driver = await LifecycleDriver.start({
    rollbackOrder: settings.rollbackOrder,
    iamPropagationMs: settings.iamPropagationMs,
    answerTimeoutMs: 120_000,
    cloud: {
      // Short enough that waits and fault backoffs often need a fresh invocation.
      lambdaTimeoutMs: 5000,
      retryDelaysMs: [50, 100],
      stackIdForm: settings.stackIdForm,
      ruleChangeDelayMs: settings.ruleChangeDelayMs,
      cloudfront: {
        completionDelayMs: settings.completionDelayMs,
        faults: { rate: faultRate, seed: settings.faultSeed, kinds: DEFAULT_FAULT_KINDS, slowMs: 300 },
      },
    },
  });
  injectPlatformFaults(driver, faultRate, settings.faultSeed + 1, figures);
  const checker = new InvariantChecker(driver.cloud.cloudfront);
  const problems: string[] = [];
  let deployed = false;
  let lastInvalidationId: string | undefined;
  const record = (n: number, what: string, report: StepReport) => {
    figures.steps++;
    figures.invalidations += report.invalidations.length;
    figures.unanswered += report.requests.filter((r) => r.unanswered).length;
    figures.eventDeliveries += report.deliveries.length;
    figures.eventsDeliveredTwice += report.deliveries.filter((d) => d.copy > 1).length;
    figures.eventsDeliveredLate += report.deliveries.filter((d) => d.late).length;
    figures.rollbackPurges += report.deliveries.filter((d) => d.status === 'UPDATE_ROLLBACK_COMPLETE' && d.copy === 1 && d.handled && !d.handledBefore).length;
    // The sequences skip no resource in a continued rollback: every skip is a retained resource.
    figures.retainedResources += report.changes.filter((c) => c.action === 'skip').length;
    figures.filesRemoved += report.content.filter((c) => c.version === 'removed').length;
    for (const v of checker.check(report)) {
      problems.push(`step ${n} (${what}): ${v}`);
    }
  };
  const continueRollback = async (n: number) => {
    const report = await driver.continueUpdateRollback(STACK_NAME);
    figures.continuedRollbacks++;
    if (report.stackStatus !== 'UPDATE_ROLLBACK_COMPLETE') {
      problems.push(`step ${n}: ContinueUpdateRollback ended ${report.stackStatus}`);
    }
    record(n, 'continue the rollback', report);
  };
  /** Whether a deploy with rollback disabled left the stack waiting for RollbackStack or a fixing deploy. */
  const failedWithoutRollback = () => ['UPDATE_FAILED', 'CREATE_FAILED'].includes(driver.stackStatus(STACK_NAME) ?? '');
  const rollbackStack = async (n: number) => {
    const report = await driver.rollbackStack(STACK_NAME);
    figures.rollbackStacks++;
    if (!['UPDATE_ROLLBACK_COMPLETE', 'ROLLBACK_COMPLETE'].includes(report.stackStatus)) {
      problems.push(`step ${n}: RollbackStack ended ${report.stackStatus}`);
    }
    deployed &&= report.stackStatus !== 'ROLLBACK_COMPLETE';
    record(n, 'roll the stack back (RollbackStack)', report);
  };
  try {
    for (const [i, step] of steps.entries()) {
      const n = i + 1;
      let report: StepReport | undefined;
      if (step.kind === 'deploy') {
        if (driver.stackStatus(STACK_NAME) === 'UPDATE_ROLLBACK_FAILED') {
          await continueRollback(n);
        }
        figures.fixingDeploys += failedWithoutRollback() ? 1 : 0;
        const stack = stackFor(settings.assets ? { ...step, assets: true } : step);
        const { duplicateDelivery, lateDuplicates, staleDuplicate, disableRollback } = step;
        const failRollback = step.failRollback ? [bucketDeploymentOf(stack)] : [];
        const events = DELIVERY[step.events];
        const fail = failing(step, stack);
        report = await driver.deploy(stack, { fail, failRollback, duplicateDelivery, lateDuplicates, staleDuplicate, events, disableRollback });
        figures.deploys++;
        figures.valueTriggerDeploys += step.trigger === 'values' ? 1 : 0;
        figures.duplicateDeliveries += step.duplicateDelivery ? 1 : 0;
        const failed = report.changes.some((c) => c.action === 'fail' && c.phase === 'deploy');
        const rolledBack = report.events.some((e) => e.status.includes('ROLLBACK')) || failedWithoutRollback();
        figures.failedWithoutRollback += failedWithoutRollback() ? 1 : 0;
        if (failed && disableRollback) {
          if (!failedWithoutRollback()) {
            problems.push(`step ${n}: a failed deploy with rollback disabled ended ${report.stackStatus}`);
          }
        } else if (failed) {
          figures.rollbacks++;
          figures.rollbacksBeforePurge += step.failure === 'before-purge' ? 1 : 0;
          figures.rollbacksAfterPurge += step.failure === 'after-purge' ? 1 : 0;
          figures.staleDuplicates += step.staleDuplicate && report.requests.some((r) => r.phase === 'redelivery') ? 1 : 0;
          figures.failedRollbacks += report.stackStatus === 'UPDATE_ROLLBACK_FAILED' ? 1 : 0;
          const expected = ['UPDATE_ROLLBACK_COMPLETE', 'ROLLBACK_COMPLETE', ...(step.failRollback ? ['UPDATE_ROLLBACK_FAILED'] : [])];
          if (!expected.includes(report.stackStatus)) {
            problems.push(`step ${n}: a failed deploy ended ${report.stackStatus}`);
          }
        } else if (rolledBack) {
          // Only the failures the test makes may roll a deploy back, and a refused hand-over (which
          // fails the deploy rather than leave it waiting): other faults must be weathered.
          const reasons = report.requests.filter((r) => r.answer?.Status === 'FAILED').map((r) => r.answer!.Reason ?? '');
          if (reasons.length > 0 && reasons.every((r) => r.startsWith('Could not continue in a new invocation'))) {
            figures.handOffFailures++;
          } else {
            problems.push(`step ${n}: the deploy rolled back (${report.stackStatus}) with no failure injected: ${reasons.join('; ') || 'unanswered'}`);
          }
        }
        if (!failed && step.invalidationId !== lastInvalidationId && lastInvalidationId !== undefined && deployed) {
          figures.replacements++;
        }
        if (report.stackStatus === 'CREATE_COMPLETE' || report.stackStatus === 'UPDATE_COMPLETE') {
          deployed = true;
          lastInvalidationId = step.invalidationId;
        } else if (report.stackStatus === 'ROLLBACK_COMPLETE') {
          deployed = false;
        }
      } else if (step.kind === 'redeliver') {
        // A stack that failed before its Invalidation's turn (rollback disabled) has sent no request yet.
        if (!deployed || driver.steps.length === 0 || !driver.sentAny) {
          continue;
        }
        report = await driver.redeliverLast(STACK_NAME);
        figures.redeliveries++;
      } else if (step.kind === 'continue') {
        if (driver.stackStatus(STACK_NAME) === 'UPDATE_ROLLBACK_FAILED') {
          await continueRollback(n);
        }
        continue;
      } else if (step.kind === 'rollback') {
        if (failedWithoutRollback()) {
          await rollbackStack(n);
        }
        continue;
      } else {
        // A stack left CREATE_FAILED exists too, and can be deleted.
        if (!deployed && !failedWithoutRollback()) {
          continue;
        }
        report = await driver.destroy(STACK_NAME);
        figures.deletions++;
        deployed = false;
        if (report.stackStatus !== 'DELETE_COMPLETE') {
          problems.push(`step ${n}: deleting the stack ended ${report.stackStatus}`);
        }
      }
      record(n, describe(step), report);
    }
    // Every purge gets its chance: a failed rollback is continued, a failure left without rollback is rolled back, events held back are delivered.
    if (driver.stackStatus(STACK_NAME) === 'UPDATE_ROLLBACK_FAILED') {
      await continueRollback(steps.length + 1);
    }
    if (failedWithoutRollback()) {
      await rollbackStack(steps.length + 1);
    }
    if (driver.steps.length > 0 && driver.steps[driver.steps.length - 1].heldDeliveries > 0) {
      record(steps.length + 1, 'events held back delivered', await driver.deliverHeldEvents(STACK_NAME));
    }
    if (checker.awaiting > 0) {
      problems.push(`${checker.awaiting} content change(s) still awaited a purge at the end`);
    }
  } finally {
    const requests = driver.cloud.cloudfront.requests;
    figures.cloudFrontRequests += requests.length;
    figures.injectedFaults += requests.filter((r) => r.fault).length;
    figures.iamDenials += requests.filter((r) => r.errorCode === 'AccessDenied').length;
    figures.handlerInvocations += driver.cloud.lambda.invocations.length;
    figures.handOvers += driver.cloud.lambda.invocations.filter((i) => i.source === 'invoke-api').length;
    for (const peak of driver.cloud.cloudfront.peaks.values()) {
      figures.peakWildcardsInProgress = Math.max(figures.peakWildcardsInProgress, peak.wildcards);
    }
    await driver.close();
  }
  figures.violations += problems.length;
  return problems;
}

export function describe(step: Step): string {
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

export interface CheckOptions {
  readonly seed: number;
  readonly runs: number;
  readonly stepsPerRun: number;
  readonly faultRate: number;
  /** Behaviours to draw besides the default ones. @default none */
  readonly knobs?: Knobs;
  /** Called after each sequence with the figures so far. */
  readonly progress?: (figures: Figures, run: number) => void;
}

/** Runs the property; throws fast-check's report (seed, counterexample) when an invariant breaks. */
export async function checkLifecycle(options: CheckOptions): Promise<Figures> {
  const figures = emptyFigures();
  let run = 0;
  const sequences = fc.array(stepArbitraryFor(options.knobs), { minLength: options.stepsPerRun, maxLength: options.stepsPerRun });
  await fc.assert(
    fc.asyncProperty(sequences, settingsArbitraryFor(options.knobs), async (steps, settings) => {
      const problems = await playSequence(steps, settings, options.faultRate, figures);
      options.progress?.(figures, ++run);
      if (problems.length > 0) {
        throw new Error(`${problems.length} invariant violation(s):\n${problems.join('\n')}\nsteps: ${steps.map(describe).join('; ')}`);
      }
    }),
    { seed: options.seed, numRuns: options.runs, endOnFailure: true },
  );
  return figures;
}
