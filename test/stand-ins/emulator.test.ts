/**
 * The CloudFront emulator, driven by the real SDK client: it must answer the way CloudFront does,
 * or the handler tests built on it prove nothing.
 */
import {
  CloudFrontClient,
  CreateInvalidationCommand,
  CreateInvalidationForDistributionTenantCommand,
  GetInvalidationCommand,
  ListInvalidationsCommand,
  ListInvalidationsForDistributionTenantCommand,
  TooManyInvalidationsInProgress,
  waitUntilInvalidationCompleted,
} from '@aws-sdk/client-cloudfront';
import { CloudFrontEmulator } from '../emulator/cloudfront';

let emulator: CloudFrontEmulator;
let client: CloudFrontClient;
let distributionId: string;

function batch(callerReference: string, paths: string[]) {
  return { CallerReference: callerReference, Paths: { Quantity: paths.length, Items: paths } };
}

async function errorOf(p: Promise<unknown>): Promise<{ name: string; status?: number; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: err.name, status: err.$metadata?.httpStatusCode, message: err.message };
  }
  throw new Error('expected the call to fail');
}

beforeEach(async () => {
  emulator = await CloudFrontEmulator.start({ completionDelayMs: 60_000 });
  distributionId = emulator.addDistribution();
  client = new CloudFrontClient({
    region: 'us-east-1',
    endpoint: emulator.endpoint,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    maxAttempts: 1,
  });
});

afterEach(async () => {
  client.destroy();
  await emulator.close();
});

test('creates an invalidation the SDK parses, with a Location header and an upper-case id', async () => {
  const out = await client.send(new CreateInvalidationCommand({ DistributionId: distributionId, InvalidationBatch: batch('ref-1', ['/a', '/b/*']) }));
  expect(out.Location).toContain(`/distribution/${distributionId}/invalidation/${out.Invalidation!.Id}`);
  expect(out.Invalidation!.Id).toMatch(/^[A-Z0-9]{14,}$/);
  expect(out.Invalidation!.Status).toBe('InProgress');
  expect(out.Invalidation!.CreateTime).toBeInstanceOf(Date);
  expect(out.Invalidation!.InvalidationBatch!.Paths!.Items!.sort()).toEqual(['/a', '/b/*']);
  expect(emulator.invalidations(distributionId)).toHaveLength(1);
});

test('returns the existing invalidation for a repeated CallerReference with the same paths', async () => {
  const first = await client.send(new CreateInvalidationCommand({ DistributionId: distributionId, InvalidationBatch: batch('ref-1', ['/a', '/b']) }));
  const again = await client.send(new CreateInvalidationCommand({ DistributionId: distributionId, InvalidationBatch: batch('ref-1', ['/b', '/a']) }));
  expect(again.Invalidation!.Id).toBe(first.Invalidation!.Id);
  expect(emulator.invalidations(distributionId)).toHaveLength(1);
});

test('rejects a repeated CallerReference with other paths as InvalidArgument, as CloudFront really does', async () => {
  await client.send(new CreateInvalidationCommand({ DistributionId: distributionId, InvalidationBatch: batch('ref-1', ['/a']) }));
  const err = await errorOf(client.send(new CreateInvalidationCommand({ DistributionId: distributionId, InvalidationBatch: batch('ref-1', ['/c']) })));
  expect(err).toMatchObject({ name: 'InvalidArgument', status: 400 });
  expect(err.message).toMatch(/caller reference that was used for a previous invalidation batch/);
});

test.each([
  ['no leading slash', 'a/b'],
  ['a star before the end', '/a*/b'],
  ['an unencoded space', '/a b'],
  ['unencoded non-ASCII', '/café'],
  ['raw square brackets, as users report for /test[1].html', '/test[1].html'],
  ['a raw tilde', '/~user/a'],
  ['a raw # inside a path', '/a#b'],
  ['a % that starts no escape', '/100%/a'],
  ['a path over 4000 characters', `/${'x'.repeat(4000)}`],
  ['a cache tag on a distribution without cache tags', '#product-1'],
])('rejects %s as InvalidArgument', async (_what, path) => {
  const err = await errorOf(client.send(new CreateInvalidationCommand({ DistributionId: distributionId, InvalidationBatch: batch('r', [path]) })));
  expect(err).toMatchObject({ name: 'InvalidArgument', status: 400, message: 'Your request contains one or more invalid invalidation paths.' });
});

test('accepts what the handler encodes: escapes, query strings and a last *', async () => {
  const out = await client.send(new CreateInvalidationCommand({
    DistributionId: distributionId, InvalidationBatch: batch('r', ['/test%5B1%5D.html', '/%7Euser/a%20b', '/a.jpg?x=1&y=2', '/img/*']),
  }));
  expect(out.Invalidation!.Status).toBe('InProgress');
});

test('accepts cache tags on a distribution with cache tags', async () => {
  const tagged = emulator.addDistribution({ cacheTags: true });
  const out = await client.send(new CreateInvalidationCommand({ DistributionId: tagged, InvalidationBatch: batch('r', ['#product-1', '/index.html']) }));
  expect(out.Invalidation!.Status).toBe('InProgress');
});

test('answers NoSuchDistribution (404) for an unknown or deleted distribution', async () => {
  expect(await errorOf(client.send(new CreateInvalidationCommand({ DistributionId: 'ENOSUCH', InvalidationBatch: batch('r', ['/a']) }))))
    .toMatchObject({ name: 'NoSuchDistribution', status: 404 });
  emulator.deleteDistribution(distributionId);
  expect(await errorOf(client.send(new ListInvalidationsCommand({ DistributionId: distributionId }))))
    .toMatchObject({ name: 'NoSuchDistribution', status: 404 });
});

test('answers NoSuchInvalidation (404) for an unknown invalidation id', async () => {
  expect(await errorOf(client.send(new GetInvalidationCommand({ DistributionId: distributionId, Id: 'INOSUCH' }))))
    .toMatchObject({ name: 'NoSuchInvalidation', status: 404 });
});

test('enforces 15 wildcard paths in progress per distribution, with the SDK\'s own error class', async () => {
  const wildcards = Array.from({ length: 10 }, (_, i) => `/w${i}/*`);
  await client.send(new CreateInvalidationCommand({ DistributionId: distributionId, InvalidationBatch: batch('r1', wildcards) }));
  const more = Array.from({ length: 6 }, (_, i) => `/v${i}/*`);
  const p = client.send(new CreateInvalidationCommand({ DistributionId: distributionId, InvalidationBatch: batch('r2', more) }));
  await expect(p).rejects.toBeInstanceOf(TooManyInvalidationsInProgress);
  emulator.complete();
  await expect(client.send(new CreateInvalidationCommand({ DistributionId: distributionId, InvalidationBatch: batch('r2', more) }))).resolves.toBeDefined();
});

test('enforces 3000 individual paths in progress, counted apart from wildcards', async () => {
  const paths = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `/${prefix}${i}`);
  await client.send(new CreateInvalidationCommand({ DistributionId: distributionId, InvalidationBatch: batch('r1', paths(2000, 'a')) }));
  await client.send(new CreateInvalidationCommand({ DistributionId: distributionId, InvalidationBatch: batch('r2', ['/w/*']) }));
  const err = await errorOf(client.send(new CreateInvalidationCommand({ DistributionId: distributionId, InvalidationBatch: batch('r3', paths(1001, 'b')) })));
  expect(err).toMatchObject({ name: 'TooManyInvalidationsInProgress', status: 400 });
  await expect(client.send(new CreateInvalidationCommand({ DistributionId: distributionId, InvalidationBatch: batch('r4', paths(1000, 'b')) }))).resolves.toBeDefined();
});

test('rejects a CreateInvalidation without a body as MissingBody (400)', async () => {
  client.middlewareStack.add((next) => async (args) => {
    const request = args.request as { body?: unknown; headers: Record<string, string> };
    request.body = '';
    request.headers['content-length'] = '0';
    return next(args);
  }, { step: 'build', name: 'dropBody' });
  const err = await errorOf(client.send(new CreateInvalidationCommand({ DistributionId: distributionId, InvalidationBatch: batch('r', ['/a']) })));
  expect(err).toMatchObject({ name: 'MissingBody', status: 400 });
  expect(emulator.invalidations(distributionId)).toHaveLength(0);
});

test('rejects one request over 3000 paths as BatchTooLarge (413)', async () => {
  const paths = Array.from({ length: 3001 }, (_, i) => `/p${i}`);
  expect(await errorOf(client.send(new CreateInvalidationCommand({ DistributionId: distributionId, InvalidationBatch: batch('r', paths) }))))
    .toMatchObject({ name: 'BatchTooLarge', status: 413 });
});

test('lists newest first, 100 at most per page, with NextMarker only when truncated', async () => {
  emulator.complete();
  for (let i = 0; i < 105; i++) {
    emulator.seedInvalidation(distributionId, [`/p${i}`], 0);
  }
  const first = await client.send(new ListInvalidationsCommand({ DistributionId: distributionId }));
  expect(first.InvalidationList).toMatchObject({ Quantity: 100, MaxItems: 100, IsTruncated: true, Marker: '' });
  const all = emulator.invalidations(distributionId);
  expect(first.InvalidationList!.Items![0].Id).toBe(all[all.length - 1].id);
  expect(first.InvalidationList!.NextMarker).toBe(first.InvalidationList!.Items![99].Id);
  const second = await client.send(new ListInvalidationsCommand({ DistributionId: distributionId, Marker: first.InvalidationList!.NextMarker }));
  expect(second.InvalidationList).toMatchObject({ Quantity: 5, IsTruncated: false });
  expect(second.InvalidationList!.NextMarker).toBeUndefined();
  expect(second.InvalidationList!.Items![4].Id).toBe(all[0].id);
});

test.each([0, -1, 2.5])('answers InvalidArgument (400) for a ListInvalidations with MaxItems %p', async (maxItems) => {
  const err = await errorOf(client.send(new ListInvalidationsCommand({ DistributionId: distributionId, MaxItems: maxItems })));
  expect(err).toMatchObject({ name: 'InvalidArgument', status: 400 });
  expect(err.message).toContain(`The value ${maxItems} for MaxItems`);
});

test('answers InvalidArgument (400) for a ListInvalidations with a Marker it never gave out', async () => {
  const own = emulator.seedInvalidation(distributionId, ['/a'], 0);
  const elsewhere = emulator.seedInvalidation(emulator.addDistribution(), ['/b'], 0);
  await expect(client.send(new ListInvalidationsCommand({ DistributionId: distributionId, Marker: own.id }))).resolves.toBeDefined();
  for (const marker of ['INOSUCHINVALIDATION', elsewhere.id]) {
    const err = await errorOf(client.send(new ListInvalidationsCommand({ DistributionId: distributionId, Marker: marker })));
    expect(err).toMatchObject({ name: 'InvalidArgument', status: 400 });
    expect(err.message).toContain(`The value ${marker} for Marker`);
  }
  const tenant = emulator.addTenant(distributionId);
  expect(await errorOf(client.send(new ListInvalidationsForDistributionTenantCommand({ Id: tenant, Marker: own.id }))))
    .toMatchObject({ name: 'InvalidArgument', status: 400 });
});

test('moves InProgress to Completed after the delay, which the SDK waiter sees', async () => {
  const quick = await CloudFrontEmulator.start({ completionDelayMs: 1500 });
  const id = quick.addDistribution();
  const c = new CloudFrontClient({ region: 'us-east-1', endpoint: quick.endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  try {
    const out = await c.send(new CreateInvalidationCommand({ DistributionId: id, InvalidationBatch: batch('r', ['/*']) }));
    const waiter = { client: c, maxWaitTime: 20, minDelay: 1, maxDelay: 2 };
    const result = await waitUntilInvalidationCompleted(waiter, { DistributionId: id, Id: out.Invalidation!.Id });
    expect(result.state).toBe('SUCCESS');
  } finally {
    c.destroy();
    await quick.close();
  }
});

test('invalidates a distribution tenant, and answers EntityNotFound for an unknown one', async () => {
  const tenant = emulator.addTenant(distributionId);
  const out = await client.send(new CreateInvalidationForDistributionTenantCommand({ Id: tenant, InvalidationBatch: batch('r', ['/*']) }));
  expect(emulator.invalidations(distributionId, tenant).map((i) => i.id)).toEqual([out.Invalidation!.Id]);
  expect(await errorOf(client.send(new CreateInvalidationForDistributionTenantCommand({ Id: 'dt_nosuch', InvalidationBatch: batch('r', ['/*']) }))))
    .toMatchObject({ name: 'EntityNotFound', status: 404 });
});

test('answers AccessDenied (403) with CloudFront\'s wording when IAM does not allow the call', async () => {
  const strict = await CloudFrontEmulator.start({ authorize: (action) => action !== 'cloudfront:CreateInvalidation' });
  const id = strict.addDistribution();
  const c = new CloudFrontClient({ region: 'us-east-1', endpoint: strict.endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  try {
    const err = await errorOf(c.send(new CreateInvalidationCommand({ DistributionId: id, InvalidationBatch: batch('r', ['/*']) })));
    expect(err).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(err.message).toContain(`is not authorized to perform: cloudfront:CreateInvalidation on resource: arn:aws:cloudfront::123456789012:distribution/${id}`);
  } finally {
    c.destroy();
    await strict.close();
  }
});

test('injects faults the SDK retries (Throttling, ServiceUnavailable) and records them', async () => {
  emulator.failNext('CreateInvalidation', 'Throttling', 'ServiceUnavailable');
  const retrying = new CloudFrontClient({ region: 'us-east-1', endpoint: emulator.endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 3 });
  try {
    const out = await retrying.send(new CreateInvalidationCommand({ DistributionId: distributionId, InvalidationBatch: batch('r', ['/*']) }));
    expect(out.Invalidation!.Id).toBeDefined();
  } finally {
    retrying.destroy();
  }
  expect(emulator.requests.map((r) => [r.status, r.errorCode])).toEqual([[400, 'Throttling'], [503, 'ServiceUnavailable'], [201, undefined]]);
});

test('a lost response still creates the invalidation, so a retry with the same reference finds it', async () => {
  emulator.failNext('CreateInvalidation', 'LostResponse');
  const err = await errorOf(client.send(new CreateInvalidationCommand({ DistributionId: distributionId, InvalidationBatch: batch('r', ['/*']) })));
  expect(err.status).toBe(503);
  const retry = await client.send(new CreateInvalidationCommand({ DistributionId: distributionId, InvalidationBatch: batch('r', ['/*']) }));
  expect(emulator.invalidations(distributionId).map((i) => i.id)).toEqual([retry.Invalidation!.Id]);
});

test('random faults are the same for the same seed', async () => {
  const run = async (seed: number) => {
    const e = await CloudFrontEmulator.start({ faults: { rate: 0.5, seed, kinds: ['Throttling', 'ServiceUnavailable'] } });
    const d = e.addDistribution();
    const c = new CloudFrontClient({ region: 'us-east-1', endpoint: e.endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
    for (let i = 0; i < 20; i++) {
      await c.send(new ListInvalidationsCommand({ DistributionId: d })).catch(() => undefined);
    }
    c.destroy();
    await e.close();
    return e.requests.map((r) => r.errorCode ?? '-').join(',');
  };
  const a = await run(7);
  expect(await run(7)).toBe(a);
  expect(a).toMatch(/Throttling|ServiceUnavailable/);
  expect(await run(8)).not.toBe(a);
});
