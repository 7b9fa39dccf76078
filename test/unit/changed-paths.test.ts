/**
 * Planning the paths of a changedFiles Invalidation from two manifests
 * (lambda/invalidation/changed-paths.ts), and the manifest's text (src/shared/file-manifest.ts):
 * pure, no I/O.
 */
import { planChangedFiles, viewerPath } from '../../lambda/invalidation/changed-paths';
import type { FileManifest } from '../../src/shared/file-manifest';
import { parseManifest, renderManifest } from '../../src/shared/file-manifest';

describe('planChangedFiles', () => {
  const manifest = (files: Array<[string, string]>, extra: Partial<FileManifest> = {}): FileManifest => ({ format: 1, settings: 's', unknown: '', files, ...extra });
  const site = (n: number) => Array.from({ length: n }, (_, i): [string, string] => [`dir-${i % 10}/page-${i}.html`, `h${i}`]);
  const settings = { originPath: '', root: '/', maxPaths: 3000 };

  test('one changed file of 500 purges exactly its path', () => {
    const before = manifest(site(500));
    const after = manifest(site(500).map(([k, h]) => [k, k === 'dir-3/page-213.html' ? 'new' : h]));
    expect(planChangedFiles(before, after, settings)).toEqual({
      paths: ['/dir-3/page-213.html'], changedObjects: 1, overInvalidated: 0, note: '1 of 500 objects added, changed or deleted: 1 path(s)',
    });
  });

  test('added and deleted files are purged too', () => {
    const plan = planChangedFiles(manifest([['a', '1'], ['b', '1']]), manifest([['b', '1'], ['c', '1']]), settings);
    expect(plan.paths).toEqual(['/a', '/c']);
  });

  test('a changed index document purges its directory path too', () => {
    const plan = planChangedFiles(manifest([['index.html', '1'], ['docs/index.html', '1'], ['docs/a.html', '1']]),
      manifest([['index.html', '2'], ['docs/index.html', '2'], ['docs/a.html', '1']]), { ...settings, indexDocument: 'index.html' });
    expect(plan.paths).toEqual(['/', '/docs/', '/docs/index.html', '/index.html']);
  });

  test('maps keys through the origin path, and URL-encodes what CloudFront wants encoded', () => {
    expect(viewerPath('site/a b.html', 'site')).toBe('/a b.html');
    expect(viewerPath('other/a.html', 'site')).toBeUndefined();
    const plan = planChangedFiles(manifest([['site/a b.html', '1']]), manifest([['site/a b.html', '2']]), { ...settings, originPath: 'site' });
    expect(plan.paths).toEqual(['/a%20b.html']);
    // A key's '%' and '?' are part of its name: a viewer asks for them encoded.
    const odd = [['docs/a%20b.html', '1'], ['docs/q?x.html', '1'], ['docs/50%off.html', '1']] as Array<[string, string]>;
    const changed = planChangedFiles(manifest(odd), manifest(odd.map(([k]) => [k, '2'])), settings);
    expect(changed.paths).toEqual(['/docs/50%25off.html', '/docs/a%2520b.html', '/docs/q%3Fx.html']);
  });

  test('4000 changed of 10,000 go out within 3000 paths, every changed file covered', () => {
    const files = Array.from({ length: 10_000 }, (_, i): [string, string] => [`s${i % 40}/g${Math.floor(i / 40) % 25}/p${i}.html`, 'a']);
    const after = files.map(([k], i): [string, string] => [k, i % 5 < 2 ? 'b' : 'a']);
    const plan = planChangedFiles(manifest(files), manifest(after), settings);
    expect(plan.paths.length).toBeLessThanOrEqual(3000);
    expect(plan.changedObjects).toBe(4000);
    const covered = (p: string) => plan.paths.some((q) => q === p || (q.endsWith('*') && p.startsWith(q.slice(0, -1))));
    expect(after.filter(([, h]) => h === 'b').every(([k]) => covered(`/${k}`))).toBe(true);
  });

  test.each([
    ['no previous manifest', undefined, manifest([['a', '1']]), 'purged /static/*: there is no earlier manifest'],
    ['other object settings', manifest([['a', '1']], { settings: 'x' }), manifest([['a', '1']]), 'object settings'],
    ['a source known only at deploy time', manifest([['a', '1']]), manifest([['a', '1']], { unknown: 'source 2 is not a local asset' }), 'source 2'],
  ])('purges the whole prefix with %s, and says why', (_, before, after, why) => {
    const plan = planChangedFiles(before, after, { ...settings, root: '/static/' });
    expect(plan.paths).toEqual(['/static/*']);
    expect(plan.note).toContain(why);
  });

  test('a deploy-time source is purged on every deploy; nothing changed purges nothing', () => {
    expect(planChangedFiles(manifest([['a', ''], ['b', '1']]), manifest([['a', ''], ['b', '1']]), settings).paths).toEqual(['/a']);
    expect(planChangedFiles(manifest([['b', '1']]), manifest([['b', '1']]), settings)).toMatchObject({ paths: [], note: expect.stringContaining('nothing to purge') });
  });

  test('round-trips through its JSON text, and refuses what is not a manifest', () => {
    const m = manifest([['b', '2'], ['a', '1']]);
    expect(parseManifest(renderManifest(m)).files).toEqual([['a', '1'], ['b', '2']]);
    expect(() => parseManifest('{"format":2}')).toThrow(/format 1/);
    expect(() => parseManifest('nope')).toThrow(/not JSON/);
  });
});
