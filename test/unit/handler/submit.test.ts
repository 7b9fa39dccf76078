/**
 * Submitting a job's batches within CloudFront's limits (lambda/invalidation/submit.ts), through
 * the fake Runtime.
 */
import { planBatches } from '../../../lambda/invalidation/batches';
import { ACCESS_DENIED_RETRY_MS, CLOCK_SKEW_MS } from '../../../lambda/invalidation/budgets';
import type { Job, Target } from '../../../lambda/invalidation/plan';
import { freshJob } from '../../../lambda/invalidation/runtime';
import { submitJob } from '../../../lambda/invalidation/submit';
import { awsError, FakeRuntime } from '../../support/fake-runtime';

const SITE: Target = { distributionId: 'E1SITE' };
const MINUTE = 60_000;

function job(paths: string[], target: Target = SITE): Job {
  return { target, reference: 'abc123-req', batches: planBatches(paths).map((p, i) => ({ number: i + 1, paths: p })) };
}

function createdReferences(fake: FakeRuntime): unknown[] {
  return fake.callsOf('create').map((c) => c.args[1]);
}

describe('submitting a job', () => {
  test('submits every batch under its own CallerReference, pausing before a batch that would pass the in-progress limits', async () => {
    const fake = new FakeRuntime({ completeAfterMs: 2500 });
    const paths = Array.from({ length: 3001 }, (_, i) => `/p/${i}`);
    const submitting = job(paths);
    const progress = freshJob(submitting.batches.length);
    const outcome = await submitJob(fake.invocation(), submitting, progress, fake.now() + 10 * MINUTE);
    expect(outcome).toEqual({ kind: 'ok' });
    expect(createdReferences(fake)).toEqual(['abc123-req-1', 'abc123-req-2']);
    // 3000 paths in progress leave no room for one more until the first batch completes (at 2.5 s).
    expect(fake.sleeps).toEqual([1000, 2000]);
    expect(fake.callsOf('create')[1].at).toBeGreaterThanOrEqual(fake.invalidations[0].completesAt!);
    expect(progress.ids).toEqual(fake.invalidations.map((i) => i.id));
    expect(progress.created).toBe(2);
    expect(progress.acceptedAt).toBe(fake.now());
  });

  test('waits while other invalidations hold the 15 wildcard paths CloudFront allows in progress, reading their paths once', async () => {
    const fake = new FakeRuntime();
    const busy = fake.seed(SITE, 'someone-else', Array.from({ length: 15 }, (_, i) => `/section${i}/*`));
    busy.completesAt = fake.now() + 5000;
    const outcome = await submitJob(fake.invocation(), job(['/docs/*']), freshJob(1), fake.now() + 10 * MINUTE);
    expect(outcome).toEqual({ kind: 'ok' });
    expect(fake.sleeps).toEqual([1000, 2000, 4000]);
    expect(fake.callsOf('get')).toHaveLength(1);
    expect(fake.callsOf('create')[0].at).toBeGreaterThanOrEqual(busy.completesAt);
  });

  test('a batch that another delivery of the request submitted is found in progress by its CallerReference, and not created again', async () => {
    const fake = new FakeRuntime();
    const earlier = fake.seed(SITE, 'abc123-req-1', ['/index.html']);
    const progress = freshJob(1);
    const outcome = await submitJob(fake.invocation(), job(['/index.html']), progress, fake.now() + MINUTE);
    expect(outcome).toEqual({ kind: 'ok' });
    expect(progress.ids).toEqual([earlier.id]);
    expect(fake.callsOf('create')).toHaveLength(0);
    expect(progress.created).toBeUndefined();
  });

  test('an invalidation CloudFront gives back for a CallerReference it already knew does not count as created', async () => {
    const fake = new FakeRuntime();
    fake.seed(SITE, 'abc123-req-1', ['/index.html'], { completed: true, createTime: fake.now() - CLOCK_SKEW_MS - 1 });
    const progress = freshJob(1);
    await submitJob(fake.invocation(), job(['/index.html']), progress, fake.now() + MINUTE);
    expect(fake.callsOf('create')).toHaveLength(1);
    expect(progress.ids).toEqual([fake.invalidations[0].id]);
    expect(progress.completed).toEqual([true]);
    expect(progress.created).toBeUndefined();
  });

  test('throttling and 5xx are retried with growing pauses, each logged with its code', async () => {
    const fake = new FakeRuntime();
    fake.script('create', { error: awsError('Throttling', 400) }, { error: awsError('ServiceUnavailable', 503) });
    const outcome = await submitJob(fake.invocation(), job(['/a']), freshJob(1), fake.now() + MINUTE);
    expect(outcome).toEqual({ kind: 'ok' });
    expect(fake.callsOf('create')).toHaveLength(3);
    expect(fake.sleeps).toEqual([1000, 2000]);
    expect(fake.logged('retrying').map((f) => f.error)).toEqual(['Throttling', 'ServiceUnavailable']);
  });

  test('an error that waiting cannot mend fails at once, naming the distribution, the batch and the code', async () => {
    const fake = new FakeRuntime();
    fake.always('create', { error: awsError('NoSuchDistribution', 404, 'The specified distribution does not exist.') });
    const outcome = await submitJob(fake.invocation(), job(['/a', '/b']), freshJob(1), fake.now() + MINUTE);
    expect(outcome).toEqual({
      kind: 'fail',
      reason: 'Could not invalidate distribution E1SITE (batch 1 of 1, 2 paths, CallerReference abc123-req-1): '
        + 'CloudFront NoSuchDistribution: The specified distribution does not exist.',
    });
    expect(fake.sleeps).toEqual([]);
  });

  test('AccessDenied is retried for two minutes from the first denial, then fails naming IAM and the tenant\'s action', async () => {
    const fake = new FakeRuntime();
    fake.always('create', { error: awsError('AccessDenied', 403, 'not authorized') });
    const tenant: Target = { distributionId: 'E1SITE', tenantId: 'dt_1' };
    const started = fake.now();
    const outcome = await submitJob(fake.invocation(), job(['/a'], tenant), freshJob(1), fake.now() + 10 * MINUTE);
    expect(outcome.kind).toBe('fail');
    expect(outcome.kind === 'fail' && outcome.reason).toMatch(
      /^IAM does not allow the handler's role cloudfront:CreateInvalidationForDistributionTenant on distribution E1SITE tenant dt_1; retried for 1\d\d s \(at most 120 s\)/,
    );
    expect(fake.now() - started).toBeGreaterThanOrEqual(ACCESS_DENIED_RETRY_MS);
    expect(fake.now() - started).toBeLessThan(ACCESS_DENIED_RETRY_MS + 30_000 + 1);
  });

  test('at the deadline it times out, saying how many batches are pending and what CloudFront said last', async () => {
    const fake = new FakeRuntime();
    fake.always('create', { error: awsError('TooManyInvalidationsInProgress', 400, 'busy') });
    const started = fake.now();
    const outcome = await submitJob(fake.invocation(), job(['/a']), freshJob(1), started + 20_000);
    expect(outcome).toEqual({
      kind: 'timeout',
      detail: 'CloudFront has not accepted 1 of 1 batches for distribution E1SITE (next: batch 1 of 1, 1 paths, CallerReference abc123-req-1); '
        + 'last: CloudFront TooManyInvalidationsInProgress: busy',
    });
    expect(fake.now()).toBe(started + 20_000);
  });

  test('hands over when this invocation\'s working time is over, keeping the ids of the batches accepted so far', async () => {
    // 20 s left: the work stops 4 s before the end (the reserve), while the second batch waits for room.
    const fake = new FakeRuntime({ remainingMs: 20_000 });
    const submitting = job(Array.from({ length: 3001 }, (_, i) => `/p/${i}`));
    const progress = freshJob(submitting.batches.length);
    const outcome = await submitJob(fake.invocation(), submitting, progress, fake.now() + 10 * MINUTE);
    expect(outcome).toEqual({ kind: 'handoff' });
    expect(progress.ids).toEqual([fake.invalidations[0].id, '']);
    expect(fake.remainingMs()).toBe(4000);
  });

  test('a call cut off because this invocation is being stopped hands over at once', async () => {
    const fake = new FakeRuntime();
    fake.script('create', {
      run: (f) => {
        f.abort();
        throw awsError('AbortError');
      },
    });
    const outcome = await submitJob(fake.invocation(), job(['/a']), freshJob(1), fake.now() + MINUTE);
    expect(outcome).toEqual({ kind: 'handoff' });
    expect(fake.sleeps).toEqual([]);
  });
});
