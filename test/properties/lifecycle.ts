/**
 * Property-based lifecycle testing: random sequences of deploys, redeliveries, rollbacks (some
 * failing, continued later), replacements and deletions of the example site, played by the
 * lifecycle driver under injected CloudFront faults, slow completion, and stack status events
 * delivered twice or late, with every invariant checked after every step. Knobs (`Knobs`, off
 * unless asked for) add late IAM, deploys with rollback disabled followed by RollbackStack or a
 * fixing deploy, Invalidations retained on deletion, and BucketDeployments that do not retain
 * their files. The steps and their draws are in steps.ts, the stacks they deploy in stacks.ts,
 * playing one sequence in play.ts (with the platform's faults in faults.ts), and what a run counts
 * in figures.ts.
 * Used by test/lifecycle/properties.test.ts (a fixed seed, CI-sized) and test/properties/run.ts (any size).
 */
import * as fc from 'fast-check';
import type { Figures } from './figures';
import { emptyFigures } from './figures';
import { playSequence } from './play';
import type { Knobs } from './steps';
import { describeStep, settingsArbitraryFor, stepArbitraryFor } from './steps';

/** The size, seed and knobs of a run of the property, and what to call after each sequence. */
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
        throw new Error(`${problems.length} invariant violation(s):\n${problems.join('\n')}\nsteps: ${steps.map(describeStep).join('; ')}`);
      }
    }),
    { seed: options.seed, numRuns: options.runs, endOnFailure: true },
  );
  return figures;
}
