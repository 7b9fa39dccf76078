/**
 * Reading a changedFiles deployment's manifests (lambda/invalidation/manifests.ts), through the
 * fake Runtime's S3.
 */
import { MANIFEST_READ_LIMIT_MS } from '../../../lambda/invalidation/budgets';
import { changedFilesPlan } from '../../../lambda/invalidation/manifests';
import type { ChangedFiles, ManifestLocation } from '../../../lambda/invalidation/plan';
import type { FileManifest } from '../../../src/shared/file-manifest';
import { MANIFEST_FORMAT, renderManifest } from '../../../src/shared/file-manifest';
import { awsError, FakeRuntime } from '../../support/fake-runtime';

const BUCKET = 'assets-bucket';
const NEW: ManifestLocation = { bucket: BUCKET, key: 'new.invalidation-manifest' };
const OLD: ManifestLocation = { bucket: BUCKET, key: 'old.invalidation-manifest' };
const CURRENT: ChangedFiles = { manifest: NEW, settings: { originPath: '', root: '/', maxPaths: 100 } };
const DEADLINE_MS = 10 * 60_000;

function manifest(files: Array<[string, string]>): FileManifest {
  return { format: MANIFEST_FORMAT, settings: 's1', unknown: '', files };
}

function store(fake: FakeRuntime, location: ManifestLocation, text: string): void {
  fake.objects.set(`${location.bucket}/${location.key}`, text);
}

describe('choosing a changedFiles deploy\'s paths', () => {
  test('purges the objects that changed between the previous manifest and the new one', async () => {
    const fake = new FakeRuntime();
    store(fake, OLD, renderManifest(manifest([['index.html', 'h1'], ['app.js', 'h2'], ['gone.css', 'h3']])));
    store(fake, NEW, renderManifest(manifest([['index.html', 'h1'], ['app.js', 'h2-new']])));
    const plan = await changedFilesPlan(fake.invocation(), { current: CURRENT, previous: OLD }, fake.now() + DEADLINE_MS);
    expect(plan.paths).toEqual(['/app.js', '/gone.css']);
    expect(fake.callsOf('readObject').map((c) => c.args[1])).toEqual([NEW.key, OLD.key]);
  });

  test('the same manifest twice (nothing deployed changed) purges nothing, read once', async () => {
    const fake = new FakeRuntime();
    store(fake, NEW, renderManifest(manifest([['index.html', 'h1']])));
    const plan = await changedFilesPlan(fake.invocation(), { current: CURRENT, previous: NEW }, fake.now() + DEADLINE_MS);
    expect(plan.paths).toEqual([]);
    expect(fake.callsOf('readObject')).toHaveLength(1);
  });

  test('a first deploy, with no previous manifest, purges the whole prefix', async () => {
    const fake = new FakeRuntime();
    store(fake, NEW, renderManifest(manifest([['index.html', 'h1']])));
    const plan = await changedFilesPlan(fake.invocation(), { current: CURRENT }, fake.now() + DEADLINE_MS);
    expect(plan).toMatchObject({ paths: ['/*'], note: expect.stringContaining('there is no earlier manifest') });
  });

  test('a new manifest that cannot be read (AccessDenied: gone, or not allowed) purges the whole prefix at once, naming it and the code', async () => {
    const fake = new FakeRuntime();
    const plan = await changedFilesPlan(fake.invocation(), { current: CURRENT, previous: OLD }, fake.now() + DEADLINE_MS);
    expect(plan).toEqual({ paths: ['/*'], note: `purged /*: the new manifest s3://${BUCKET}/${NEW.key} could not be read (AccessDenied)` });
    expect(fake.sleeps).toEqual([]);
    expect(fake.logged('could not read a manifest')).toHaveLength(1);
  });

  test('a previous manifest removed by cdk gc purges the whole prefix, and says so', async () => {
    const fake = new FakeRuntime();
    store(fake, NEW, renderManifest(manifest([['index.html', 'h1']])));
    const plan = await changedFilesPlan(fake.invocation(), { current: CURRENT, previous: OLD }, fake.now() + DEADLINE_MS);
    expect(plan.paths).toEqual(['/*']);
    expect(plan.note).toContain(`the previous manifest s3://${BUCKET}/${OLD.key} could not be read (AccessDenied) (assets removed by cdk gc cannot be read)`);
  });

  test('throttling and 5xx are retried with growing pauses, and the manifest read in the end', async () => {
    const fake = new FakeRuntime();
    store(fake, NEW, renderManifest(manifest([['index.html', 'h1']])));
    fake.script('readObject', { error: awsError('SlowDown', 503) }, { error: awsError('InternalError', 500) });
    const plan = await changedFilesPlan(fake.invocation(), { current: CURRENT, previous: NEW }, fake.now() + DEADLINE_MS);
    expect(plan.paths).toEqual([]);
    expect(fake.sleeps).toEqual([1000, 2000]);
  });

  test(`errors that may pass are retried for at most ${MANIFEST_READ_LIMIT_MS / 1000} s, then the whole prefix is purged`, async () => {
    const fake = new FakeRuntime();
    fake.always('readObject', { error: awsError('ServiceUnavailable', 503) });
    const started = fake.now();
    const plan = await changedFilesPlan(fake.invocation(), { current: CURRENT }, fake.now() + DEADLINE_MS);
    expect(plan.note).toBe(`purged /*: the new manifest s3://${BUCKET}/${NEW.key} could not be read (ServiceUnavailable)`);
    expect(fake.now() - started).toBe(MANIFEST_READ_LIMIT_MS);
  });

  test('a manifest that is not one this handler reads purges the whole prefix, saying what is wrong', async () => {
    const fake = new FakeRuntime();
    store(fake, NEW, 'not json');
    const plan = await changedFilesPlan(fake.invocation(), { current: CURRENT }, fake.now() + DEADLINE_MS);
    expect(plan.note).toMatch(new RegExp(`^purged /\\*: the new manifest s3://${BUCKET}/${NEW.key} could not be read: the manifest is not JSON`));
    expect(fake.callsOf('readObject')).toHaveLength(1);
  });
});
