/**
 * Recalling the invalidations an earlier request made for the inputs now deployed
 * (lambda/invalidation/recall.ts), through the fake Runtime.
 */
import type { Target } from '../../../lambda/invalidation/plan';
import { NOTHING_RECALLED, recall, RECALL_LOOKUPS } from '../../../lambda/invalidation/recall';
import { awsError, FakeRuntime } from '../../support/fake-runtime';

const SITE: Target = { distributionId: 'E1SITE' };
const PREFIX = 'inputs0123456789';

describe('recalling earlier invalidations', () => {
  test('finds the most recent earlier request with the same inputs by its CallerReference, its ids in batch order', async () => {
    const fake = new FakeRuntime();
    fake.seed(SITE, 'otherinputs00000-oldest-1', ['/z']);
    fake.seed(SITE, `${PREFIX}-olderrequest-1`, ['/a']);
    const second = fake.seed(SITE, `${PREFIX}-latestrequest-2`, ['/b']);
    const first = fake.seed(SITE, `${PREFIX}-latestrequest-1`, ['/a']);
    const found = await recall(fake, { target: SITE, prefix: PREFIX }, fake.now() + 30_000);
    expect(found).toEqual({ ids: `${first.id},${second.id}`, callerReference: `${PREFIX}-latestrequest` });
    // It stops at the first invalidation of another request once it found some.
    expect(fake.callsOf('get')).toHaveLength(3);
    expect(fake.logged('recalled earlier invalidations')).toEqual([{ found: 2 }]);
  });

  test('skips the invalidations of other inputs that came after, and of other targets', async () => {
    const fake = new FakeRuntime();
    const mine = fake.seed(SITE, `${PREFIX}-req-1`, ['/a']);
    fake.seed(SITE, 'otherinputs00000-req-1', ['/x']);
    fake.seed({ distributionId: 'E2OTHER' }, `${PREFIX}-newer-1`, ['/a']);
    expect(await recall(fake, { target: SITE, prefix: PREFIX }, fake.now() + 30_000)).toEqual({ ids: mine.id, callerReference: `${PREFIX}-req` });
  });

  test(`looks only among the ${RECALL_LOOKUPS} newest invalidations of the target: older ones come back empty`, async () => {
    const fake = new FakeRuntime();
    fake.seed(SITE, `${PREFIX}-req-1`, ['/a']);
    for (let i = 0; i < RECALL_LOOKUPS; i++) {
      fake.seed(SITE, `later-${i}-1`, ['/b']);
    }
    expect(await recall(fake, { target: SITE, prefix: PREFIX }, fake.now() + 30_000)).toEqual(NOTHING_RECALLED);
    expect(fake.callsOf('get')).toHaveLength(RECALL_LOOKUPS);
    expect(fake.callsOf('list').map((c) => c.args[1])).toEqual([1]);
  });

  test('answers nothing, and logs why, when CloudFront cannot be read: the answer does not wait for a courtesy', async () => {
    const fake = new FakeRuntime();
    fake.seed(SITE, `${PREFIX}-req-1`, ['/a']);
    fake.script('get', { error: awsError('Throttling', 400) });
    expect(await recall(fake, { target: SITE, prefix: PREFIX }, fake.now() + 30_000)).toEqual(NOTHING_RECALLED);
    expect(fake.callsOf('get')).toHaveLength(1);
    expect(fake.sleeps).toEqual([]);
    expect(fake.logged('could not recall earlier invalidations')).toEqual([{ error: 'Throttling' }]);
  });
});
