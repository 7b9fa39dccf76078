/**
 * The handler's one backoff loop (lambda/invalidation/retry.ts), through the fake Runtime.
 */
import { FIRST_BACKOFF_MS, MAX_BACKOFF_MS } from '../../../lambda/invalidation/budgets';
import { NOT_YET, retry, within } from '../../../lambda/invalidation/retry';
import { awsError, FakeRuntime } from '../../support/fake-runtime';

const DEADLINE_MS = 10 * 60 * 1000;

/** A try that throws each of `errors` in turn, then answers `value`. */
function failing<T>(errors: unknown[], value: T): { attempt: () => Promise<T>; tries: () => number } {
  let tries = 0;
  return {
    attempt: async () => {
      tries++;
      if (errors.length > 0) {
        throw errors.shift();
      }
      return value;
    },
    tries: () => tries,
  };
}

describe('retry', () => {
  test('pauses twice as long after each failed try, up to the longest pause, then answers the value', async () => {
    const fake = new FakeRuntime();
    const invocation = fake.invocation();
    const { attempt, tries } = failing(Array.from({ length: 7 }, () => awsError('Throttling', 400)), 'done');
    const result = await retry(attempt, { pacing: within(invocation, fake.now() + DEADLINE_MS), retryable: () => true });
    expect(result).toEqual({ kind: 'ok', value: 'done' });
    expect(tries()).toBe(8);
    expect(fake.sleeps).toEqual([1000, 2000, 4000, 8000, 16_000, MAX_BACKOFF_MS, MAX_BACKOFF_MS]);
    expect(fake.sleeps[0]).toBe(FIRST_BACKOFF_MS);
  });

  test('keeps a fixed pause when the longest is the first, and jitters each pause between half and all of it', async () => {
    const fake = new FakeRuntime({ random: 0 });
    const { attempt } = failing([new Error('a'), new Error('b'), new Error('c')], 1);
    await retry(attempt, { pacing: within(fake.invocation(), fake.now() + DEADLINE_MS), retryable: () => true, maxDelayMs: FIRST_BACKOFF_MS });
    expect(fake.sleeps).toEqual([500, 500, 500]);
  });

  test('a try that is not done yet pauses like a failed one, without an error', async () => {
    const fake = new FakeRuntime();
    let tries = 0;
    const retrying: unknown[] = [];
    const result = await retry(async () => (++tries < 3 ? NOT_YET : tries), {
      pacing: within(fake.invocation(), fake.now() + DEADLINE_MS),
      retryable: () => true,
      retrying: (e) => retrying.push(e),
    });
    expect(result).toEqual({ kind: 'ok', value: 3 });
    expect(fake.sleeps).toEqual([1000, 2000]);
    expect(retrying).toEqual([]);
  });

  test('an error that waiting cannot mend ends the loop at once, with that error', async () => {
    const fake = new FakeRuntime();
    const fatal = awsError('NoSuchDistribution', 404);
    const { attempt, tries } = failing([awsError('Throttling', 400), fatal], 'never');
    const judged: string[] = [];
    const result = await retry(attempt, {
      pacing: within(fake.invocation(), fake.now() + DEADLINE_MS),
      retryable: (e) => (judged.push((e as Error).name), (e as Error).name === 'Throttling'),
    });
    expect(result).toEqual({ kind: 'fail', error: fatal });
    expect(tries()).toBe(2);
    expect(judged).toEqual(['Throttling', 'NoSuchDistribution']);
    expect(fake.sleeps).toEqual([1000]);
  });

  test('tells every error before judging it, and only a retried one before the pause', async () => {
    const fake = new FakeRuntime();
    const events: string[] = [];
    const { attempt } = failing([awsError('Throttling', 400), awsError('AccessDenied', 403)], 'x');
    await retry(attempt, {
      pacing: { pause: async (ms) => (events.push(`pause ${ms}`), { kind: 'ok' }), stopped: () => false },
      retryable: (e) => (events.push(`judge ${(e as Error).name}`), (e as Error).name === 'Throttling'),
      failed: (e) => events.push(`failed ${(e as Error).name}`),
      retrying: (e) => events.push(`retrying ${(e as Error).name}`),
    });
    expect(events).toEqual(['failed Throttling', 'judge Throttling', 'retrying Throttling', 'pause 1000', 'failed AccessDenied', 'judge AccessDenied']);
    expect(fake.calls).toEqual([]);
  });

  test('at the deadline it ends as timed out, with the last error', async () => {
    const fake = new FakeRuntime();
    const last = awsError('ServiceUnavailable', 503);
    const { attempt, tries } = failing([awsError('Throttling', 400), awsError('Throttling', 400), last, last], 'late');
    // 1 s and 2 s of pauses fit; the third pause would pass the deadline and is cut short to reach it.
    const result = await retry(attempt, { pacing: within(fake.invocation(), fake.now() + 3500), retryable: () => true });
    expect(result).toEqual({ kind: 'timeout', error: last });
    expect(tries()).toBe(4);
    expect(fake.sleeps).toEqual([1000, 2000, 500]);
  });

  test('when this invocation is being stopped, a failed try ends the loop as a hand-over, without judging the error', async () => {
    const fake = new FakeRuntime();
    const judged: unknown[] = [];
    const stoppedMidCall = awsError('AbortError');
    const result = await retry(async () => {
      fake.abort();
      throw stoppedMidCall;
    }, { pacing: within(fake.invocation(), fake.now() + DEADLINE_MS), retryable: (e) => (judged.push(e), true) });
    expect(result).toEqual({ kind: 'handoff', error: stoppedMidCall });
    expect(judged).toEqual([]);
  });

  test('when this invocation\'s working time is over, the pause hands over instead', async () => {
    // 10 s left: the work stops 3 s before the end (the reserve), so the pauses of 1, 2 and 4 s fit 7 s and no more.
    const fake = new FakeRuntime({ remainingMs: 10_000 });
    const result = await retry(async () => NOT_YET, { pacing: within(fake.invocation(), fake.now() + DEADLINE_MS), retryable: () => true });
    expect(result).toEqual({ kind: 'handoff', error: undefined });
    expect(fake.sleeps).toEqual([1000, 2000, 4000]);
  });
});
