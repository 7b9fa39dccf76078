/**
 * Plays one sequence of steps on a fresh local cloud through the lifecycle driver, checking every
 * invariant after every step and adding what happened to the figures.
 */
import { injectPlatformFaults } from './faults';
import type { Figures } from './figures';
import { bucketDeploymentOf, failing, stackFor } from './stacks';
import type { RunSettings, Step } from './steps';
import { describeStep } from './steps';
import { STACK_NAME } from '../demo/app';
import { LifecycleDriver } from '../driver/driver';
import { InvariantChecker } from '../driver/invariants';
import type { StepReport } from '../driver/reports';
import { DEFAULT_FAULT_KINDS } from '../emulator/cloudfront-faults';

/** How the driver delivers a step's stack status events, by the step's `events`. */
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
      record(n, describeStep(step), report);
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
