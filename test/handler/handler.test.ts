/**
 * The bundled handler, as synthesized into cdk.out, running in the Lambda stand-in with the real
 * AWS SDK against the CloudFront emulator, under the IAM its template gives it. Events are made by
 * hand here; the lifecycle tests let the driver make them from templates.
 */
import { NOT_GRANTED, OTHER, SITE, STACK_ID } from '../driver/handler-fixture';
import type { LocalCloud } from '../driver/local-cloud';
import { handlerCloudPerTest } from '../support/handler-cloud';
import type { InvalidationRequests, RequestProperties } from '../support/requests';

let cloud: LocalCloud;
let fn: { name: string; arn: string };
let properties: InvalidationRequests['properties'];
let request: InvalidationRequests['request'];
let create: InvalidationRequests['create'];
let update: InvalidationRequests['update'];
const start = handlerCloudPerTest((started) => ({ cloud, fn, r: { properties, request, create, update } } = started), [SITE, OTHER, NOT_GRANTED]);
beforeEach(() => start());

const created = () => cloud.cloudfront.requests.filter((r) => r.created);

/** A fresh local cloud whose invalidations take `completionDelayMs` to complete, with the site and the handler. */
async function restartWithCompletionDelay(completionDelayMs: number): Promise<void> {
  await cloud.close();
  await start({ cloudfront: { completionDelayMs } }, [SITE]);
}

describe('I1: fires on change', () => {
  test('a Create submits one invalidation covering the paths and answers with its id and CallerReference', async () => {
    const { answer } = await cloud.request(fn.name, create({ Paths: ['/index.html', '/assets/*'] }));
    const invalidations = cloud.cloudfront.invalidations(SITE);
    expect(invalidations).toHaveLength(1);
    expect([...invalidations[0].paths].sort()).toEqual(['/assets/*', '/index.html']);
    expect(answer.Status).toBe('SUCCESS');
    expect(answer.Data).toMatchObject({
      InvalidationId: invalidations[0].id,
      InvalidationIds: invalidations[0].id,
      CallerReference: invalidations[0].callerReference.replace(/-1$/, ''),
      Status: 'Submitted',
    });
  });

  test.each([
    ['the paths', () => properties({ Paths: ['/about.html'] })],
    ['the trigger', () => properties({ Trigger: ['stack:2222'] })],
  ])('an Update that changes %s submits a new invalidation', async (_what, make) => {
    const changed = make();
    const { answer } = await cloud.request(fn.name, update(properties(), changed));
    expect(answer.Status).toBe('SUCCESS');
    expect(cloud.cloudfront.invalidations(SITE).map((i) => i.paths)).toEqual([changed.Paths]);
  });

  test('an Update that moves to another distribution invalidates the new one', async () => {
    await cloud.request(fn.name, update(properties(), properties({ DistributionId: OTHER })));
    expect(cloud.cloudfront.invalidations(SITE)).toHaveLength(0);
    expect(cloud.cloudfront.invalidations(OTHER)).toHaveLength(1);
  });
});

describe('paths', () => {
  test('cache tags pass through with paths, for a distribution with cache tags', async () => {
    cloud.cloudfront.deleteDistribution(SITE);
    cloud.cloudfront.addDistribution({ id: SITE, cacheTags: true });
    const { answer } = await cloud.request(fn.name, create({ Paths: ['#product-42', '/index.html', '#Product-42'] }));
    expect(answer.Status).toBe('SUCCESS');
    // Tags are case-insensitive: one of the two spellings is enough.
    expect([...cloud.cloudfront.invalidations(SITE)[0].paths].sort()).toEqual(['#product-42', '/index.html']);
  });

  test('non-ASCII and unsafe characters are encoded the way CloudFront wants them', async () => {
    const paths = ['/menu/café au lait.html', '/test[1].html', '/~user/#top', '/100%/a%20b', '/search?q=1&r=2'];
    const { answer } = await cloud.request(fn.name, create({ Paths: paths }));
    expect(answer.Status).toBe('SUCCESS');
    expect([...cloud.cloudfront.invalidations(SITE)[0].paths].sort()).toEqual([
      '/%7Euser/%23top', '/100%25/a%20b', '/menu/caf%C3%A9%20au%20lait.html', '/search?q=1&r=2', '/test%5B1%5D.html',
    ]);
  });
});

describe('I2: no duplicates on redelivery', () => {
  test('the same request delivered twice creates one invalidation and answers the same both times', async () => {
    const sent = cloud.send(fn.name, request());
    sent.redeliver();
    await cloud.lambda.idle();
    const answers = cloud.cloudformation.answers.get(sent.token)!;
    expect(answers.map((a) => a.answer.Status)).toEqual(['SUCCESS', 'SUCCESS']);
    expect(answers[0].answer.Data!.InvalidationId).toBe(answers[1].answer.Data!.InvalidationId);
    expect(answers[0].answer.PhysicalResourceId).toBe(answers[1].answer.PhysicalResourceId);
    expect(cloud.cloudfront.invalidations(SITE)).toHaveLength(1);
  });

  test('a second delivery does not wait for room its own first delivery\'s batch takes', async () => {
    cloud.cloudfront.holdInProgress();
    const paths = Array.from({ length: 3000 }, (_, i) => `/p${i}`);
    const event = create({ Paths: paths, TimeoutSeconds: '20' });
    const first = await cloud.request(fn.name, event);
    cloud.cloudfront.holdInProgress();
    const started = Date.now();
    const again = await cloud.request(fn.name, event);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(again.answer).toMatchObject({ Status: 'SUCCESS', Data: { InvalidationId: first.answer.Data!.InvalidationId } });
    expect(cloud.cloudfront.invalidations(SITE)).toHaveLength(1);
  });

  test('a crash after CreateInvalidation and before the answer: Lambda\'s retry creates nothing new', async () => {
    cloud.cloudfront.onRequest((r) => {
      if (r.created && created().length === 1) {
        cloud.lambda.crash(fn.name);
      }
    });
    const sent = cloud.send(fn.name, request());
    await cloud.lambda.idle();
    const invocations = cloud.lambda.invocations.map((i) => i.outcome);
    expect(invocations).toEqual(['crash', 'ok']);
    expect(cloud.cloudfront.invalidations(SITE)).toHaveLength(1);
    const answers = cloud.cloudformation.answers.get(sent.token)!;
    expect(answers).toHaveLength(1);
    expect(answers[0].answer.Data!.InvalidationId).toBe(cloud.cloudfront.invalidations(SITE)[0].id);
  });

  test('a lost CreateInvalidation response retried by the SDK creates nothing new', async () => {
    cloud.cloudfront.failNext('CreateInvalidation', 'LostResponse');
    const { answer } = await cloud.request(fn.name, request());
    expect(answer.Status).toBe('SUCCESS');
    expect(cloud.cloudfront.requests.filter((r) => r.operation === 'CreateInvalidation').map((r) => r.status)).toEqual([503, 201]);
    expect(cloud.cloudfront.invalidations(SITE)).toHaveLength(1);
  });

  test('a new request with the same inputs gets a new CallerReference (a rollback must purge again)', async () => {
    await cloud.request(fn.name, request());
    await cloud.request(fn.name, request());
    const refs = cloud.cloudfront.invalidations(SITE).map((i) => i.callerReference);
    expect(refs).toHaveLength(2);
    expect(refs[0]).not.toBe(refs[1]);
    expect(refs[0].split('-')[0]).toBe(refs[1].split('-')[0]);
  });
});

describe('I3: no-op updates stay no-ops', () => {
  test.each([
    ['the ServiceToken (a new handler)', (p: RequestProperties) => ({ ...p, ServiceToken: `${p.ServiceToken}-v2` })],
    ['the wait settings', (p: RequestProperties) => ({ ...p, WaitForCompletion: 'true', TimeoutSeconds: '900', FailOnTimeout: 'false' })],
    ['the order of the paths, or duplicates', (p: RequestProperties) => ({ ...p, Paths: ['/b', '/a', '/b'] })],
  ])('an Update changing only %s creates no invalidation, succeeds and answers the ids it had', async (_what, change) => {
    const before = properties({ Paths: ['/a', '/b'] });
    const first = await cloud.request(fn.name, request({ ResourceProperties: before }));
    const { answer } = await cloud.request(fn.name, update(before, change(before), first.answer.PhysicalResourceId));
    expect(answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: first.answer.PhysicalResourceId });
    expect(answer.Data).toMatchObject({
      Status: 'Unchanged',
      InvalidationIds: first.answer.Data!.InvalidationIds,
      CallerReference: first.answer.Data!.CallerReference,
    });
    expect(created()).toHaveLength(1);
  });

  test('a path already covered by a wildcard of the list is no change', async () => {
    const { answer } = await cloud.request(fn.name, update(properties({ Paths: ['/img/*'] }), properties({ Paths: ['/img/*', '/img/a.png'] })));
    expect(answer.Data!.Status).toBe('Unchanged');
    expect(created()).toHaveLength(0);
  });

  test('recalls every batch of a long list, in batch order, past invalidations of other resources', async () => {
    const paths = Array.from({ length: 3500 }, (_, i) => `/p${i}`);
    const first = await cloud.request(fn.name, create({ Paths: paths }));
    await cloud.request(fn.name, request({ LogicalResourceId: 'Another', ResourceProperties: properties({ Paths: ['/another'] }) }));
    const { answer } = await cloud.request(fn.name, update(properties({ Paths: paths }), properties({ Paths: paths, TimeoutSeconds: '120' })));
    expect(first.answer.Data!.InvalidationIds.split(',')).toHaveLength(2);
    expect(answer.Data!.InvalidationIds).toBe(first.answer.Data!.InvalidationIds);
  });

  test('answers empty ids, still SUCCESS, when the earlier invalidation is out of sight', async () => {
    const { answer } = await cloud.request(fn.name, update(properties(), properties({ TimeoutSeconds: '120' })));
    expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { Status: 'Unchanged', InvalidationIds: '', InvalidationId: '', CallerReference: '' } });
    expect(created()).toHaveLength(0);
  });
});

describe('I5: Delete never invalidates and never fails', () => {
  test('a Delete succeeds without calling CloudFront and keeps the physical id', async () => {
    const { answer } = await cloud.request(fn.name, request({ RequestType: 'Delete', PhysicalResourceId: 'InvalidateSite-xyz' }));
    expect(answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'InvalidateSite-xyz' });
    expect(cloud.cloudfront.requests).toHaveLength(0);
  });

  test('a Delete succeeds when the distribution is gone, or the properties make no sense', async () => {
    cloud.cloudfront.deleteDistribution(SITE);
    const gone = await cloud.request(fn.name, request({ RequestType: 'Delete', PhysicalResourceId: 'p1' }));
    const garbage = await cloud.request(fn.name, request({ RequestType: 'Delete', PhysicalResourceId: 'p2', ResourceProperties: { Paths: 'nonsense' } }));
    expect([gone.answer.Status, garbage.answer.Status]).toEqual(['SUCCESS', 'SUCCESS']);
    expect(cloud.cloudfront.requests).toHaveLength(0);
  });
});

describe('I6: always answers, with a one-line reason naming the distribution and the error code', () => {
  test('a distribution that does not exist', async () => {
    cloud.cloudfront.deleteDistribution(SITE);
    const { answer } = await cloud.request(fn.name, request());
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toContain(`distribution ${SITE}`);
    expect(answer.Reason).toContain('NoSuchDistribution');
    expect(answer.Reason).not.toMatch(/\n/);
  });

  test('a distribution IAM denies (a permissions boundary, say) fails, once retrying can no longer help, naming IAM and the action', async () => {
    const allowed = cloud.authorizer;
    cloud.authorizer = (action, arn) => !arn.endsWith(`distribution/${NOT_GRANTED}`) && allowed(action, arn);
    const { answer } = await cloud.request(fn.name, create({ DistributionId: NOT_GRANTED, TimeoutSeconds: '3' }));
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(new RegExp(`^IAM does not allow the handler's role cloudfront:CreateInvalidation on distribution ${NOT_GRANTED}; retried for \\d+ s .*AccessDenied`));
    expect(cloud.cloudfront.invalidations(NOT_GRANTED)).toHaveLength(0);
  });

  test('while waiting, a GetInvalidation denied for a few seconds (a policy not applied yet) is read again, and the wait completes', async () => {
    await restartWithCompletionDelay(1500);
    const allowed = cloud.authorizer;
    let denials = 0;
    cloud.authorizer = (action, arn) => (action === 'cloudfront:GetInvalidation' && denials < 2 ? (denials++, false) : allowed(action, arn));
    const { answer } = await cloud.request(fn.name, create({ WaitForCompletion: 'true', TimeoutSeconds: '60' }));
    expect(denials).toBe(2);
    expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { Status: 'Completed' } });
  });

  test('a path CloudFront would refuse, known only at deploy time, fails naming the item', async () => {
    const { answer } = await cloud.request(fn.name, create({ Paths: ['/ok', 'resolved-without-slash'] }));
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toContain('Paths[1] "resolved-without-slash"');
    expect(cloud.cloudfront.requests).toHaveLength(0);
  });

  test('the answer is small, signed as presigned (no content type), and the ResponseURL never reaches the logs', async () => {
    const { answer, bytes, contentType, responseUrlSecret } = await cloud.request(fn.name, request());
    expect(answer.Status).toBe('SUCCESS');
    expect(bytes).toBeLessThan(4096);
    expect(contentType ?? '').toBe('');
    const logs = cloud.lambda.logs();
    expect(logs).toContain('answering SUCCESS');
    expect(logs).not.toContain(responseUrlSecret);
    expect(logs).not.toContain('cloudformation-response');
  });

  test('a Create answers a physical id that a retry of the same request repeats, and an Update keeps it', async () => {
    const event = request();
    const first = await cloud.request(fn.name, event);
    const again = await cloud.request(fn.name, event);
    expect(first.answer.PhysicalResourceId).toMatch(/^InvalidateSite-[0-9a-f]{12}$/);
    expect(again.answer.PhysicalResourceId).toBe(first.answer.PhysicalResourceId);
    const updated = await cloud.request(fn.name, update(properties(), properties({ Paths: ['/x'] }), first.answer.PhysicalResourceId));
    expect(updated.answer.PhysicalResourceId).toBe(first.answer.PhysicalResourceId);
  });
});

describe('CloudFront calls', () => {
  const operations = () => cloud.cloudfront.requests.map((q) => q.operation);

  test('a one-path purge on a distribution with 300 finished invalidations reads one page of history: 2 calls', async () => {
    for (let i = 0; i < 300; i++) {
      cloud.cloudfront.seedInvalidation(SITE, [`/old/${i}`], 0);
    }
    const { answer } = await cloud.request(fn.name, create({ Paths: ['/index.html'] }));
    expect(answer.Status).toBe('SUCCESS');
    expect(operations()).toEqual(['ListInvalidations', 'CreateInvalidation']);
  });

  test('10,000 paths: one List and one Create per batch, pausing first while the previous batch leaves no room', async () => {
    await restartWithCompletionDelay(300);
    const paths = Array.from({ length: 10_000 }, (_, i) => `/p/${i}`);
    const { answer } = await cloud.request(fn.name, create({ Paths: paths }));
    expect(answer.Status).toBe('SUCCESS');
    expect(operations()).toEqual(Array.from({ length: 4 }, () => ['ListInvalidations', 'CreateInvalidation']).flat());
  });

  test('counting what is in progress reads further pages while the oldest item of a page is still in progress', async () => {
    for (let i = 0; i < 150; i++) {
      cloud.cloudfront.seedInvalidation(SITE, [`/busy/${i}`]);
    }
    cloud.cloudfront.setFaults({ rate: 1, seed: 1, kinds: ['Slow'], operations: ['GetInvalidation'], slowMs: 1 });
    await cloud.request(fn.name, create({ Paths: ['/index.html'], TimeoutSeconds: '5' }));
    expect(operations().slice(0, 2)).toEqual(['ListInvalidations', 'ListInvalidations']);
  });
});

describe('one log line per purge, for CloudWatch Logs Insights', () => {
  /** The handler's JSON log lines whose message is `purge`. */
  const purgeLines = () => cloud.lambda.logs().split('\n').filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.message === 'purge');

  test('a Create that CloudFront accepts: distribution, ids, path and wildcard counts, cause, and the time to accepted', async () => {
    const { answer } = await cloud.request(fn.name, create({ Paths: ['/index.html', '/assets/*', '/img/*'] }));
    expect(answer.Status).toBe('SUCCESS');
    const [line, ...more] = purgeLines();
    expect(more).toEqual([]);
    expect(line).toMatchObject({
      cause: 'deploy',
      outcome: 'accepted',
      distributionId: SITE,
      invalidationIds: [cloud.cloudfront.invalidations(SITE)[0].id],
      callerReference: answer.Data!.CallerReference,
      pathCount: 3,
      wildcardCount: 2,
      paths: ['/assets/*', '/img/*', '/index.html'],
      stackId: STACK_ID,
      logicalResourceId: 'InvalidateSite',
    });
    expect(line.msToAccepted).toEqual(expect.any(Number));
    expect(line.msToCompleted).toBeUndefined();
  });

  test('with waitForCompletion: the time to completed, after the time to accepted; a tenant is named', async () => {
    await restartWithCompletionDelay(300);
    const tenant = cloud.cloudfront.addTenant(SITE);
    await cloud.request(fn.name, create({ WaitForCompletion: 'true', DistributionTenantId: tenant }));
    const [line] = purgeLines();
    expect(line).toMatchObject({ outcome: 'completed', distributionId: SITE, distributionTenantId: tenant, pathCount: 1, wildcardCount: 1 });
    expect(line.msToCompleted as number).toBeGreaterThanOrEqual(line.msToAccepted as number);
    expect(line.msToCompleted as number).toBeGreaterThanOrEqual(250);
  });

  test('a repeated request writes a line marked repeat, which CloudFront did not bill again; its first line is not', async () => {
    const event = create({ Paths: ['/a.html', '/b.html'] });
    await cloud.request(fn.name, event);
    // Later than any clock skew between the handler and CloudFront.
    await new Promise((wake) => setTimeout(wake, 2100));
    await cloud.request(fn.name, event);
    expect(cloud.cloudfront.invalidations(SITE)).toHaveLength(1);
    const lines = purgeLines();
    const reference = lines[0].callerReference;
    expect(lines.map((l) => [l.repeat, l.pathCount, l.callerReference])).toEqual([[false, 2, reference], [true, 2, reference]]);
  });

  test('every line is a JSON object by itself, without the prefix Lambda puts before console output', async () => {
    await cloud.request(fn.name, request());
    const lines = cloud.lambda.logs().split('\n').filter((l) => l.includes('"message":"purge"'));
    expect(lines).toHaveLength(1);
    expect(lines[0].startsWith('{"message":"purge"')).toBe(true);
  });

  test('an Update that changes nothing writes no purge line; a refused path writes a failed one with the reason', async () => {
    const same = properties();
    await cloud.request(fn.name, update(same, same));
    expect(purgeLines()).toEqual([]);
    await cloud.request(fn.name, create({ DistributionId: 'EUNKNOWN0000' }));
    const [line] = purgeLines();
    expect(line).toMatchObject({ cause: 'deploy', outcome: 'failed', distributionId: 'EUNKNOWN0000', invalidationIds: [], pathCount: 0 });
    expect(line.reason).toEqual(expect.stringContaining('EUNKNOWN0000'));
  });
});
