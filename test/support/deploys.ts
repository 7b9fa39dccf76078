/**
 * What the end-to-end suites share around the lifecycle driver (test/driver/driver.ts): a driver
 * started by a test and closed after it, the invariant checks of a step, when a resource of a step
 * finished deploying, and the example site of test/demo/app.ts with a resource a test can make fail.
 */
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { synthSite } from '../demo/app';
import type { SiteOptions } from '../demo/app';
import type { SynthesizedStack } from '../driver/assembly';
import { LifecycleDriver } from '../driver/driver';
import { violations } from '../driver/invariants';
import type { DriverOptions } from '../driver/options';
import type { StepReport } from '../driver/reports';

/**
 * Returns the `start` of the lifecycle drivers of a test file (or of the describe block it is called
 * in): each starts with `defaults`, over which the call's options go (its `cloud` options over
 * theirs, one level deep), is handed to `use` (which keeps it for the tests), and is closed after
 * the test.
 */
export function lifecycleDriverPerTest(
  use: (driver: LifecycleDriver) => void, defaults: DriverOptions = {},
): (options?: DriverOptions) => Promise<LifecycleDriver> {
  let driver: LifecycleDriver | undefined;
  afterEach(async () => {
    await driver?.close();
    driver = undefined;
  });
  return async (options = {}) => {
    driver = await LifecycleDriver.start({ ...defaults, ...options, cloud: { ...defaults.cloud, ...options.cloud } });
    use(driver);
    return driver;
  };
}

/** Expects the invariant checks to find nothing wrong with a step of the driver. */
export function expectNoViolations(driver: LifecycleDriver, step: StepReport): void {
  expect(violations(step, driver.cloud.cloudfront)).toEqual([]);
}

/** When the last resource of the type deployed in a step (not rolled back) finished; expects there is one. */
export function finishedAt(step: StepReport, type: string): number {
  const change = step.changes.filter((c) => c.type === type && c.phase === 'deploy').pop();
  expect(change).toBeDefined();
  return change!.finishedAt;
}

/**
 * The example site of version `site`, as `options` shape it otherwise, with an SSM parameter
 * `Version` that a test can make fail: after the files land, before the purge.
 */
export function withVersion(site: string, options: Omit<SiteOptions, 'site' | 'extend'> = {}): SynthesizedStack {
  return synthSite({ ...options, site, extend: (stack) => new ssm.StringParameter(stack, 'Version', { stringValue: site }) });
}
