/**
 * Waiting until CloudFront has completed a job's batches (lambda/invalidation/wait.ts), through the
 * fake Runtime.
 */
import { FIRST_BACKOFF_MS, WAITER_MIN_LEFT_SECONDS } from '../../../lambda/invalidation/budgets';
import type { Job, Target } from '../../../lambda/invalidation/plan';
import type { JobProgress } from '../../../lambda/invalidation/runtime';
import { awaitJob } from '../../../lambda/invalidation/wait';
import { awsError, FakeRuntime } from '../../support/fake-runtime';

const SITE: Target = { distributionId: 'E1SITE' };
const MINUTE = 60_000;

/** A job of `count` one-path batches, each already accepted by the fake CloudFront. */
function accepted(fake: FakeRuntime, count: number, completeInMs?: number): { job: Job; progress: JobProgress } {
  const job: Job = { target: SITE, reference: 'ref', batches: Array.from({ length: count }, (_, i) => ({ number: i + 1, paths: [`/p${i}`] })) };
  const ids = job.batches.map((b) => {
    const seeded = fake.seed(SITE, `ref-${b.number}`, b.paths);
    seeded.completesAt = completeInMs === undefined ? undefined : fake.now() + completeInMs;
    return seeded.id;
  });
  return { job, progress: { ids, completed: ids.map(() => false) } };
}

describe('waiting for completion', () => {
  test('a batch already Completed needs one read and no waiter', async () => {
    const fake = new FakeRuntime();
    const { job, progress } = accepted(fake, 2, 0);
    expect(await awaitJob(fake.invocation(), job, progress, fake.now() + MINUTE)).toEqual({ kind: 'ok' });
    expect(fake.callsOf('get')).toHaveLength(2);
    expect(fake.callsOf('waitCompleted')).toHaveLength(0);
    expect(progress.completed).toEqual([true, true]);
    expect(progress.completedAt).toBe(fake.now());
  });

  test('otherwise the SDK waiter waits for it, for the seconds the deadline and this invocation leave', async () => {
    const fake = new FakeRuntime();
    const { job, progress } = accepted(fake, 1, 30_000);
    expect(await awaitJob(fake.invocation(), job, progress, fake.now() + 2 * MINUTE)).toEqual({ kind: 'ok' });
    expect(fake.callsOf('waitCompleted').map((c) => c.args[2])).toEqual([120]);
    expect(fake.logged('completed')).toEqual([{ batch: 1, id: progress.ids[0] }]);
  });

  test(`with ${WAITER_MIN_LEFT_SECONDS} s or less left, it reads again after the same short pause instead of starting the waiter`, async () => {
    const fake = new FakeRuntime();
    const { job, progress } = accepted(fake, 1, 2500);
    expect(await awaitJob(fake.invocation(), job, progress, fake.now() + 3500)).toEqual({ kind: 'ok' });
    expect(fake.callsOf('waitCompleted')).toHaveLength(0);
    expect(fake.sleeps).toEqual([FIRST_BACKOFF_MS, FIRST_BACKOFF_MS, FIRST_BACKOFF_MS]);
  });

  test('a read denied for a while (a policy not applied yet) is retried, with the same pause, and the wait completes', async () => {
    const fake = new FakeRuntime();
    const { job, progress } = accepted(fake, 1, 0);
    fake.script('get', { error: awsError('AccessDenied', 403) }, { error: awsError('AccessDenied', 403) }, { error: awsError('Throttling', 400) });
    expect(await awaitJob(fake.invocation(), job, progress, fake.now() + MINUTE)).toEqual({ kind: 'ok' });
    expect(fake.sleeps).toEqual([FIRST_BACKOFF_MS, FIRST_BACKOFF_MS, FIRST_BACKOFF_MS]);
    expect(fake.logged('retrying').map((f) => f.error)).toEqual(['AccessDenied', 'AccessDenied', 'Throttling']);
  });

  test('an error that waiting cannot mend fails, naming the invalidation and the code', async () => {
    const fake = new FakeRuntime();
    const { job, progress } = accepted(fake, 1);
    fake.script('get', { error: awsError('NoSuchInvalidation', 404, 'gone') });
    expect(await awaitJob(fake.invocation(), job, progress, fake.now() + MINUTE)).toEqual({
      kind: 'fail',
      reason: `Could not follow invalidation ${progress.ids[0]} of distribution E1SITE: CloudFront NoSuchInvalidation: gone`,
    });
  });

  test('at the deadline it times out, naming the invalidations still in progress', async () => {
    const fake = new FakeRuntime();
    const { job, progress } = accepted(fake, 2);
    progress.completed[0] = true;
    const outcome = await awaitJob(fake.invocation(), job, progress, fake.now() + MINUTE);
    expect(outcome).toEqual({ kind: 'timeout', detail: `invalidations ${progress.ids[1]} of distribution E1SITE are still in progress` });
    expect(fake.callsOf('get').map((c) => c.args[1])).not.toContain(progress.ids[0]);
  });

  test('hands over when this invocation\'s working time ends before the batch completes', async () => {
    const fake = new FakeRuntime({ remainingMs: 60_000 });
    const { job, progress } = accepted(fake, 1);
    expect(await awaitJob(fake.invocation(), job, progress, fake.now() + 10 * MINUTE)).toEqual({ kind: 'handoff' });
    // The waiter was given the working time, 48 of the 60 s (the reserve is a fifth).
    expect(fake.callsOf('waitCompleted').map((c) => c.args[2])).toEqual([48]);
    expect(progress.completed).toEqual([false]);
  });
});
