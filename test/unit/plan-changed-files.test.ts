/**
 * Planning a changedFiles Invalidation's request (lambda/invalidation/plan.ts): pure, no I/O.
 */
import { createHash } from 'crypto';
import { inputsHash, parseProperties, planRequest, withPaths } from '../../lambda/invalidation/plan';
import type { CloudFormationRequest } from '../../lambda/invalidation/protocol';
import { invalidationProperties, invalidationRequest } from '../support/requests';

const BASE = invalidationProperties({ DistributionId: 'E1', Trigger: ['t'] });
const CHANGED = { ManifestBucket: 'assets', ManifestKey: 'a.invalidation-manifest', OriginPath: '', Root: '/', IndexDocument: 'index.html', MaxPaths: '3000' };

/** A request of the given type with these properties; an Update names the old ones. */
function request(type: 'Create' | 'Update' | 'Delete', props: Record<string, unknown>, old?: Record<string, unknown>): CloudFormationRequest {
  return invalidationRequest({ RequestType: type, ResourceProperties: props, ...(old ? { OldResourceProperties: old, PhysicalResourceId: 'p' } : {}) });
}

describe('planning changedFiles', () => {
  test('an Update names the new manifest and the previous one', () => {
    const plan = planRequest(request('Update', { ...BASE, ChangedFiles: { ...CHANGED, ManifestKey: 'b.invalidation-manifest' } }, { ...BASE, ChangedFiles: CHANGED }));
    expect(plan).toMatchObject({
      action: 'invalidate',
      changedFiles: {
        current: { manifest: { bucket: 'assets', key: 'b.invalidation-manifest' }, settings: { root: '/', indexDocument: 'index.html', maxPaths: 3000, originPath: '' } },
        previous: { bucket: 'assets', key: 'a.invalidation-manifest' },
      },
    });
  });

  test('a new manifest alone is a change; the same manifest is not', () => {
    expect(planRequest(request('Update', { ...BASE, ChangedFiles: CHANGED }, { ...BASE, ChangedFiles: CHANGED })).action).toBe('none');
    expect(planRequest(request('Update', { ...BASE, ChangedFiles: { ...CHANGED, ManifestKey: 'c' } }, { ...BASE, ChangedFiles: CHANGED })).action).toBe('invalidate');
  });

  test('a Create has no previous manifest; a Delete reads none', () => {
    expect(planRequest(request('Create', { ...BASE, ChangedFiles: CHANGED }))).toMatchObject({ changedFiles: { previous: undefined } });
    const deleted = planRequest({ ...request('Delete', { ...BASE, ChangedFiles: CHANGED }), PhysicalResourceId: 'p' });
    expect(deleted).not.toHaveProperty('changedFiles');
  });

  test('without ChangedFiles the inputs hash as before it existed', () => {
    const { inputs } = parseProperties(BASE);
    expect(inputsHash(inputs)).toBe(createHash('sha256').update(JSON.stringify(['E1', null, ['/*'], ['t']])).digest('hex'));
  });

  test.each([
    [{ ...CHANGED, Root: 'static/' }, /ChangedFiles.Root "static\/" must start and end with '\/'/],
    [{ ...CHANGED, MaxPaths: '0' }, /ChangedFiles.MaxPaths "0"/],
    [{ ...CHANGED, ManifestKey: '' }, /ChangedFiles.ManifestKey must be a non-empty string/],
  ])('refuses bad ChangedFiles %#', (changed, message) => {
    expect(() => parseProperties({ ...BASE, ChangedFiles: changed as never })).toThrow(message);
  });

  test('withPaths re-batches the job, and gives no batch for no path', () => {
    const plan = planRequest(request('Create', { ...BASE, ChangedFiles: CHANGED }));
    if (plan.action !== 'invalidate') {
      throw new Error('expected a job');
    }
    expect(withPaths(plan.job, ['/a', '/b']).batches).toEqual([{ number: 1, paths: ['/a', '/b'] }]);
    expect(withPaths(plan.job, []).batches).toEqual([]);
    // The paths chosen are part of the reference: the same paths, the same reference; others, another.
    expect(withPaths(plan.job, ['/a', '/b']).reference).toBe(withPaths(plan.job, ['/a', '/b']).reference);
    expect(withPaths(plan.job, ['/a', '/b']).reference).toMatch(new RegExp(`^${plan.job.reference}-p[0-9a-f]{8}$`));
    expect(withPaths(plan.job, ['/*']).reference).not.toBe(withPaths(plan.job, ['/a', '/b']).reference);
  });
});
