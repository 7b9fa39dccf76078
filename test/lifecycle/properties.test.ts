/**
 * Property-based lifecycle test, CI-sized and with a fixed seed, so every run checks the same
 * sequences. `npm run properties` runs it at any size (see CONTRIBUTING.md).
 */
import { checkLifecycle } from '../properties/lifecycle';
import { ALL_KNOBS } from '../properties/steps';

test('random deploys, redeliveries, rollbacks (failed and continued too), deploys with rollback disabled, replacements, deletions, late IAM and rules, retained Invalidations, deleted files and late or repeated events under 20% injected faults (CloudFront, the CloudFormation API, hand-overs, answers, kills) keep every invariant', async () => {
  const figures = await checkLifecycle({ seed: 20261123, runs: 4, stepsPerRun: 10, faultRate: 0.2, knobs: ALL_KNOBS });
  // The sequences did exercise what the invariants are about.
  expect(figures.violations).toBe(0);
  expect(figures.unanswered).toBe(0);
  expect(figures.rollbacks).toBeGreaterThan(0);
  expect(figures.rollbackPurges).toBeGreaterThan(0);
  expect(figures.injectedFaults).toBeGreaterThan(0);
  expect(figures.cloudFormationFaults + figures.invokeDenials + figures.answerFaults + figures.killsAfterAnswer).toBeGreaterThan(0);
  expect(figures.invalidations).toBeGreaterThan(0);
  expect(figures.failedWithoutRollback + figures.retainedResources + figures.filesRemoved).toBeGreaterThan(0);
  expect(figures.peakWildcardsInProgress).toBeLessThanOrEqual(15);
}, 600_000);
