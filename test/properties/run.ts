/**
 * `npm run properties -- [steps] [seed] [fault rate] [knobs]`: the property-based lifecycle test at
 * any size, printing the figures. Runs of 10 steps, each on a fresh local cloud. Knobs, comma
 * separated, `all` (the default) or `none`: `iam` (late IAM), `no-rollback` (rollback disabled,
 * RollbackStack), `retain` (Invalidations retained on deletion), `files` (BucketDeployments that
 * do not retain their files), `stack-id` (the stack id's form in status events), `rules` (rule
 * changes applied late).
 */
import { checkLifecycle } from './lifecycle';
import type { Knobs } from './steps';
import { removeOutdirs } from '../driver/assembly';

const KNOBS: Record<string, keyof Knobs> = {
  'iam': 'iamPropagation',
  'no-rollback': 'disableRollback',
  'retain': 'retainInvalidations',
  'files': 'bucketRetainOnDelete',
  'stack-id': 'stackIdForms',
  'rules': 'ruleChangeDelay',
};

function knobs(arg: string | undefined): Knobs {
  if (arg === 'none') {
    return {};
  }
  const names = arg === undefined || arg === 'all' ? Object.keys(KNOBS) : arg.split(',').filter(Boolean);
  const unknown = names.filter((n) => !(n in KNOBS));
  if (unknown.length > 0) {
    throw new Error(`unknown knob(s) ${unknown.join(', ')}: use ${Object.keys(KNOBS).join(', ')} or all`);
  }
  return Object.fromEntries(names.map((n) => [KNOBS[n], true]));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const [steps = 1000, seed = Date.now() % 2 ** 31, faultRate = 0.2] = args.slice(0, 3).map(Number);
  const chosen = knobs(args[3]);
  const stepsPerRun = 10;
  const runs = Math.ceil(steps / stepsPerRun);
  const started = Date.now();
  const knobNames = Object.keys(chosen);
  const withKnobs = knobNames.length ? `, knobs ${knobNames.join(', ')}` : '';
  const faulted = `${Math.round(faultRate * 100)}% of CloudFront requests faulted`;
  console.log(`${runs} sequences of ${stepsPerRun} steps, seed ${seed}, ${faulted}${withKnobs}`);
  const figures = await checkLifecycle({
    seed,
    runs,
    stepsPerRun,
    faultRate,
    knobs: chosen,
    progress: (f, run) => {
      if (run % 10 === 0 || run === runs) {
        console.log(`  ${run}/${runs} sequences, ${f.steps} steps, ${f.violations} violations, ${((Date.now() - started) / 1000).toFixed(0)} s`);
      }
    },
  });
  const injectedFaultShare = +(figures.injectedFaults / figures.cloudFrontRequests).toFixed(3);
  const seconds = Math.round((Date.now() - started) / 1000);
  const generatedSteps = runs * stepsPerRun;
  console.log(JSON.stringify({ seed, faultRate, knobs: chosen, generatedSteps, ...figures, injectedFaultShare, seconds }, null, 2));
}

main().then(removeOutdirs, (e) => {
  removeOutdirs();
  console.error(e);
  process.exit(1);
});
