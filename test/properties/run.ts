/**
 * `npm run properties -- [steps] [seed] [fault rate]`: the property-based lifecycle test at any
 * size, printing the figures. Runs of 10 steps, each on a fresh local cloud.
 */
import { checkLifecycle } from './lifecycle';
import { removeOutdirs } from '../driver/assembly';

async function main(): Promise<void> {
  const [steps = 1000, seed = Date.now() % 2 ** 31, faultRate = 0.2] = process.argv.slice(2).map(Number);
  const stepsPerRun = 10;
  const runs = Math.ceil(steps / stepsPerRun);
  const started = Date.now();
  console.log(`${runs} sequences of ${stepsPerRun} steps, seed ${seed}, ${Math.round(faultRate * 100)}% of CloudFront requests faulted`);
  const figures = await checkLifecycle({
    seed,
    runs,
    stepsPerRun,
    faultRate,
    progress: (f, run) => {
      if (run % 10 === 0 || run === runs) {
        console.log(`  ${run}/${runs} sequences, ${f.steps} steps, ${f.violations} violations, ${((Date.now() - started) / 1000).toFixed(0)} s`);
      }
    },
  });
  const injectedFaultShare = +(figures.injectedFaults / figures.cloudFrontRequests).toFixed(3);
  const seconds = Math.round((Date.now() - started) / 1000);
  console.log(JSON.stringify({ seed, faultRate, generatedSteps: runs * stepsPerRun, ...figures, injectedFaultShare, seconds }, null, 2));
}

main().then(removeOutdirs, (e) => {
  removeOutdirs();
  console.error(e);
  process.exit(1);
});
