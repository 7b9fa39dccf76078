/**
 * The set-up the handler-level suites share: the fixture stack of test/driver/handler-fixture.ts,
 * synthesized once per test file, and a local cloud running its bundled handler, started by a test
 * and stopped after it.
 */
import type { SynthesizedStack } from '../driver/assembly';
import type { HandlerCloud } from '../driver/handler-fixture';
import { SITE, startHandlerCloud, stopHandlerCloud, synthHandlerStack } from '../driver/handler-fixture';
import type { LocalCloud, LocalCloudOptions } from '../driver/local-cloud';

/** Starts a local cloud with the given distributions, running the fixture stack's handler. */
export type StartHandlerCloud = (options?: LocalCloudOptions, distributions?: readonly string[]) => Promise<HandlerCloud>;

/**
 * Synthesizes the fixture stack before the test file's tests, and returns the `start` of its local
 * clouds: each has the distributions given (`distributions` unless the call names others), runs
 * the stack's handler with Lambda retrying failed invocations after 50 and 100 ms, is handed to
 * `use` (which keeps it for the tests), and is stopped after the test, once its invocations ended.
 */
export function handlerCloudPerTest(use: (started: HandlerCloud) => void, distributions: readonly string[] = [SITE]): StartHandlerCloud {
  let synthesized: SynthesizedStack;
  let cloud: LocalCloud | undefined;
  beforeAll(() => {
    synthesized = synthHandlerStack();
  });
  afterEach(async () => {
    await stopHandlerCloud(cloud);
    cloud = undefined;
  });
  return async (options = {}, names = distributions) => {
    const started = await startHandlerCloud(synthesized, options, names);
    cloud = started.cloud;
    use(started);
    return started;
  };
}
