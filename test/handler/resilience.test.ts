/**
 * CloudFront as it really is: in-progress limits, throttling, slow and broken answers, long waits,
 * and Lambda's time limit. The real bundled handler against the emulator, with short Lambda
 * timeouts so that hand-overs to fresh invocations happen within the test.
 */
import { SITE } from '../driver/handler-fixture';
import type { LocalCloud } from '../driver/local-cloud';
import { handlerCloudPerTest } from '../support/handler-cloud';
import type { InvalidationRequests } from '../support/requests';

let cloud: LocalCloud;
let fn: { name: string; arn: string };
let make: InvalidationRequests;
const start = handlerCloudPerTest((started) => ({ cloud, fn, r: make } = started));

const paths = (n: number, prefix = 'p', suffix = '') => Array.from({ length: n }, (_, i) => `/${prefix}${String(i).padStart(5, '0')}${suffix}`);
const rejected = (code: string) => cloud.cloudfront.requests.filter((r) => r.errorCode === code && !r.fault).length;
const creates = () => cloud.cloudfront.requests.filter((r) => r.created);

describe('I7: within CloudFront\'s limits', () => {
  test('10,000 paths go out as 4 batches, each once the previous ones leave room, never past 3000 in progress', async () => {
    await start({ cloudfront: { completionDelayMs: 400 } });
    const { answer } = await cloud.request(fn.name, make.create({ Paths: paths(10_000) }));
    expect(answer.Status).toBe('SUCCESS');
    expect(answer.Data!.InvalidationIds.split(',')).toHaveLength(4);
    expect(cloud.cloudfront.invalidations(SITE).map((i) => i.paths.length)).toEqual([3000, 3000, 3000, 1000]);
    expect(cloud.cloudfront.peaks.get(SITE)!.paths).toBeLessThanOrEqual(3000);
    // It counted what was in progress instead of letting CloudFront turn it away.
    expect(rejected('TooManyInvalidationsInProgress')).toBe(0);
  });

  test('40 wildcard paths go out 15 at a time', async () => {
    await start({ cloudfront: { completionDelayMs: 300 } });
    const { answer } = await cloud.request(fn.name, make.create({ Paths: paths(40, 'w', '/*') }));
    expect(answer.Status).toBe('SUCCESS');
    expect(cloud.cloudfront.invalidations(SITE).map((i) => i.paths.length)).toEqual([15, 15, 10]);
    expect(cloud.cloudfront.peaks.get(SITE)!.wildcards).toBeLessThanOrEqual(15);
    expect(rejected('TooManyInvalidationsInProgress')).toBe(0);
  });

  test('invalidations of others in progress count: it waits until they leave room', async () => {
    await start();
    const theirs = cloud.cloudfront.seedInvalidation(SITE, paths(15, 'theirs', '/*'), 2500);
    const { answer } = await cloud.request(fn.name, make.create({ Paths: ['/*'] }));
    expect(answer.Status).toBe('SUCCESS');
    const ours = creates()[0];
    expect(ours.at).toBeGreaterThanOrEqual(theirs.completesAt);
    expect(rejected('TooManyInvalidationsInProgress')).toBe(0);
  });

  test('TooManyInvalidationsInProgress, Throttling and ServiceUnavailable are retried until CloudFront accepts', async () => {
    await start();
    cloud.cloudfront.failNext('CreateInvalidation', 'TooManyInvalidationsInProgress', 'Throttling', 'ServiceUnavailable', 'TooManyInvalidationsInProgress');
    const { answer } = await cloud.request(fn.name, make.create({}));
    expect(answer.Status).toBe('SUCCESS');
    expect(cloud.cloudfront.requests.filter((r) => r.operation === 'CreateInvalidation').map((r) => r.errorCode ?? 'created'))
      .toEqual(['TooManyInvalidationsInProgress', 'Throttling', 'ServiceUnavailable', 'TooManyInvalidationsInProgress', 'created']);
    expect(cloud.cloudfront.invalidations(SITE)).toHaveLength(1);
  });

  test('when room never comes, it answers FAILED at the deadline, naming the limit and what is pending', async () => {
    await start();
    cloud.cloudfront.seedInvalidation(SITE, paths(15, 'theirs', '/*'));
    const started = Date.now();
    const { answer } = await cloud.request(fn.name, make.create({ Paths: ['/*'], TimeoutSeconds: '4' }));
    expect(Date.now() - started).toBeLessThan(4000 + 10_000);
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(/^Timed out after 4 s: CloudFront has not accepted 1 of 1 batches for distribution E1SITE00000000 /);
    expect(answer.Reason).toContain('15 of 15 wildcard paths');
    expect(cloud.cloudfront.invalidations(SITE)).toHaveLength(1);
  });

  test('a storm of faults on every call still gives one invalidation and SUCCESS', async () => {
    await start({ cloudfront: { completionDelayMs: 200, faults: { rate: 0.4, seed: 11, slowMs: 300 } } });
    const { answer } = await cloud.request(fn.name, make.create({ Paths: paths(3500) }), 90_000);
    expect(answer.Status).toBe('SUCCESS');
    expect(cloud.cloudfront.requests.filter((r) => r.fault).length).toBeGreaterThan(0);
    expect(cloud.cloudfront.invalidations(SITE)).toHaveLength(2);
  });
});

describe('I8: waiting, past one Lambda invocation', () => {
  test('waits for completion across fresh invocations, and submits nothing twice', async () => {
    await start({ lambdaTimeoutMs: 6000, cloudfront: { completionDelayMs: 14_000 } });
    const started = Date.now();
    const { answer } = await cloud.request(fn.name, make.create({ WaitForCompletion: 'true', TimeoutSeconds: '60' }), 60_000);
    expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { Status: 'Completed' } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(14_000);
    const invocations = cloud.lambda.invocations;
    expect(invocations.length).toBeGreaterThanOrEqual(3);
    expect(invocations.slice(1).every((i) => i.source === 'invoke-api')).toBe(true);
    // Lambda never had to stop one: each handed over in time.
    expect(invocations.map((i) => i.outcome)).not.toContain('timeout');
    expect(creates()).toHaveLength(1);
    expect(cloud.cloudfront.status(cloud.cloudfront.invalidations(SITE)[0])).toBe('Completed');
  });

  test('a wait that outlasts the timeout fails, naming what is still in progress', async () => {
    await start({ cloudfront: { completionDelayMs: 120_000 } });
    const { answer } = await cloud.request(fn.name, make.create({ WaitForCompletion: 'true', TimeoutSeconds: '4' }));
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(/^Timed out after 4 s: invalidations I[A-Z0-9]+ of distribution E1SITE00000000 are still in progress$/);
  });

  test('with failOnTimeout false, it succeeds with a warning instead', async () => {
    await start({ cloudfront: { completionDelayMs: 120_000 } });
    const { answer } = await cloud.request(fn.name, make.create({ WaitForCompletion: 'true', TimeoutSeconds: '4', FailOnTimeout: 'false' }));
    expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { Status: 'TimedOut', InvalidationId: cloud.cloudfront.invalidations(SITE)[0].id } });
    expect(answer.Data!.Warning).toMatch(/still in progress/);
  });

  test('batches CloudFront never accepted fail the deploy even with failOnTimeout false', async () => {
    await start();
    cloud.cloudfront.seedInvalidation(SITE, paths(15, 'theirs', '/*'));
    const { answer } = await cloud.request(fn.name, make.create({ WaitForCompletion: 'true', TimeoutSeconds: '3', FailOnTimeout: 'false' }));
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toContain('has not accepted');
  });
});

describe('I6: always answers', () => {
  test('a CloudFront call that hangs past the invocation\'s time is abandoned, and a fresh invocation finishes the job', async () => {
    await start({ lambdaTimeoutMs: 6000, cloudfront: { faults: { rate: 0, seed: 1, slowMs: 20_000 } } });
    cloud.cloudfront.failNext('CreateInvalidation', 'Slow');
    const { answer } = await cloud.request(fn.name, make.create({}), 60_000);
    expect(answer.Status).toBe('SUCCESS');
    const outcomes = cloud.lambda.invocations.map((i) => [i.source, i.outcome]);
    expect(outcomes[0]).toEqual(['event', 'ok']);
    expect(outcomes.slice(1).every(([source]) => source === 'invoke-api')).toBe(true);
    expect(cloud.cloudfront.invalidations(SITE)).toHaveLength(1);
  });

  test('when it may not start a fresh invocation of itself, it answers FAILED before Lambda stops it', async () => {
    await start({ lambdaTimeoutMs: 6000, cloudfront: { completionDelayMs: 60_000 } });
    const allowed = cloud.authorizer;
    cloud.authorizer = (action, arn) => action !== 'lambda:InvokeFunction' && allowed(action, arn);
    const { answer } = await cloud.request(fn.name, make.create({ WaitForCompletion: 'true', TimeoutSeconds: '60' }));
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(/^Could not continue in a new invocation: AccessDeniedException/);
    await cloud.lambda.idle();
    expect(cloud.lambda.invocations.map((i) => i.outcome)).toEqual(['ok']);
  });

  test('an answer CloudFront garbles fails the deploy with a one-line reason, not a hung stack', async () => {
    await start();
    cloud.cloudfront.failNext('CreateInvalidation', 'Malformed');
    const { answer } = await cloud.request(fn.name, make.create({}));
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toContain('distribution E1SITE00000000');
    expect(answer.Reason).not.toMatch(/\n/);
  });
});
