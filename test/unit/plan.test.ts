/**
 * The pure planning code: path rules, batches, effective inputs and CallerReferences. No I/O.
 */
import * as fc from 'fast-check';
import { MAX_WILDCARDS_IN_PROGRESS, planBatches } from '../../lambda/invalidation/batches';
import { baseCallerReference, inputsHash, newPhysicalId, parseProperties, planRequest, rollbackPurgeReference } from '../../lambda/invalidation/plan';
import { responseBody } from '../../lambda/invalidation/protocol';
import { encodePath, MAX_PATHS_PER_REQUEST, normalizePaths, pathKind, pathProblem } from '../../src/shared/paths';
import { invalidationProperties, invalidationRequest } from '../support/requests';

const segment = fc.stringMatching(/^[a-z0-9._-]{1,8}$/);
const path = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => `/${parts.join('/')}`);
const wildcard = fc.array(segment, { minLength: 0, maxLength: 3 }).map((parts) => `/${parts.join('/')}${parts.length ? '/' : ''}*`);
const item = fc.oneof({ weight: 4, arbitrary: path }, { weight: 1, arbitrary: wildcard });

function covers(list: readonly string[], p: string): boolean {
  return list.some((q) => q === p || (q.endsWith('*') && p.startsWith(q.slice(0, -1))));
}

describe('path rules', () => {
  test.each([
    ['/index.html', undefined],
    ['/*', undefined],
    ['/a/b*', undefined],
    ['#product-42', undefined],
    ['index.html', 'must start with'],
    ['/a*/b', 'only be the last'],
    ['/a**', 'only be the last'],
    ['#', 'needs a name'],
  ])('%s', (given, problem) => {
    if (problem === undefined) {
      expect(pathProblem(given)).toBeUndefined();
    } else {
      expect(pathProblem(given)).toContain(problem);
    }
  });

  test('encodes what CloudFront wants encoded and nothing else', () => {
    expect(encodePath('/images/café au lait.jpg')).toBe('/images/caf%C3%A9%20au%20lait.jpg');
    expect(encodePath('/a"b<c>d{e}|^`\\')).toBe('/a%22b%3Cc%3Ed%7Be%7D%7C%5E%60%5C');
    // Users report InvalidArgument for a raw '[' or ']'; '~' and '#' are unsafe too.
    expect(encodePath('/test[1].html')).toBe('/test%5B1%5D.html');
    expect(encodePath('/~user/a%20b/[x]?q=1&r=2#frag')).toBe('/%7Euser/a%20b/%5Bx%5D?q=1&r=2%23frag');
    // A '%' that starts an escape stays; one that does not is encoded.
    expect(encodePath('/100%/a%2fb/%zz%4')).toBe('/100%25/a%2fb/%25zz%254');
    expect(encodePath('/\u0001\u007f')).toBe('/%01%7F');
    // Encoding is idempotent: an encoded path goes out unchanged.
    expect(encodePath(encodePath('/a b/[1]~#%/é'))).toBe(encodePath('/a b/[1]~#%/é'));
  });

  test('an encoded path holds only what CloudFront takes raw, and encoding it again changes nothing', () => {
    const unsafe = /[\u0000-\u0020"<>#{}|\\^~[\]`\u007f-\uffff]|%(?![0-9A-Fa-f]{2})/u;
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (text) => {
      const encoded = encodePath(`/${text}`);
      expect(encoded).not.toMatch(unsafe);
      expect(encodePath(encoded)).toBe(encoded);
      if (!text.includes('%')) {
        expect(decodeURIComponent(encoded)).toBe(`/${text}`);
      }
    }));
  });

  test('normalization drops duplicates and covered paths, and sorts', () => {
    expect(normalizePaths(['/b', '/img/a.png', '/a', '/img/*', '/b', '/img/*'])).toEqual(['/a', '/b', '/img/*']);
    expect(normalizePaths(['/index.html', '/*'])).toEqual(['/*']);
    expect(normalizePaths(['#tag', '/*'])).toEqual(['#tag', '/*']);
    expect(normalizePaths(['#Tag', '#tag', '#TAG'])).toEqual(['#tag']);
  });

  test('normalization is idempotent, order-blind, and still covers every path given', () => {
    fc.assert(fc.property(fc.array(item, { minLength: 1, maxLength: 60 }), (items) => {
      const normal = normalizePaths(items);
      expect(normalizePaths(normal)).toEqual(normal);
      expect(normalizePaths([...items].reverse())).toEqual(normal);
      items.forEach((p) => expect(covers(normal, p)).toBe(true));
      normal.forEach((p) => expect(items).toContain(p));
    }));
  });

  test('an invalid item is named with its index and value', () => {
    expect(() => normalizePaths(['/ok', 'bad'], 'Paths')).toThrow('Paths[1] "bad" is not a valid invalidation path');
    expect(() => normalizePaths([], 'Paths')).toThrow('Paths is empty');
  });
});

describe('batches', () => {
  const many = (n: number, prefix: string, suffix = '') => Array.from({ length: n }, (_, i) => `/${prefix}${String(i).padStart(5, '0')}${suffix}`);

  test('10,000 paths go out as 4 batches of at most 3000', () => {
    const batches = planBatches(normalizePaths(many(10_000, 'p')));
    expect(batches.map((b) => b.length)).toEqual([3000, 3000, 3000, 1000]);
  });

  test('wildcards go 15 to a batch, with other paths filling the room', () => {
    const batches = planBatches(normalizePaths([...many(40, 'w', '/*'), ...many(10, 'p')]));
    expect(batches.map((b) => b.filter((p) => pathKind(p) === 'wildcard').length)).toEqual([15, 15, 10]);
    expect(batches.flat()).toHaveLength(50);
  });

  test('every path exactly once, every batch within the limits, and as few batches as the limits allow', () => {
    fc.assert(fc.property(fc.nat(20_000), fc.nat(60), (others, wildcards) => {
      const paths = normalizePaths([...many(others, 'p'), ...many(wildcards, 'w', '/*'), '/single']);
      const batches = planBatches(paths);
      expect(batches.flat().sort()).toEqual([...paths].sort());
      for (const b of batches) {
        expect(b.length).toBeLessThanOrEqual(MAX_PATHS_PER_REQUEST);
        expect(b.filter((p) => pathKind(p) === 'wildcard').length).toBeLessThanOrEqual(MAX_WILDCARDS_IN_PROGRESS);
      }
      const w = paths.filter((p) => pathKind(p) === 'wildcard').length;
      expect(batches).toHaveLength(Math.max(Math.ceil(w / MAX_WILDCARDS_IN_PROGRESS), Math.ceil(paths.length / MAX_PATHS_PER_REQUEST)));
    }), { numRuns: 40 });
  });

  test('the same list always gives the same batches', () => {
    const paths = normalizePaths([...many(7000, 'p'), ...many(20, 'w', '/*')]);
    expect(planBatches(paths)).toEqual(planBatches([...paths]));
  });
});

const PROPS = invalidationProperties();

describe('requests', () => {
  test('the CallerReference is a pure function of the inputs and the request', () => {
    const inputs = parseProperties(PROPS).inputs;
    const a = baseCallerReference(inputs, invalidationRequest());
    expect(baseCallerReference(inputs, invalidationRequest())).toBe(a);
    expect(baseCallerReference(inputs, invalidationRequest({ RequestId: 'req-2' }))).not.toBe(a);
    expect(baseCallerReference(inputs, invalidationRequest({ StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Site/2' }))).not.toBe(a);
    expect(baseCallerReference(parseProperties({ ...PROPS, Paths: ['/x'] }).inputs, invalidationRequest())).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{16}-[0-9a-f]{16}$/);
  });

  test('a rollback purge\'s reference depends on the event and the target, not on a delivery', () => {
    const target = { distributionId: 'E123' };
    const a = rollbackPurgeReference(target, ['/*'], 'stack-1', 'event-1');
    expect(rollbackPurgeReference(target, ['/*'], 'stack-1', 'event-1')).toBe(a);
    expect(rollbackPurgeReference(target, ['/*'], 'stack-1', 'event-2')).not.toBe(a);
    expect(rollbackPurgeReference(target, ['/*'], 'stack-2', 'event-1')).not.toBe(a);
    expect(rollbackPurgeReference({ distributionId: 'E456' }, ['/*'], 'stack-1', 'event-1')).not.toBe(a);
    expect(rollbackPurgeReference({ distributionId: 'E123', tenantId: 'dt_1' }, ['/*'], 'stack-1', 'event-1')).not.toBe(a);
    expect(rollbackPurgeReference(target, ['/a/*'], 'stack-1', 'event-1')).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{16}-[0-9a-f]{16}$/);
  });

  test('effective inputs ignore order, duplicates and the handler\'s own settings', () => {
    const hash = (p: Record<string, unknown>) => inputsHash(parseProperties({ ...PROPS, ...p }).inputs);
    expect(hash({ Paths: ['/b', '/a'] })).toBe(hash({ Paths: ['/a', '/b', '/a'] }));
    expect(hash({ ServiceToken: 'other', WaitForCompletion: 'true', TimeoutSeconds: '5', FailOnTimeout: 'false' })).toBe(hash({}));
    expect(hash({ DistributionTenantId: 'dt_1' })).not.toBe(hash({}));
    expect(hash({ Trigger: ['stack:2'] })).not.toBe(hash({}));
  });

  test('plans batches numbered from 1', () => {
    const plan = planRequest(invalidationRequest({ ResourceProperties: { ...PROPS, Paths: Array.from({ length: 3500 }, (_, i) => `/p${i}`) } }));
    expect(plan.action).toBe('invalidate');
    if (plan.action === 'invalidate') {
      expect(plan.job.batches.map((b) => [b.number, b.paths.length])).toEqual([[1, 3000], [2, 500]]);
    }
  });

  test.each([
    [{ DistributionId: '' }, 'DistributionId must be a non-empty string'],
    [{ DistributionId: 'not an id' }, 'DistributionId "not an id" is not a CloudFront distribution id'],
    [{ Paths: '/*' }, 'Paths must be a list'],
    [{ TimeoutSeconds: '0' }, 'TimeoutSeconds "0" must be a whole number'],
    [{ WaitForCompletion: 'yes' }, 'WaitForCompletion must be \'true\' or \'false\', got "yes"'],
  ])('bad properties fail, naming the field and value: %j', (change, message) => {
    const plan = planRequest(invalidationRequest({ ResourceProperties: { ...PROPS, ...change } }));
    expect(plan).toEqual({ action: 'fail', reason: expect.stringContaining(message) });
  });

  test('an Update whose old properties cannot be read counts as a change', () => {
    const plan = planRequest(invalidationRequest({ RequestType: 'Update', PhysicalResourceId: 'p', OldResourceProperties: { Paths: 7 } }));
    expect(plan.action).toBe('invalidate');
  });

  test('physical ids are stable for a request and differ between requests', () => {
    expect(newPhysicalId(invalidationRequest())).toBe(newPhysicalId(invalidationRequest()));
    expect(newPhysicalId(invalidationRequest({ RequestId: 'req-2' }))).not.toBe(newPhysicalId(invalidationRequest()));
    expect(newPhysicalId(invalidationRequest())).toMatch(/^Purge-[0-9a-f]{12}$/);
  });
});

describe('answers', () => {
  test('stay under 4096 bytes when the reason and the warning are long and far from ASCII', () => {
    const long = '\u00e9\u6f22\u{1f600}'.repeat(600);
    for (const status of ['SUCCESS', 'FAILED'] as const) {
      const body = responseBody(invalidationRequest(), {
        Status: status,
        PhysicalResourceId: 'p',
        Reason: status === 'FAILED' ? long : undefined,
        Data: { InvalidationIds: 'I1', InvalidationId: 'I1', CallerReference: 'r', Status: 'TimedOut', Warning: long },
      });
      expect(Buffer.byteLength(body)).toBeLessThanOrEqual(4096);
      expect(Buffer.byteLength(body)).toBeGreaterThan(3500);
      const parsed = JSON.parse(body);
      expect(parsed.Data.InvalidationIds).toBe('I1');
      expect(parsed.Data.Warning).toMatch(/^(\u00e9\u6f22\u{1f600})+[^.]{0,2}\.\.\.$/u);
      expect(parsed.Reason ?? '...').toMatch(/\.\.\.$/);
    }
  });

  test('stay under 4096 bytes by dropping trailing ids, and keep the reason to one line', () => {
    const ids = Array.from({ length: 400 }, (_, i) => `I${String(i).padStart(13, '0')}`).join(',');
    const body = responseBody(invalidationRequest(), {
      Status: 'SUCCESS',
      PhysicalResourceId: 'p',
      Reason: 'line one\nline two',
      Data: { InvalidationIds: ids, InvalidationId: 'I0000000000000', CallerReference: 'r', Status: 'Submitted', Warning: '' },
    });
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(4096);
    const parsed = JSON.parse(body);
    expect(parsed.Reason).toBe('line one line two');
    expect(ids.startsWith(parsed.Data.InvalidationIds)).toBe(true);
    expect(parsed.Data.InvalidationIds.split(',').length).toBeGreaterThan(100);
  });
});
